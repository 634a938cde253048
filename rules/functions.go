package rules

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/idbridge/idbridge/internal/adcodec"
)

// identityLibrary declares the identity functions of rule expressions;
// see the package documentation for the list.
func identityLibrary() cel.EnvOption { return cel.Lib(identityLib{}) }

type identityLib struct{}

func (identityLib) ProgramOptions() []cel.ProgramOption { return nil }

func (identityLib) CompileOptions() []cel.EnvOption {
	T := cel.TypeParamType("T")
	str, byt, num, boolean := cel.StringType, cel.BytesType, cel.IntType, cel.BoolType
	unary := func(f func(ref.Val) ref.Val) cel.OverloadOpt { return cel.UnaryBinding(f) }
	binary := func(f func(a, b ref.Val) ref.Val) cel.OverloadOpt { return cel.BinaryBinding(f) }
	constant := func(v ref.Val) cel.OverloadOpt {
		return cel.FunctionBinding(func(...ref.Val) ref.Val { return v })
	}
	return []cel.EnvOption{
		cel.Function("guidString", cel.Overload("guidString_bytes", []*cel.Type{byt}, str, unary(guidString))),
		cel.Function("sidString", cel.Overload("sidString_bytes", []*cel.Type{byt}, str, unary(sidString))),
		cel.Function("guidBytes", cel.Overload("guidBytes_string", []*cel.Type{str}, byt, unary(guidBytes))), // adbytes.go
		cel.Function("sidBytes", cel.Overload("sidBytes_string", []*cel.Type{str}, byt, unary(sidBytes))),
		cel.Function("base64", cel.Overload("base64_bytes", []*cel.Type{byt}, str, unary(toBase64))),
		cel.Function("convertToBase64",
			cel.Overload("convertToBase64_bytes", []*cel.Type{byt}, str, unary(toBase64)),
			cel.Overload("convertToBase64_string", []*cel.Type{str}, str, unary(toBase64))),
		cel.Function("bitAnd", cel.Overload("bitAnd_int_int", []*cel.Type{num, num}, num, binary(func(a, b ref.Val) ref.Val {
			return a.(types.Int) & b.(types.Int)
		}))),
		cel.Function("bitOr", cel.Overload("bitOr_int_int", []*cel.Type{num, num}, num, binary(func(a, b ref.Val) ref.Val {
			return a.(types.Int) | b.(types.Int)
		}))),
		cel.Function("isBitSet", cel.Overload("isBitSet_int_int", []*cel.Type{num, num}, boolean, binary(func(a, b ref.Val) ref.Val {
			v, flag := a.(types.Int), b.(types.Int)
			return types.Bool(flag != 0 && v&flag == flag)
		}))),
		cel.Function("dnComponent", cel.Overload("dnComponent_string_int", []*cel.Type{str, num}, str, binary(func(a, b ref.Val) ref.Val {
			return types.String(dnComponentOf(string(a.(types.String)), int(b.(types.Int))))
		}))),
		cel.Function("dnComponentRev", cel.Overload("dnComponentRev_string_int", []*cel.Type{str, num}, str, binary(func(a, b ref.Val) ref.Val {
			rdns := splitDN(string(a.(types.String)))
			n := int(b.(types.Int))
			if n < 1 || n > len(rdns) {
				return types.String("")
			}
			return types.String(rdnValue(rdns[len(rdns)-n]))
		}))),
		cel.Function("escapeRDN", cel.Overload("escapeRDN_string", []*cel.Type{str}, str, unary(func(a ref.Val) ref.Val {
			return types.String(escapeRDNValue(string(a.(types.String))))
		}))),
		cel.Function("rdn", cel.Overload("rdn_string_string", []*cel.Type{str, str}, str, binary(func(a, b ref.Val) ref.Val {
			attr := string(a.(types.String))
			if !rdnAttr.MatchString(attr) {
				return types.NewErr("rdn: %q is not an attribute name", attr)
			}
			return types.String(attr + "=" + escapeRDNValue(string(b.(types.String))))
		}))),
		cel.Function("dnParent", cel.Overload("dnParent_string", []*cel.Type{str}, str, unary(func(a ref.Val) ref.Val {
			return types.String(dnParentOf(string(a.(types.String))))
		}))),
		cel.Function("fileTimeToTime", cel.Overload("fileTimeToTime_int", []*cel.Type{num}, cel.TimestampType, unary(func(a ref.Val) ref.Val {
			return types.Timestamp{Time: fileTimeToTime(int64(a.(types.Int)))}
		}))),
		cel.Function("coalesce", cel.Overload("coalesce_list", []*cel.Type{cel.ListType(T)}, T, unary(coalesce))),
		cel.Function("Null", cel.Overload("rules_null", nil, T, constant(types.NullValue))),
		cel.Function("AuthoritativeNull", cel.Overload("rules_authoritative_null", nil, T, constant(special{AuthoritativeNull}))),
		cel.Function("IgnoreThisFlow", cel.Overload("rules_ignore_this_flow", nil, T, constant(special{IgnoreThisFlow}))),
	}
}

// special is the value of AuthoritativeNull() and IgnoreThisFlow().
type special struct{ kind NullKind }

var specialType = types.NewOpaqueType("rules.special")

func (s special) ConvertToNative(t reflect.Type) (any, error) {
	return nil, fmt.Errorf("%s cannot be converted to %v", s.kind, t)
}
func (s special) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return specialType
	}
	return types.NewErr("%s cannot be converted to %s", s.kind, t.TypeName())
}
func (s special) Equal(other ref.Val) ref.Val { return types.Bool(other == ref.Val(s)) }
func (s special) Type() ref.Type              { return specialType }
func (s special) Value() any                  { return s.kind }

