package redact_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idbridge/idbridge/internal/redact"
)

func TestURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"ldaps://dc1:636", "ldaps://dc1:636"},
		{"ldaps://admin:pw@dc1:636", "ldaps://…@dc1:636"},
		{"ldaps://admin@dc1:636", "ldaps://…@dc1:636"},
		{"ldaps://admin:pw@dc1:636/%zz", "…@dc1:636/%zz"},
		{"ldaps://admin:p/w@dc1", "…@dc1"},
		{"ldaps://a?:pw@dc1", "ldaps://…@dc1"},
		{"", ""},
	} {
		assert.Equal(t, tt.want, redact.URL(tt.in), tt.in)
	}
}

// FuzzURL checks that no URL built with a password echoes it whole,
// whatever the password and the host hold.
func FuzzURL(f *testing.F) {
	f.Add("admin", "Sekr1t", "dc1:636")
	f.Add("a", "p/w?x#y", "[::1]:389/%zz")
	f.Fuzz(func(t *testing.T, user, pass, host string) {
		if len(pass) < 4 || strings.Contains(user, pass) || strings.Contains(host, pass) || strings.Contains(pass, "@") {
			return // too short to tell apart, or echoed by the parts that may be shown
		}
		out := redact.URL("ldaps://" + user + ":" + pass + "@" + host)
		assert.NotContains(t, out, pass)
	})
}
