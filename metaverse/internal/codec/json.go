package codec

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idbridge/idbridge/connector"
)

// AttrsJSON returns a JSON projection of attributes, for stores that keep
// them as JSON (PostgreSQL JSONB) to index and query them. Each value is
// one string, a type tag and the value's content as Value.Key compares it:
//
//	{"mail": ["s:ada@example.com"], "uid": ["i:42"], "manager": ["ref:<anchor>"], "photo": ["b:<base64>"]}
//
// with "bool:true", "time:<RFC 3339 UTC>", and "ref:dn:<folded DN>" for a
// reference without an anchor. One string per value keeps a GIN
// jsonb_path_ops index selective (one hash per value). The projection is
// for lookups, not a serialization: text that JSONB cannot hold (NUL,
// invalid UTF-8) is replaced by U+FFFD, the same way in ValueJSON, so
// lookups may return false positives that the caller filters by comparing
// decoded values.
func AttrsJSON(a connector.Attributes) []byte {
	names := make([]string, 0, len(a))
	for k := range a {
		names = append(names, k)
	}
	slices.Sort(names)
	b := make([]byte, 0, 64*len(a)+2)
	b = append(b, '{')
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, n)
		b = append(b, ':', '[')
		for j, v := range a[n] {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, valueText(v))
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// ValueJSON returns a one-element JSON array that a JSONB containment
// query (attrs->'name' @> …) uses to find v.
func ValueJSON(v connector.Value) []byte {
	b := []byte{'['}
	b = appendJSONString(b, valueText(v))
	return append(b, ']')
}

// valueText is the tagged text of one value in the JSON projection.
func valueText(v connector.Value) string {
	switch v.Type() {
	case connector.String:
		return "s:" + v.Str()
	case connector.Bytes:
		return "b:" + base64.StdEncoding.EncodeToString([]byte(v.Key()))
	case connector.Integer:
		return "i:" + strconv.FormatInt(v.Int(), 10)
	case connector.Boolean:
		return "bool:" + strconv.FormatBool(v.Bool())
	case connector.Time:
		return "time:" + v.Time().Format(time.RFC3339Nano)
	case connector.Reference:
		return "ref:" + v.Key() // the anchor, or "dn:" and the folded DN
	}
	return "invalid:"
}

// appendJSONString appends s as a JSON string that PostgreSQL's jsonb
// accepts: NUL and invalid UTF-8 become U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == 0:
			b = append(b, "\uFFFD"...)
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[r>>4], "0123456789abcdef"[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

// JSONName returns the text of an attribute name as AttrsJSON keys it:
// NUL and invalid UTF-8 replaced by U+FFFD.
func JSONName(name string) string {
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "\uFFFD")
	}
	return strings.ReplaceAll(name, "\x00", "\uFFFD")
}