func guidString(v ref.Val) ref.Val {
	b := []byte(v.(types.Bytes))
	if len(b) != 16 {
		return types.NewErr("guidString: %d bytes, want 16", len(b))
	}
	return types.String(formatGUID(b))
}

// formatGUID formats a 16-byte GUID in Active Directory's mixed-endian
// layout (the first three groups little-endian), as
// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
func formatGUID(b []byte) string { return adcodec.GUIDString(b) }

func sidString(v ref.Val) ref.Val {
	s, err := formatSID([]byte(v.(types.Bytes)))
	if err != nil {
		return types.NewErrFromString(err.Error())
	}
	return types.String(s)
}

// formatSID formats a binary security identifier as "S-1-5-21-…".
func formatSID(b []byte) (string, error) {
	if len(b) < 8 || len(b) != 8+4*int(b[1]) {
		return "", fmt.Errorf("sidString: %d bytes is not a valid SID", len(b))
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var sb strings.Builder
	sb.WriteString("S-")
	sb.WriteString(strconv.Itoa(int(b[0])))
	sb.WriteString("-")
	sb.WriteString(strconv.FormatUint(auth, 10))
	for i := 8; i < len(b); i += 4 {
		sb.WriteString("-")
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[i:])), 10))
	}
	return sb.String(), nil
}

func toBase64(v ref.Val) ref.Val {
	switch b := v.(type) {
	case types.Bytes:
		return types.String(base64.StdEncoding.EncodeToString(b))
	case types.String:
		return types.String(base64.StdEncoding.EncodeToString([]byte(b)))
	}
	return types.MaybeNoSuchOverloadErr(v)
}

// rdnAttr is an attribute type of an RDN: a name (RFC 4512 descr) or an
// OID.
var rdnAttr = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)$`)

// escapeRDNValue escapes s for use as an attribute value in an RDN, as
// RFC 4514 section 2.4 says: a backslash before each of " + , ; < > \, a
// leading '#' or space and a trailing space, and NUL as \00. The result
// always reads back as the one value s: "Mallory,ou=admins" cannot add an
// RDN, nor "x+uid=root" a second value to this one.
func escapeRDNValue(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0:
			b.WriteString(`\00`)
			continue
		case strings.IndexByte(`"+,;<>\`, c) >= 0,
			i == 0 && (c == '#' || c == ' '),
			i == len(s)-1 && c == ' ':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// splitDN splits a DN into its RDNs, honouring backslash escapes.
func splitDN(dn string) []string {
	var rdns []string
	start := 0
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',', ';':
			rdns = append(rdns, strings.TrimSpace(dn[start:i]))
			start = i + 1
		}
	}
	if s := strings.TrimSpace(dn[start:]); s != "" || len(rdns) > 0 {
		rdns = append(rdns, s)
	}
	return rdns
}

// rdnValue returns the value of an RDN ("CN=Doe\, John" → "Doe, John").
func rdnValue(rdn string) string {
	_, v, ok := strings.Cut(rdn, "=")
	if !ok {
		return ""
	}
	v = strings.TrimSpace(v)
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
			if i+1 < len(v) && isHex(v[i]) && isHex(v[i+1]) {
				n, _ := strconv.ParseUint(v[i:i+2], 16, 8)
				b.WriteByte(byte(n))
				i++
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// dnComponentOf returns the unescaped value of the n-th RDN of dn, counting
// from 1 at the left, like Entra Connect's DNComponent:
// dnComponentOf("CN=Doe\, John,OU=Sales,DC=contoso,DC=com", 2) is "Sales".
// It returns "" when there is no such RDN.
func dnComponentOf(dn string, n int) string {
	rdns := splitDN(dn)
	if n < 1 || n > len(rdns) {
		return ""
	}
	return rdnValue(rdns[n-1])
}

// dnParentOf returns dn without its first RDN ("" for a one-RDN DN).
func dnParentOf(dn string) string {
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',', ';':
			return strings.TrimSpace(dn[i+1:])
		}
	}
	return ""
}

// fileTimeEpoch is 1601-01-01T00:00:00Z in Unix seconds.
const fileTimeEpoch = -11644473600

// never is what fileTimeToTime returns for Active Directory's "never"
// values (0 and 0x7FFFFFFFFFFFFFFF) and for times past the range of CEL
// timestamps: 9999-12-31T23:59:59Z.
var never = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// fileTimeToTime converts a Windows FILETIME (100-nanosecond intervals
// since 1601-01-01 UTC, as in accountExpires, pwdLastSet,
// lastLogonTimestamp) to a time. 0, negative values and
// 0x7FFFFFFFFFFFFFFF give never.
func fileTimeToTime(ft int64) time.Time {
	if ft <= 0 || ft == math.MaxInt64 {
		return never
	}
	t := time.Unix(fileTimeEpoch+ft/1e7, (ft%1e7)*100).UTC()
	if t.After(never) {
		return never
	}
	return t
}

// coalesce returns the first element of a list that is not null, not an
// empty string and not empty bytes; null when there is none.
func coalesce(v ref.Val) ref.Val {
	l, ok := v.(traits.Lister)
	if !ok {
		return types.MaybeNoSuchOverloadErr(v)
	}
	it := l.Iterator()
	for it.HasNext() == types.True {
		e := it.Next()
		switch x := e.(type) {
		case types.Null:
			continue
		case types.String:
			if x == "" {
				continue
			}
		case types.Bytes:
			if len(x) == 0 {
				continue
			}
		}
		return e
	}
	return types.NullValue
}
