package ldif

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/internal/adcodec"
)

// parseValue converts an LDIF value to the schema type t.
func parseValue(t connector.AttrType, s string) (connector.Value, error) {
	switch t {
	case connector.String:
		if !utf8.ValidString(s) {
			return connector.Value{}, errors.New("not valid UTF-8")
		}
		return connector.StringValue(s), nil
	case connector.Bytes:
		return connector.BytesValue([]byte(s)), nil
	case connector.Integer:
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return connector.Value{}, fmt.Errorf("%q is not an integer", truncate([]byte(s)))
		}
		return connector.IntValue(i), nil
	case connector.Boolean:
		switch {
		case strings.EqualFold(s, "TRUE"):
			return connector.BoolValue(true), nil
		case strings.EqualFold(s, "FALSE"):
			return connector.BoolValue(false), nil
		}
		return connector.Value{}, fmt.Errorf("%q is not TRUE or FALSE", truncate([]byte(s)))
	case connector.Time:
		tm, err := ParseGeneralizedTime(s)
		if err != nil {
			return connector.Value{}, err
		}
		return connector.TimeValue(tm), nil
	case connector.Reference:
		if !utf8.ValidString(s) || !strings.Contains(s, "=") {
			return connector.Value{}, fmt.Errorf("%q is not a DN", truncate([]byte(s)))
		}
		return connector.RefValue("", s), nil
	}
	return connector.Value{}, fmt.Errorf("unsupported attribute type %v", t)
}

// formatValue returns the LDIF text of v.
func formatValue(v connector.Value) (string, error) {
	switch v.Type() {
	case connector.String:
		return v.Str(), nil
	case connector.Bytes:
		return string(v.Octets()), nil
	case connector.Integer:
		return strconv.FormatInt(v.Int(), 10), nil
	case connector.Boolean:
		if v.Bool() {
			return "TRUE", nil
		}
		return "FALSE", nil
	case connector.Time:
		return FormatGeneralizedTime(v.Time()), nil
	case connector.Reference:
		a, dn := v.Ref()
		if dn == "" {
			return "", fmt.Errorf("reference to <%s> has no DN: LDIF references are DNs", a)
		}
		return dn, nil
	}
	return "", errors.New("invalid value")
}

// ParseGeneralizedTime parses an LDAP GeneralizedTime (RFC 4517):
// YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|±HH[MM]), as in "20240101120000.0Z".
// A fraction applies to the last field given.
func ParseGeneralizedTime(s string) (time.Time, error) { return adcodec.ParseGeneralizedTime(s) }

// FormatGeneralizedTime formats t in UTC as a GeneralizedTime, with as
// many fraction digits as needed ("20240101120000Z", "20240101120000.5Z").
func FormatGeneralizedTime(t time.Time) string { return adcodec.FormatGeneralizedTime(t) }

// GUIDString formats a 16-byte GUID in the mixed-endian text form Active
// Directory shows for objectGUID: the first three fields little-endian.
// Other lengths are formatted in hex.
func GUIDString(b []byte) string { return adcodec.GUIDString(b) }

// ParseGUID is the inverse of GUIDString: it returns the 16 bytes of a
// GUID given in text form.
func ParseGUID(s string) ([]byte, error) { return adcodec.ParseGUID(s) }

// anchorText returns the anchor of an object from the raw LDIF value of its
// anchor attribute, per the attribute's schema type: a 16-byte Bytes value
// is a GUID in AD's text form, other Bytes base64, anything else the text.
func anchorText(t connector.AttrType, raw string) (connector.Anchor, error) {
	if raw == "" {
		return "", errors.New("empty anchor")
	}
	if t == connector.Bytes {
		if len(raw) == 16 {
			return connector.Anchor(GUIDString([]byte(raw))), nil
		}
		return connector.Anchor(base64.StdEncoding.EncodeToString([]byte(raw))), nil
	}
	if !utf8.ValidString(raw) {
		return "", errors.New("anchor is not valid UTF-8")
	}
	return connector.Anchor(raw), nil
}
