package connector

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrBadValue is wrapped by the errors of UnmarshalText and UnmarshalJSON
// for input that is not a Value's text or JSON form.
var ErrBadValue = errors.New("connector: malformed value")

// MarshalText implements encoding.TextMarshaler. The text is the type's
// name, a colon and the content, so that it round-trips through
// UnmarshalText with its type:
//
//	string:Ada Lovelace
//	bytes:3q2+7w==                                  (standard base64)
//	integer:512
//	boolean:true
//	time:2026-12-03T16:46:37.5Z                     (RFC 3339, UTC, nanoseconds)
//	reference:"4f1c…" CN=Ada,OU=Staff,DC=example     (quoted anchor, a space, the DN)
//
// A reference without an anchor has "" as its anchor; one without a DN
// ends after the quoted anchor. The zero Value cannot be marshalled.
func (v Value) MarshalText() ([]byte, error) {
	if v.typ < String || v.typ > Reference {
		return nil, fmt.Errorf("%w: marshalling the zero Value", ErrBadValue)
	}
	b := append([]byte(v.typ.String()), ':')
	switch v.typ {
	case String:
		b = append(b, v.str...)
	case Reference:
		b = strconv.AppendQuote(b, v.str)
		if v.dn != "" {
			b = append(b, ' ')
			b = append(b, v.dn...)
		}
	default:
		b = append(b, v.String()...)
	}
	return b, nil
}

// UnmarshalText implements encoding.TextUnmarshaler: it parses the text
// MarshalText returns. Errors wrap ErrBadValue.
func (v *Value) UnmarshalText(text []byte) error {
	name, content, ok := strings.Cut(string(text), ":")
	if !ok {
		return fmt.Errorf("%w: %q has no type prefix (string:, integer:, …)", ErrBadValue, truncate(text))
	}
	typ, err := ParseAttrType(name)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadValue, err)
	}
	w, err := parseValue(typ, content)
	if err != nil {
		return fmt.Errorf("%w: %s value %q: %w", ErrBadValue, typ, truncate([]byte(content)), err)
	}
	*v = w
	return nil
}

func parseValue(typ AttrType, s string) (Value, error) {
	switch typ {
	case String:
		return StringValue(s), nil
	case Bytes:
		b, err := base64.StdEncoding.DecodeString(s)
		return BytesValue(b), err
	case Integer:
		i, err := strconv.ParseInt(s, 10, 64)
		return IntValue(i), err
	case Boolean:
		b, err := strconv.ParseBool(s)
		return BoolValue(b), err
	case Time:
		t, err := time.Parse(time.RFC3339Nano, s)
		return TimeValue(t), err
	default: // Reference
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return Value{}, errors.New("the anchor must be a quoted string")
		}
		anchor, _ := strconv.Unquote(q)
		dn := s[len(q):]
		if dn != "" {
			var ok bool
			if dn, ok = strings.CutPrefix(dn, " "); !ok || dn == "" {
				return Value{}, errors.New("a space and a DN must follow the anchor")
			}
		}
		return RefValue(Anchor(anchor), dn), nil
	}
}

// valueJSON is a Value's JSON form.
type valueJSON struct {
	Type   AttrType `json:"type"`
	Value  any      `json:"value,omitempty"`
	Anchor string   `json:"anchor,omitempty"`
	DN     string   `json:"dn,omitempty"`
}

// MarshalJSON implements json.Marshaler: an object with the type's name and
// the content as JSON has it, so that a marshalled Attributes reads as
//
//	{"cn":[{"type":"string","value":"Ada"}],
//	 "employeeNumber":[{"type":"integer","value":512}],
//	 "manager":[{"type":"reference","anchor":"4f1c…","dn":"CN=Grace,OU=Staff"}]}
//
// Bytes are standard base64 and times RFC 3339 strings, as in MarshalText;
// integers are JSON numbers (exact up to 2^53 in most JSON readers, and in
// UnmarshalJSON always). JSON holds only UTF-8 text, so a String value, an
// anchor or a DN that is not valid UTF-8 fails with ErrBadValue rather
// than come back changed; so does the zero Value.
func (v Value) MarshalJSON() ([]byte, error) {
	if !utf8.ValidString(v.str) || !utf8.ValidString(v.dn) {
		if v.typ == String || v.typ == Reference {
			return nil, fmt.Errorf("%w: a %s value that is not UTF-8 has no JSON form", ErrBadValue, v.typ)
		}
	}
	j := valueJSON{Type: v.typ}
	switch v.typ {
	case String:
		j.Value = v.str
	case Bytes, Time:
		j.Value = v.String()
	case Integer:
		j.Value = v.num
	case Boolean:
		j.Value = v.num != 0
	case Reference:
		j.Anchor, j.DN = v.str, v.dn
	default:
		return nil, fmt.Errorf("%w: marshalling the zero Value", ErrBadValue)
	}
	return json.Marshal(j)
}

// UnmarshalJSON implements json.Unmarshaler: it parses the form
// MarshalJSON writes. Errors wrap ErrBadValue.
func (v *Value) UnmarshalJSON(b []byte) error {
	var j struct {
		Type   AttrType        `json:"type"`
		Value  json.RawMessage `json:"value"`
		Anchor string          `json:"anchor"`
		DN     string          `json:"dn"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%w: %w", ErrBadValue, err)
	}
	if j.Type == Reference {
		*v = RefValue(Anchor(j.Anchor), j.DN)
		return nil
	}
	if j.Type == 0 {
		return fmt.Errorf("%w: %s has no type", ErrBadValue, truncate(b))
	}
	var err error
	var w Value
	switch j.Type {
	case Integer:
		var i int64
		err = json.Unmarshal(j.Value, &i)
		w = IntValue(i)
	case Boolean:
		var x bool
		err = json.Unmarshal(j.Value, &x)
		w = BoolValue(x)
	default: // String, Bytes, Time: a JSON string
		var s string
		if err = json.Unmarshal(j.Value, &s); err == nil {
			w, err = parseValue(j.Type, s)
		}
	}
	if len(j.Value) == 0 {
		err = errors.New("no value")
	}
	if err != nil {
		return fmt.Errorf("%w: %s value %s: %w", ErrBadValue, j.Type, truncate(j.Value), err)
	}
	*v = w
	return nil
}

// truncate keeps error messages short when the input is long.
func truncate(b []byte) []byte {
	const max = 64
	if len(b) > max {
		return append(bytes.Clone(b[:max]), "…"...)
	}
	return b
}
