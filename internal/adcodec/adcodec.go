// Package adcodec holds the encodings of Active Directory and LDAP values
// that several packages need: objectGUID as text (AD's mixed-endian form)
// and back, the hex form of AD's <GUID=…> DN syntax, and LDAP
// GeneralizedTime. One copy, so that an anchor formatted by the LDAP
// connector, the LDIF connector and a rule's guidString() is the same
// string.
//
// # Errors
//
// The parsers return errors that quote (a prefix of) the input; none is
// matchable, as callers wrap them into their own.
//
// # Concurrency
//
// Every function is safe for concurrent use.
package adcodec

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseGeneralizedTime parses an LDAP GeneralizedTime (RFC 4517):
// YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|±HH[MM]), as in "20240101120000.0Z".
// A fraction applies to the last field given.
func ParseGeneralizedTime(s string) (time.Time, error) {
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("%q is not a GeneralizedTime", truncate(s))
	}
	digits := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	if len(s) < 11 {
		return bad()
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[4:6])
	day, ok3 := digits(s[6:8])
	hour, ok4 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return bad()
	}
	rest := s[10:]
	var minute, sec int
	unit := time.Hour // of the last field, for the fraction
	if len(rest) >= 2 && rest[0] >= '0' && rest[0] <= '9' {
		var ok bool
		if minute, ok = digits(rest[:2]); !ok {
			return bad()
		}
		rest, unit = rest[2:], time.Minute
		if len(rest) >= 2 && rest[0] >= '0' && rest[0] <= '9' {
			if sec, ok = digits(rest[:2]); !ok {
				return bad()
			}
			rest, unit = rest[2:], time.Second
		}
	}
	var frac time.Duration
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 || i > 19 {
			return bad()
		}
		if unit == time.Second {
			// Exact: nanoseconds are the first nine digits.
			d := (rest[1:i] + "000000000")[:9]
			ns, _ := digits(d)
			frac = time.Duration(ns)
		} else {
			f, err := strconv.ParseFloat("0."+rest[1:i], 64)
			if err != nil {
				return bad()
			}
			frac = time.Duration(math.Round(f * float64(unit)))
		}
		rest = rest[i:]
	}
	loc := time.UTC
	switch {
	case rest == "Z":
	case len(rest) == 3 || len(rest) == 5:
		if rest[0] != '+' && rest[0] != '-' {
			return bad()
		}
		hh, ok := digits(rest[1:3])
		mm := 0
		if len(rest) == 5 {
			mm, ok = digits(rest[3:5])
		}
		if !ok || hh > 23 || mm > 59 {
			return bad()
		}
		off := hh*3600 + mm*60
		if rest[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	default:
		return bad()
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return bad()
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc)
	if t.Day() != day {
		return bad() // 31 February
	}
	return t.Add(frac).UTC(), nil
}

// FormatGeneralizedTime formats t in UTC as a GeneralizedTime, with as
// many fraction digits as needed ("20240101120000Z", "20240101120000.5Z").
func FormatGeneralizedTime(t time.Time) string {
	t = t.UTC()
	s := t.Format("20060102150405.999999999")
	return strings.TrimSuffix(s, ".") + "Z"
}

// GUIDString formats a 16-byte GUID in the mixed-endian text form Active
// Directory shows for objectGUID: the first three fields little-endian.
// Other lengths are formatted in hex.
func GUIDString(b []byte) string {
	if len(b) != 16 {
		return hex.EncodeToString(b)
	}
	const hexd = "0123456789abcdef"
	order := [16]int{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15}
	out := make([]byte, 0, 36)
	for i, j := range order {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexd[b[j]>>4], hexd[b[j]&0xf])
	}
	return string(out)
}

// ParseGUID is the inverse of GUIDString: it returns the 16 bytes of a
// GUID given in text form.
func ParseGUID(s string) ([]byte, error) {
	h := strings.ReplaceAll(strings.Trim(s, "{}"), "-", "")
	raw, err := hex.DecodeString(h)
	if err != nil || len(raw) != 16 || len(s) < 32 {
		return nil, fmt.Errorf("%q is not a GUID", s)
	}
	order := [16]int{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15}
	b := make([]byte, 16)
	for i, j := range order {
		b[j] = raw[i]
	}
	return b, nil
}

// HexGUID formats a GUID's octets in wire order as plain hex, for AD's
// <GUID=…> DN syntax.
func HexGUID(b []byte) string { return hex.EncodeToString(b) }

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
