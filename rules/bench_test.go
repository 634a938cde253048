package rules_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/rules"
)

const benchRules = `
metaverse:
  types:
    - name: person
      attributes:
        - {name: displayName, type: string}
        - {name: givenName, type: string}
        - {name: mail, type: string}
        - {name: company, type: string}
        - {name: cloudSourceAnchor, type: string}
        - {name: accountEnabled, type: boolean}
rules:
  - name: In from AD - User
    direction: inbound
    connector: ad
    source: user
    target: person
    precedence: 100
    linkType: Provision
    flows:
      - {target: displayName, expression: 'source.givenName + " " + source.sn'}
      - {target: givenName, source: givenName}
      - {target: mail, source: mail}
      - {target: company, constant: Contoso}
      - {target: cloudSourceAnchor, expression: base64(source.objectGUID), applyOnce: true}
      - {target: accountEnabled, expression: '!isBitSet(source.userAccountControl, 2)'}
`

// BenchmarkFlows evaluates six typical flows (two direct, one constant,
// three expressions) of an inbound rule on an AD user.
func BenchmarkFlows(b *testing.B) {
	f, err := rules.Parse("bench.yaml", []byte(benchRules))
	require.NoError(b, err)
	set, err := rules.Compile(f.Rules, testSchemas(b, f), rules.Options{})
	require.NoError(b, err)
	r := set.Inbound("ad", "user")[0]
	in := adUser()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Flows(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRule evaluates the scope and the twelve flows of the inbound
// user rule of testdata/good.yaml.
func BenchmarkRule(b *testing.B) {
	r := goodSet(b).Inbound("ad", "user")[0]
	in := adUser()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := r.InScope(ctx, in); err != nil || !ok {
			b.Fatal(ok, err)
		}
		if _, err := r.Flows(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
