package main

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMultiforest: two forests, one cloud user per person. Alice and Bob,
// who have accounts in both forests, are joined by mail (whatever its
// case); precedence gives Contoso their title and phone and Fabrikam the
// rest; Dave, only in Contoso, is projected from it. The what-if of
// raising Contoso's identity rule names the attributes it would change.
func TestMultiforest(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out))
	got := out.String()

	for _, line := range []string{
		"initial cycle, in the order fabrikam, contoso, cloud:",
		"fabrikam FullSync: projections=3 provisions=3",
		"contoso FullSync: projections=1 joins=2 mvUpdates=2 provisions=1",
		"cloud Export: exported=4",
		"the cloud holds 4 users:",
		"cloud user: 2 updates (department 2, onPremisesImmutableId 2, userPrincipalName 2)",
	} {
		assert.Contains(t, got, line)
	}
	assert.NotContains(t, got, "!", "no object error")
	person := func(upn string, rows ...string) {
		t.Helper()
		re := `(?m)^  ` + regexp.QuoteMeta(upn) + `\n`
		for _, r := range rows {
			re += `    ` + r + `\n`
		}
		assert.Regexp(t, regexp.MustCompile(re), got)
	}
	person("alice.archer@contoso.com",
		`department +Finance +\(fabrikam\)`, `jobTitle +Senior Analyst +\(contoso\)`, `phone +\+1 206 555 0199 +\(contoso\)`)
	person("bob.baker@contoso.com",
		`department +Sales +\(fabrikam\)`, `jobTitle +Account Executive +\(contoso\)`, `phone +\+1 206 555 0198 +\(contoso\)`)
	person("carol.chen@contoso.com",
		`department +Engineering +\(fabrikam\)`, `jobTitle +Engineer +\(fabrikam\)`, `phone +\+1 425 555 0103 +\(fabrikam\)`)
	person("dave.diaz@contoso.com",
		`department +Marketing +\(contoso\)`, `jobTitle +Marketing Lead +\(contoso\)`, `phone +\+1 206 555 0197 +\(contoso\)`)
	assert.NotContains(t, got, "contoso.local", "Fabrikam's UPN wins over Contoso's")
}
