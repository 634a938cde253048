package adcodec_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/internal/adcodec"
)

func TestGUID(t *testing.T) {
	raw := []byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"mixed-endian", raw, "00112233-4455-6677-8899-aabbccddeeff"},
		{"not 16 bytes: hex", []byte{1, 2, 0xab}, "0102ab"},
		{"empty", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, adcodec.GUIDString(tc.in)) })
	}
	back, err := adcodec.ParseGUID("00112233-4455-6677-8899-aabbccddeeff")
	require.NoError(t, err)
	assert.Equal(t, raw, back)
	back, err = adcodec.ParseGUID("{00112233-4455-6677-8899-AABBCCDDEEFF}")
	require.NoError(t, err)
	assert.Equal(t, raw, back, "braces and upper case")
	for _, bad := range []string{"", "0011", "zz112233-4455-6677-8899-aabbccddeeff", "00112233-4455-6677-8899-aabbccddeeff00"} {
		_, err := adcodec.ParseGUID(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "33221100554477668899aabbccddeeff", adcodec.HexGUID(raw), "wire order for <GUID=…>")
}

func TestGeneralizedTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"20240101120000Z", time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)},
		{"20240101120000.5Z", time.Date(2024, 1, 1, 12, 0, 0, 500_000_000, time.UTC)},
		{"2024010112Z", time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)},
		{"202401011230.5Z", time.Date(2024, 1, 1, 12, 30, 30, 0, time.UTC)},
		{"20240101120000+0130", time.Date(2024, 1, 1, 10, 30, 0, 0, time.UTC)},
	} {
		got, err := adcodec.ParseGeneralizedTime(tc.in)
		require.NoError(t, err, tc.in)
		assert.True(t, tc.want.Equal(got), "%s: %v", tc.in, got)
	}
	for _, bad := range []string{"", "2024", "20240231120000Z", "20241301120000Z", "20240101120000", "20240101120000+2400", "2024010112.Z"} {
		_, err := adcodec.ParseGeneralizedTime(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "20240101120000Z", adcodec.FormatGeneralizedTime(time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)))
	assert.Equal(t, "20240101120000.25Z", adcodec.FormatGeneralizedTime(time.Date(2024, 1, 1, 13, 0, 0, 250_000_000, time.FixedZone("", 3600))))
}

// FuzzGUID: ParseGUID never panics, and what it accepts formats back to
// the same GUID.
func FuzzGUID(f *testing.F) {
	f.Add("00112233-4455-6677-8899-aabbccddeeff")
	f.Add("{00112233-4455-6677-8899-AABBCCDDEEFF}")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := adcodec.ParseGUID(s)
		if err != nil {
			return
		}
		again, err := adcodec.ParseGUID(adcodec.GUIDString(b))
		if err != nil || string(again) != string(b) {
			t.Fatalf("%q: round trip %x → %x (%v)", s, b, again, err)
		}
	})
}

// FuzzGeneralizedTime: the parser never panics, and a parsed time formats
// to text that parses to the same instant.
func FuzzGeneralizedTime(f *testing.F) {
	for _, s := range []string{"20240101120000Z", "20240101120000.123456789Z", "2024010112,5-0800", "99991231235960Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := adcodec.ParseGeneralizedTime(s)
		if err != nil {
			return
		}
		again, err := adcodec.ParseGeneralizedTime(adcodec.FormatGeneralizedTime(tm))
		if err != nil || !again.Equal(tm) {
			t.Fatalf("%q: %v → %v (%v)", s, tm, again, err)
		}
	})
}
