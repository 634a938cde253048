package connector

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"
)

// AttrType is the type of an attribute's values.
type AttrType uint8

// Attribute types. The zero AttrType is invalid.
const (
	String    AttrType = iota + 1 // UTF-8 text
	Bytes                         // opaque octets (objectGUID, objectSid, jpegPhoto)
	Integer                       // signed 64-bit integer
	Boolean                       // true or false
	Time                          // an instant, kept with nanosecond precision in UTC
	Reference                     // a reference to another object of the same connector space (member, manager)
)

var attrTypeNames = [...]string{"", "string", "bytes", "integer", "boolean", "time", "reference"}

// String returns the lower-case name used in schemas and rule files.
func (t AttrType) String() string {
	if int(t) < len(attrTypeNames) && t != 0 {
		return attrTypeNames[t]
	}
	return "AttrType(" + strconv.Itoa(int(t)) + ")"
}

// ParseAttrType parses the name returned by AttrType.String.
func ParseAttrType(s string) (AttrType, error) {
	for i, n := range attrTypeNames {
		if i > 0 && n == s {
			return AttrType(i), nil
		}
	}
	return 0, fmt.Errorf("connector: unknown attribute type %q", s)
}

// MarshalText implements encoding.TextMarshaler.
func (t AttrType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *AttrType) UnmarshalText(b []byte) error {
	v, err := ParseAttrType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Value is one typed value of an attribute. The zero Value is invalid
// (IsZero reports true). Values are small, immutable and comparable with ==:
// two Values are equal when they have the same type and content. A Reference
// compares by anchor and DN both; use SameReference to compare by target.
type Value struct {
	typ AttrType
	str string // String text, Bytes octets, Reference anchor
	dn  string // Reference: DN of the target as the connector saw it
	num int64  // Integer, Boolean (0/1), Time (Unix nanoseconds, UTC)
}

// StringValue returns a String value.
func StringValue(s string) Value { return Value{typ: String, str: s} }

// BytesValue returns a Bytes value holding a copy of b.
func BytesValue(b []byte) Value { return Value{typ: Bytes, str: string(b)} }

// IntValue returns an Integer value.
func IntValue(i int64) Value { return Value{typ: Integer, num: i} }

// BoolValue returns a Boolean value.
func BoolValue(b bool) Value {
	v := Value{typ: Boolean}
	if b {
		v.num = 1
	}
	return v
}

// TimeValue returns a Time value. The location is dropped (UTC).
func TimeValue(t time.Time) Value { return Value{typ: Time, num: t.UnixNano()} }

// RefValue returns a Reference to the object with the given anchor. dn is the
// target's DN when the connector knows it, else empty. A connector that knows
// only the DN (LDAP's member) passes an empty anchor: the engine resolves the
// DN to an anchor through the connector space when it stages the object.
func RefValue(anchor Anchor, dn string) Value {
	return Value{typ: Reference, str: string(anchor), dn: dn}
}

// Type returns the value's type.
func (v Value) Type() AttrType { return v.typ }

// IsZero reports whether v is the invalid zero Value.
func (v Value) IsZero() bool { return v.typ == 0 }

// Str returns the text of a String value, or "" for other types.
func (v Value) Str() string {
	if v.typ == String {
		return v.str
	}
	return ""
}

// Octets returns a copy of a Bytes value's octets, or nil for other types.
func (v Value) Octets() []byte {
	if v.typ == Bytes {
		return []byte(v.str)
	}
	return nil
}

// Int returns an Integer value, or 0 for other types.
func (v Value) Int() int64 {
	if v.typ == Integer {
		return v.num
	}
	return 0
}

// Bool returns a Boolean value, or false for other types.
func (v Value) Bool() bool { return v.typ == Boolean && v.num != 0 }

// Time returns a Time value in UTC, or the zero time for other types.
func (v Value) Time() time.Time {
	if v.typ == Time {
		return time.Unix(0, v.num).UTC()
	}
	return time.Time{}
}

// Ref returns the anchor and DN of a Reference value.
func (v Value) Ref() (Anchor, string) {
	if v.typ == Reference {
		return Anchor(v.str), v.dn
	}
	return "", ""
}

// SameReference reports whether two Reference values point to the same
// object: by anchor when both have one, else by DN (case-insensitively).
func SameReference(a, b Value) bool {
	if a.typ != Reference || b.typ != Reference {
		return false
	}
	if a.str != "" && b.str != "" {
		return a.str == b.str
	}
	return a.dn != "" && FoldDN(a.dn) == FoldDN(b.dn)
}

// Key returns a string that identifies the value's content, for use as a map
// or index key: equal values have equal keys and, within one type, different
// values have different keys. References key by anchor when they have one.
func (v Value) Key() string {
	switch v.typ {
	case String, Bytes:
		return v.str
	case Reference:
		if v.str != "" {
			return v.str
		}
		return "dn:" + FoldDN(v.dn)
	default:
		return strconv.FormatInt(v.num, 10)
	}
}

// String formats the value for people: text as is, bytes in base64, times
// in RFC 3339. It is not a serialization format (see MarshalText).
func (v Value) String() string {
	switch v.typ {
	case String:
		return v.str
	case Bytes:
		return base64.StdEncoding.EncodeToString([]byte(v.str))
	case Integer:
		return strconv.FormatInt(v.num, 10)
	case Boolean:
		return strconv.FormatBool(v.num != 0)
	case Time:
		return v.Time().Format(time.RFC3339Nano)
	case Reference:
		if v.dn != "" {
			return v.dn
		}
		return "<" + v.str + ">"
	}
	return "<invalid>"
}

// Equal reports whether a and b hold the same type and content.
func (v Value) Equal(w Value) bool { return v == w }

// Compare orders values: first by type, then by content. It returns -1, 0 or +1.
func (v Value) Compare(w Value) int {
	if v.typ != w.typ {
		if v.typ < w.typ {
			return -1
		}
		return 1
	}
	switch v.typ {
	case Integer, Boolean, Time:
		switch {
		case v.num < w.num:
			return -1
		case v.num > w.num:
			return 1
		}
		return 0
	case Bytes:
		return bytes.Compare([]byte(v.str), []byte(w.str))
	default:
		if c := compareStrings(v.str, w.str); c != 0 {
			return c
		}
		return compareStrings(v.dn, w.dn)
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
