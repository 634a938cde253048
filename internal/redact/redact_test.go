package redact_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idbridge/idbridge/internal/redact"
)

func TestURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"ldaps://dc1:636", "ldaps://dc1:636"},
		{"ldaps://admin:pw@dc1:636", "ldaps://admin:xxxxx@dc1:636"},
		{"ldaps://admin@dc1:636", "ldaps://admin@dc1:636"},
		{"ldaps://admin:pw@dc1:636/%zz", "…@dc1:636/%zz"},
		{"ldaps://admin:p/w@dc1", "…@dc1"},
		{"", ""},
	} {
		assert.Equal(t, tt.want, redact.URL(tt.in), tt.in)
	}
}

func FuzzURL(f *testing.F) {
	f.Add("ldaps://admin:pw@dc1:636")
	f.Add("http://[::1]:80/x")
	f.Fuzz(func(t *testing.T, raw string) {
		out := redact.URL(raw)
		assert.NotContains(t, out, ":pw@") // no panic, and the seed's password is gone
	})
}
