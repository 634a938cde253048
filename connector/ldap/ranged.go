package ldap

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
)

// Ranged retrieval (MS-ADTS 3.1.1.3.1.3.3): Active Directory returns at
// most MaxValRange values (1,500 by default) of a multi-valued attribute
// per read, named "member;range=0-1499"; the client asks for
// "member;range=1500-2999" and so on until the server answers with a name
// ending in "-*". A group of 100,000 members is read in 67 round trips
// instead of being cut at 1,500.

// defaultRangeSize is the size of the ranges the connector asks for. It is
// Windows' default MaxValRange, so that against Windows and Samba (which
// imposes no range of its own) large attributes are read the same way.
const defaultRangeSize = 1500

// valueRange is a parsed ";range=lo-hi" attribute option.
type valueRange struct {
	base string // the attribute name without the option
	lo   int
	hi   int  // last index returned; meaningless when last
	last bool // "lo-*": no value after these
}

// parseValueRange splits "member;range=0-1499" into its parts. ok is false for
// a name without a range option (or a malformed one, taken as a plain
// name).
func parseValueRange(name string) (r valueRange, ok bool) {
	if strings.IndexByte(name, ';') < 0 {
		return valueRange{base: name}, false // the common case, on every attribute of every entry
	}
	// Folded byte by byte: strings.ToLower would turn a byte that is not
	// UTF-8 into a 3-byte U+FFFD and shift the index off the name.
	i := indexFoldASCII(name, ";range=")
	if i < 0 {
		return valueRange{base: name}, false
	}
	r.base = name[:i]
	lo, hi, found := strings.Cut(name[i+len(";range="):], "-")
	if !found {
		return valueRange{base: name}, false
	}
	var err error
	if r.lo, err = strconv.Atoi(lo); err != nil || r.lo < 0 {
		return valueRange{base: name}, false
	}
	if hi == "*" {
		r.last = true
		return r, true
	}
	if r.hi, err = strconv.Atoi(hi); err != nil || r.hi < r.lo {
		return valueRange{base: name}, false
	}
	return r, true
}

// indexFoldASCII returns the index of the first instance of the lower-case
// ASCII sub in s, matched ignoring ASCII case, or -1.
func indexFoldASCII(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for ; j < len(sub); j++ {
			b := s[i+j]
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			if b != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return i
		}
	}
	return -1
}

// rangedName returns the attribute description asking for size values of
// attr from index lo: "member;range=1500-2999".
func rangedName(attr string, lo, size int) string {
	return fmt.Sprintf("%s;range=%d-%d", attr, lo, lo+size-1)
}

// baseReader reads one entry with the given attributes (nil, nil when it
// does not exist).
type baseReader func(ctx context.Context, dn string, attrs []string) (*ldap.Entry, error)

// completeRanges rewrites the ranged attributes of e in place into whole
// ones: each "attr;range=lo-hi" is followed with reads of the next ranges
// until the server says "-*", and the values are gathered under the plain
// name. It returns the number of extra reads it made.
func completeRanges(ctx context.Context, read baseReader, e *ldap.Entry, size int) (int, error) {
	if size <= 0 {
		size = defaultRangeSize
	}
	reads := 0
	for i, ea := range e.Attributes {
		r, ok := parseValueRange(ea.Name)
		if !ok {
			continue
		}
		whole := &ldap.EntryAttribute{Name: r.base, Values: ea.Values, ByteValues: ea.ByteValues}
		next := r
		for !next.last {
			if err := ctx.Err(); err != nil {
				return reads, err
			}
			lo := next.hi + 1
			got, err := read(ctx, e.DN, []string{rangedName(r.base, lo, size)})
			reads++
			if err != nil {
				return reads, fmt.Errorf("ldap: ranged retrieval of %s of %s from %d: %w", r.base, e.DN, lo, err)
			}
			if got == nil {
				return reads, fmt.Errorf("ldap: ranged retrieval of %s of %s from %d: %w", r.base, e.DN, lo, errGoneDuringRange)
			}
			var part *ldap.EntryAttribute
			for _, ga := range got.Attributes {
				if gr, ok := parseValueRange(ga.Name); ok && strings.EqualFold(gr.base, r.base) {
					part, next = ga, gr
					break
				}
			}
			if part == nil {
				// The attribute lost values since the first read and the
				// range now starts past its end: nothing more to read.
				break
			}
			if next.lo != lo {
				return reads, fmt.Errorf("ldap: ranged retrieval of %s of %s: asked from %d, got from %d", r.base, e.DN, lo, next.lo)
			}
			whole.Values = append(whole.Values, part.Values...)
			whole.ByteValues = append(whole.ByteValues, part.ByteValues...)
		}
		e.Attributes[i] = whole
	}
	return reads, nil
}

// errGoneDuringRange: the entry disappeared between two ranges.
var errGoneDuringRange = fmt.Errorf("entry deleted during ranged retrieval: %w", connector.ErrNoSuchObject)

// rangeSize returns the size of the ranges asked for.
func (c *Connector) rangeSize() int {
	if c.cfg.RangeSize > 0 {
		return c.cfg.RangeSize
	}
	return defaultRangeSize
}

// convertValues converts the values of an attribute read from the server
// to a's type.
func convertValues(a connector.Attribute, ea *ldap.EntryAttribute) ([]connector.Value, error) {
	vals := make([]connector.Value, 0, len(ea.ByteValues))
	for i, raw := range ea.ByteValues {
		v, err := toValue(a.Type, ea.Values[i], raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %v: %w", a.Name, err, connector.ErrInvalidObject)
		}
		vals = append(vals, v)
	}
	if !a.Multi && len(vals) > 1 {
		return nil, fmt.Errorf("%s is single-valued but has %d values: %w", a.Name, len(vals), connector.ErrInvalidObject)
	}
	return vals, nil
}
