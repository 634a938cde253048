package entraconnect_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/rules"
	"github.com/idbridge/idbridge/rules/entraconnect"
)

// TestLoadCompiles: every topology's rules type-check against connector
// schemas made of exactly Attributes and against graphsync's schema.
func TestLoadCompiles(t *testing.T) {
	tests := []struct {
		name  string
		opts  entraconnect.Options
		rules int
	}{
		{"default", entraconnect.Options{}, 10},
		{"group anchor", entraconnect.Options{GroupAnchor: groupAnchor}, 10},
		{"contacts", entraconnect.Options{Forests: []entraconnect.Forest{{Connector: "ad", Contacts: true}}}, 12},
		{"exchange", entraconnect.Options{Forests: []entraconnect.Forest{{Connector: "ad", Exchange: true}}}, 11},
		{"two forests by mail", entraconnect.Options{JoinByMail: true, Forests: []entraconnect.Forest{{Connector: "contoso"}, {Connector: "fabrikam"}}}, 17},
		{"account and resource forests", entraconnect.Options{JoinAccountResource: true, Cloud: "aad",
			Forests: []entraconnect.Forest{{Connector: "accounts"}, {Connector: "resources", Exchange: true, Contacts: true}}}, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := entraconnect.Load(tt.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.rules, len(f.Rules))
			_, err = compile(t, f, tt.opts)
			require.NoError(t, err)
		})
	}
}

// TestLoadForests: per-forest copies are named after their connector,
// their precedences follow the forests' order, and the options add the
// join groups and the exchange scope.
func TestLoadForests(t *testing.T) {
	f, err := entraconnect.Load(entraconnect.Options{JoinByMail: true, JoinAccountResource: true,
		Forests: []entraconnect.Forest{{Connector: "a"}, {Connector: "b", Exchange: true}}})
	require.NoError(t, err)
	byName := map[string]rules.Rule{}
	for _, r := range f.Rules {
		byName[r.Name] = r
	}
	a, b := byName["In from AD - User Join (a)"], byName["In from AD - User Join (b)"]
	assert.Equal(t, "a", a.Connector)
	assert.Equal(t, "b", b.Connector)
	assert.Equal(t, 100, a.Precedence)
	assert.Equal(t, 101, b.Precedence)
	assert.Len(t, a.Join, 2, "account SID, mail")
	assert.Len(t, b.Join, 3, "account SID, msExchMasterAccountSid, mail")
	assert.NotContains(t, a.Scope, "msExchRecipientTypeDetails")
	assert.Contains(t, b.Scope, entraconnect.ExchangeScope)
	assert.Contains(t, byName, "Out to AAD - User Join", "cloud rules keep their names")
	assert.Less(t, byName["In from AD - User AccountEnabled (b)"].Precedence, byName["In from AD - User Common (a)"].Precedence,
		"sign-in attributes of any forest's enabled account win over common attributes")
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts entraconnect.Options
	}{
		{"empty connector", entraconnect.Options{Forests: []entraconnect.Forest{{}}}},
		{"twice", entraconnect.Options{Forests: []entraconnect.Forest{{Connector: "a"}, {Connector: "a"}}}},
		{"forest named like the cloud", entraconnect.Options{Forests: []entraconnect.Forest{{Connector: "cloud"}}}},
		{"account/resource without exchange", entraconnect.Options{JoinAccountResource: true}},
		{"too many", entraconnect.Options{Forests: make([]entraconnect.Forest, entraconnect.MaxForests+1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := entraconnect.Load(tt.opts)
			require.ErrorIs(t, err, entraconnect.ErrInvalidOptions)
		})
	}
}
