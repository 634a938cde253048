package rules_test

import (
	"context"
	"testing"

	ldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/rules"
)

func TestRDNEscapingKeepsTheDNInItsOU(t *testing.T) {
	for _, expr := range []string{
		`"cn=" + escapeRDN(source.displayName) + ",ou=users,dc=example,dc=test"`,
		`rdn("cn", source.displayName) + ",ou=users,dc=example,dc=test"`,
	} {
		p, err := compileExpr(t, expr, str, 0)
		require.NoError(t, err, expr)
		for _, name := range []string{
			"Mallory,ou=admins", "x+uid=root", `back\slash`, `"quoted"`, "#hash", " lead", "trail ", "semi;colon", "<angle>", "nul\x00byte", "plain", "Doe, John", "é=ü",
		} {
			t.Run(name, func(t *testing.T) {
				in := userWith("displayName", connector.StringValue(name))
				out, _, err := p.Eval(context.Background(), in, nil)
				require.NoError(t, err)
				require.Len(t, out, 1)
				dn, err := ldap.ParseDN(out[0].Str())
				require.NoError(t, err, out[0].Str())
				require.Len(t, dn.RDNs, 4, "%s: one RDN more than the OU's DN", out[0].Str())
				require.Len(t, dn.RDNs[0].Attributes, 1, "single-valued RDN")
				assert.Equal(t, "cn", dn.RDNs[0].Attributes[0].Type)
				assert.Equal(t, name, dn.RDNs[0].Attributes[0].Value)
				assert.Equal(t, "ou", dn.RDNs[1].Attributes[0].Type)
				assert.Equal(t, "users", dn.RDNs[1].Attributes[0].Value)
			})
		}
	}
}

func TestRDNRefusesABadAttributeName(t *testing.T) {
	_, _, err := evalExpr(t, `rdn("cn=x,ou", source.sn)`, str, adUser())
	require.ErrorIs(t, err, rules.ErrEval)
	assert.ErrorContains(t, err, "is not an attribute name")
}

func FuzzEscapeRDN(f *testing.F) {
	for _, s := range []string{"Mallory,ou=admins", "x+uid=root", "#", " ", "a\x00", `\`, "é"} {
		f.Add(s)
	}
	p, err := compileExpr(f, `rdn("cn", source.displayName) + ",ou=users"`, str, 0)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, name string) {
		out, _, err := p.Eval(context.Background(), userWith("displayName", connector.StringValue(name)), nil)
		require.NoError(t, err)
		if name == "" {
			return // no value: the flow is Null
		}
		dn, err := ldap.ParseDN(out[0].Str())
		if err != nil {
			return // go-ldap refuses some values (invalid UTF-8); what matters is that none escapes
		}
		require.Len(t, dn.RDNs, 2, out[0].Str())
		require.Len(t, dn.RDNs[0].Attributes, 1)
		assert.Equal(t, "users", dn.RDNs[1].Attributes[0].Value)
	})
}
