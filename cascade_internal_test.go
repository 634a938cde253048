package idbridge

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

func TestReparent(t *testing.T) {
	tests := []struct{ dn, old, new, want string }{
		{"CN=Ann,OU=Sales,DC=x", "ou=sales,dc=x", "OU=Revenue,DC=x", "CN=Ann,OU=Revenue,DC=x"},
		{"CN=Ann , OU=Lab,OU=Sales, DC=x", "OU=Sales,DC=x", "OU=Revenue,DC=x", "CN=Ann,OU=Lab,OU=Revenue,DC=x"},
		{`CN=Smith\, Ann,OU=Sales,DC=x`, "OU=Sales,DC=x", "OU=New\\, Sales,DC=x", `CN=Smith\, Ann,OU=New\, Sales,DC=x`},
		{`CN=Back\\,OU=Sales,DC=x`, "OU=Sales,DC=x", "OU=R,DC=x", `CN=Back\\,OU=R,DC=x`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, reparent(tt.dn, tt.old, tt.new), tt.dn)
	}
}

// FuzzReparent: a DN under a container (as a connector reports DNs, from
// outside) is moved under the new container, keeping its RDNs below it.
func FuzzReparent(f *testing.F) {
	f.Add("CN=Ann,OU=Sales,DC=x", "OU=Sales,DC=x", "OU=Revenue,DC=x")
	f.Add(`CN=Smith\, Ann,OU=Sales,DC=x`, "OU=Sales,DC=x", `OU=A\,B,DC=y`)
	f.Add(`CN=a\\,OU=b\\\,c, DC=x `, `OU=B\\\,C,dc=X`, "o=z")
	f.Fuzz(func(t *testing.T, dn, oldBase, newBase string) {
		if !metaverse.Under(dn, oldBase) || newBase == "" {
			return
		}
		got := reparent(dn, oldBase, newBase)
		if !metaverse.Under(got, newBase) {
			t.Fatalf("reparent(%q, %q, %q) = %q, not under the new base", dn, oldBase, newBase, got)
		}
		below := len(rdns(dn)) - len(rdns(oldBase))
		if n := len(rdns(got)) - len(rdns(newBase)); n != below {
			t.Fatalf("reparent(%q, %q, %q) = %q: %d RDNs below the base, want %d", dn, oldBase, newBase, got, n, below)
		}
		if connector.FoldDN(reparent(got, newBase, oldBase)) != connector.FoldDN(dn) {
			t.Fatalf("reparent(%q, %q, %q) = %q does not move back", dn, oldBase, newBase, got)
		}
	})
}
