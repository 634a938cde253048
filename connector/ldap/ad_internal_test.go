package ldap

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"testing"

	ldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
)

func TestParseValueRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want valueRange
		ok   bool
	}{
		{"member", valueRange{base: "member"}, false},
		{"member;range=0-1499", valueRange{base: "member", lo: 0, hi: 1499}, true},
		{"Member;Range=1500-*", valueRange{base: "Member", lo: 1500, last: true}, true},
		{"member;range=1-1", valueRange{base: "member", lo: 1, hi: 1}, true},
		{"member;range=x-1", valueRange{base: "member;range=x-1"}, false},
		{"member;range=9-3", valueRange{base: "member;range=9-3"}, false},
	} {
		got, ok := parseValueRange(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

// fakeRanges serves a base entry whose member attribute has n values, in
// ranges of at most limit values, as a DC does.
func fakeRanges(n, limit int, reads *int) baseReader {
	return func(_ context.Context, dn string, attrs []string) (*ldap.Entry, error) {
		*reads++
		r, ok := parseValueRange(attrs[0])
		if !ok {
			return nil, fmt.Errorf("unranged request %q", attrs[0])
		}
		hi := min(r.hi, r.lo+limit-1)
		name := fmt.Sprintf("member;range=%d-%d", r.lo, hi)
		if hi >= n-1 {
			hi, name = n-1, fmt.Sprintf("member;range=%d-*", r.lo)
		}
		var vals []string
		for i := r.lo; i <= hi; i++ {
			vals = append(vals, fmt.Sprintf("CN=m%d", i))
		}
		return ldap.NewEntry(dn, map[string][]string{name: vals}), nil
	}
}

func TestCompleteRanges(t *testing.T) {
	for _, tc := range []struct {
		name              string
		n, limit, size    int
		first             string
		firstN, wantReads int
	}{
		{"two ranges", 2000, 1500, 1500, "member;range=0-1499", 1500, 1},
		{"server smaller than asked", 2000, 500, 1500, "member;range=0-499", 500, 3},
		{"whole at once", 10, 1500, 1500, "member;range=0-*", 10, 0},
		{"100,000 members", 100_000, 1500, 1500, "member;range=0-1499", 1500, 66},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first []string
			for i := range tc.firstN {
				first = append(first, fmt.Sprintf("CN=m%d", i))
			}
			e := ldap.NewEntry("CN=g", map[string][]string{tc.first: first, "cn": {"g"}})
			reads := 0
			n, err := completeRanges(context.Background(), fakeRanges(tc.n, tc.limit, &reads), e, tc.size)
			require.NoError(t, err)
			assert.Equal(t, tc.wantReads, n)
			assert.Equal(t, tc.wantReads, reads)
			vals := e.GetAttributeValues("member")
			require.Len(t, vals, tc.n)
			for i, v := range vals {
				if v != fmt.Sprintf("CN=m%d", i) {
					t.Fatalf("value %d is %s", i, v)
				}
			}
			assert.Equal(t, []string{"g"}, e.GetAttributeValues("cn"))
		})
	}
	t.Run("entry deleted", func(t *testing.T) {
		e := ldap.NewEntry("CN=g", map[string][]string{"member;range=0-1": {"a", "b"}})
		gone := func(context.Context, string, []string) (*ldap.Entry, error) { return nil, nil }
		_, err := completeRanges(context.Background(), gone, e, 2)
		assert.ErrorIs(t, err, connector.ErrNoSuchObject)
	})
}

func TestEncodePasswordAD(t *testing.T) {
	assert.Equal(t, "\"\x00p\x00w\x00\"\x00", encodePassword("pw"))
	assert.Equal(t, "\"\x00=\xd8\x00\xde\"\x00", encodePassword("😀"), "a surrogate pair")
}

func TestSetDisabled(t *testing.T) {
	for _, tc := range []struct {
		uac      int64
		disabled bool
		want     int64
	}{
		{512, true, 514},
		{514, false, 512},
		{66048, true, 66050}, // DONT_EXPIRE_PASSWORD kept
		{66050, false, 66048},
		{514, true, 514},
	} {
		assert.Equal(t, tc.want, setDisabled(tc.uac, tc.disabled), "%d disabled=%v", tc.uac, tc.disabled)
	}
}

func TestConsistencyGUID(t *testing.T) {
	raw := []byte{0x4e, 0x1f, 0x5c, 0x0d, 0x0b, 0x3a, 0x49, 0x45, 0x8d, 0x7c, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15}
	for _, tc := range []struct {
		name string
		in   connector.Value
		ok   bool
	}{
		{"octets", connector.BytesValue(raw), true},
		{"GUID string", connector.StringValue("0d5c1f4e-3a0b-4549-8d7c-101112131415"), true},
		{"immutableId", connector.StringValue(base64.StdEncoding.EncodeToString(raw)), true},
		{"garbage", connector.StringValue("not a guid"), false},
		{"integer", connector.IntValue(7), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := consistencyGUID(tc.in)
			if !tc.ok {
				assert.ErrorIs(t, err, connector.ErrInvalidObject)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, raw, got)
		})
	}
}

func TestAddDefaults(t *testing.T) {
	pw := connector.Attributes{"unicodePwd": {connector.StringValue("x")}}
	assert.Equal(t, int64(512), adAddDefaults(pw).Get("userAccountControl")[0].Int())
	assert.Empty(t, pw.Get("userAccountControl"), "the input is not modified")
	set := connector.Attributes{"unicodePwd": {connector.StringValue("x")}, "userAccountControl": {connector.IntValue(514)}}
	assert.Equal(t, int64(514), adAddDefaults(set).Get("userAccountControl")[0].Int())
	assert.Empty(t, adAddDefaults(connector.Attributes{"cn": {connector.StringValue("x")}}).Get("userAccountControl"))
}

// metadata builds a replPropertyMetaData blob with the local USN of the
// given attributes.
func metadata(local map[uint32]int64) []byte {
	b := make([]byte, 16, 16+48*len(local))
	binary.LittleEndian.PutUint32(b[0:], 1)
	binary.LittleEndian.PutUint32(b[8:], uint32(len(local)))
	for attr, usn := range local {
		e := make([]byte, 48)
		binary.LittleEndian.PutUint32(e[0:], attr)
		binary.LittleEndian.PutUint64(e[40:], uint64(usn))
		b = append(b, e...)
	}
	return b
}

func TestNameChangedAfter(t *testing.T) {
	assert.True(t, nameChangedAfter(metadata(map[uint32]int64{0: 10, attrtypName: 120}), 100))
	assert.False(t, nameChangedAfter(metadata(map[uint32]int64{0: 150, attrtypName: 90}), 100))
	assert.True(t, nameChangedAfter(nil, 100), "unreadable: assume changed")
	assert.True(t, nameChangedAfter(metadata(map[uint32]int64{0: 10})[:30], 100), "truncated")
}

func TestADExportValues(t *testing.T) {
	c := &Connector{}
	raw := []byte("0123456789abcdef")
	vals, ok, err := c.adExportValues(context.Background(), "ms-ds-consistencyguid", []connector.Value{connector.StringValue(base64.StdEncoding.EncodeToString(raw))})
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, []string{string(raw)}, vals)
	_, ok, err = c.adExportValues(context.Background(), "title", []connector.Value{connector.StringValue("x")})
	assert.NoError(t, err)
	assert.False(t, ok, "other attributes are the core's")
}
