package graphsync

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestAltSecurityIdentity(t *testing.T) {
	const text = "X509:<SHA1-TP-PUBKEY>9C3E2F1A9B3D4C6E8F0A1B2C3D4E5F6A7B8C9D0Eq1w2e3r4t5y6u7i8o9p0AbCdEfGhIjKlMn="
	tests := []struct {
		name string
		key  string
		want string
		ok   bool
	}{
		{"certificate key", AltSecurityIDKey(text), text, true},
		{"trailing NULs dropped", AltSecurityIDKey(text + "\x00"), text, true},
		{"not base64", "%%%", "", false},
		{"odd length", base64.StdEncoding.EncodeToString([]byte{1, 2, 3}), "", false},
		{"text without X509:", AltSecurityIDKey("Kerberos:user@REALM"), "", false},
		{"a lone surrogate", base64.StdEncoding.EncodeToString(append([]byte("X\x005\x000\x009\x00:\x00"), 0x00, 0xd8)), "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := altSecurityIdentity(tt.key)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
	assert.Equal(t, []any{text}, altSecurityIdentities([]any{
		map[string]any{"type": float64(2), "key": AltSecurityIDKey(text)},
		map[string]any{"type": float64(1), "key": "AAEC"},
		"not an object", nil,
	}))
}

// FuzzAltSecurityIdentity: any key Graph sends either is left out or
// gives valid UTF-8 starting with X509: that encodes back to itself.
func FuzzAltSecurityIdentity(f *testing.F) {
	f.Add(AltSecurityIDKey("X509:<SHA1-TP-PUBKEY>abc"))
	f.Add("AAEC")
	f.Add("")
	f.Fuzz(func(t *testing.T, key string) {
		s, ok := altSecurityIdentity(key)
		if !ok {
			return
		}
		if !utf8.ValidString(s) || !strings.HasPrefix(s, "X509:") {
			t.Fatalf("%q from %q", s, key)
		}
		if back, ok := altSecurityIdentity(AltSecurityIDKey(s)); !ok || back != s {
			t.Fatalf("%q does not round-trip", s)
		}
	})
}
