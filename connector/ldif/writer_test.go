package ldif_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector/ldif"
)

func TestWriterValues(t *testing.T) {
	tests := []struct {
		value, want string
	}{
		{"plain", "cn: plain\n"},
		{"", "cn: \n"},
		{" leading space", "cn:: IGxlYWRpbmcgc3BhY2U=\n"},
		{"trailing space ", "cn:: dHJhaWxpbmcgc3BhY2Ug\n"},
		{":colon", "cn:: OmNvbG9u\n"},
		{"<angle", "cn:: PGFuZ2xl\n"},
		{"in:side<ok", "cn: in:side<ok\n"},
		{"two\nlines", "cn:: dHdvCmxpbmVz\n"},
		{"Zoë", "cn:: Wm/Dqw==\n"},
		{"\x00\x01", "cn:: AAE=\n"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, ldif.NewWriter(&b).Write(&ldif.Record{DN: "cn=a", Attrs: []ldif.Attr{{Name: "cn", Value: tt.value}}}))
			assert.Equal(t, "dn: cn=a\n"+tt.want+"\n", b.String())
		})
	}
}

func TestWriterFolds(t *testing.T) {
	for _, n := range []int{70, 71, 72, 150, 151, 1000} {
		value := strings.Repeat("abcdefghij", n/10+1)[:n]
		var b bytes.Buffer
		rec := &ldif.Record{DN: "cn=a", Attrs: []ldif.Attr{{Name: "description", Value: value}}}
		require.NoError(t, ldif.NewWriter(&b).Write(rec))
		for l := range strings.SplitSeq(b.String(), "\n") {
			assert.LessOrEqual(t, len(l), 76, "n=%d: %q", n, l)
		}
		got, errs := readAll(t, b.String())
		require.Empty(t, errs)
		require.Len(t, got, 1)
		assert.Equal(t, value, got[0].Attrs[0].Value, "n=%d", n)
	}
}

func TestWriterRefuses(t *testing.T) {
	tests := map[string]*ldif.Record{
		"no DN":          {Attrs: []ldif.Attr{{Name: "cn", Value: "a"}}},
		"bad name":       {DN: "cn=a", Attrs: []ldif.Attr{{Name: "c n", Value: "a"}}},
		"bad changetype": {DN: "cn=a", ChangeType: "rename"},
		"bad mod":        {DN: "cn=a", ChangeType: ldif.ChangeModify, Mods: []ldif.Mod{{Op: "increment", Name: "x"}}},
		"modrdn no rdn":  {DN: "cn=a", ChangeType: ldif.ChangeModRDN},
	}
	for name, rec := range tests {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			assert.Error(t, ldif.NewWriter(&b).Write(rec))
			assert.Zero(t, b.Len(), "nothing written")
		})
	}
}

func TestWriterComment(t *testing.T) {
	var b bytes.Buffer
	w := ldif.NewWriter(&b)
	require.NoError(t, w.WriteVersion())
	require.NoError(t, w.WriteComment("one\ntwo"))
	assert.Equal(t, "version: 1\n\n# one\n# two\n\n", b.String())
}

func TestGeneralizedTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"20240101120000.0Z", time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)},
		{"20240101120000Z", time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)},
		{"20240101120000.3Z", time.Date(2024, 1, 1, 12, 0, 0, 300000000, time.UTC)},
		{"20240101120000,123456789Z", time.Date(2024, 1, 1, 12, 0, 0, 123456789, time.UTC)},
		{"202401011200Z", time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)},
		{"2024010112Z", time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)},
		{"2024010112.5Z", time.Date(2024, 1, 1, 12, 30, 0, 0, time.UTC)},
		{"20240101120000+0130", time.Date(2024, 1, 1, 10, 30, 0, 0, time.UTC)},
		{"20240101120000-05", time.Date(2024, 1, 1, 17, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := ldif.ParseGeneralizedTime(tt.in)
		if assert.NoError(t, err, tt.in) {
			assert.Equal(t, tt.want, got, tt.in)
		}
	}
	for _, bad := range []string{"", "2024", "20240101120000", "20241301120000Z", "20240230120000Z", "2024010112000xZ", "20240101120000.Z", "20240101120000+2500", "abcd0101120000Z"} {
		_, err := ldif.ParseGeneralizedTime(bad)
		assert.Error(t, err, bad)
	}
	ts := time.Date(2024, 1, 1, 12, 0, 0, 500000000, time.FixedZone("x", 3600))
	assert.Equal(t, "20240101110000.5Z", ldif.FormatGeneralizedTime(ts))
	assert.Equal(t, "20240101110000Z", ldif.FormatGeneralizedTime(ts.Truncate(time.Second)))
}

func TestGUID(t *testing.T) {
	b := []byte{0x52, 0x61, 0x57, 0xee, 0xa5, 0xad, 0xde, 0x45, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab}
	s := ldif.GUIDString(b)
	assert.Equal(t, "ee576152-ada5-45de-beef-0123456789ab", s)
	back, err := ldif.ParseGUID(s)
	require.NoError(t, err)
	assert.Equal(t, b, back)
	_, err = ldif.ParseGUID("not-a-guid")
	assert.Error(t, err)
	assert.Equal(t, "0102", ldif.GUIDString([]byte{1, 2}))
}
