package rules_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/rules"
)

// FuzzParse feeds arbitrary rule files to Parse and, when they parse,
// Compile: neither may panic, and their errors must be the package's.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"good.yaml", "../../testdata/engine-rules.yaml", "../../examples/quickstart/rules.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("rules:\n  - {name: x, direction: inbound, connector: ad, source: user, target: person, flows: [{target: a, expression: '"))
	f.Add([]byte("metaverse: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := rules.Parse("fuzz.yaml", data)
		if err != nil {
			require.ErrorIs(t, err, rules.ErrSyntax)
			return
		}
		if file.Metaverse == nil {
			return
		}
		if _, err := rules.Compile(file.Rules, testSchemas(t, file), rules.Options{}); err != nil {
			require.True(t, errors.Is(err, rules.ErrInvalidRule) || errors.Is(err, rules.ErrSyntax), "%v", err)
		}
	})
}

// FuzzCEL compiles arbitrary expressions and evaluates those that compile
// on an object with arbitrary values: no panic, and every evaluation ends
// (within the cost limit) with values or an error.
func FuzzCEL(f *testing.F) {
	for _, e := range []string{
		`source.mail.replace("a", source.mail)`, `source.proxyAddresses.map(p, p + source.sn)`,
		`rdn("cn", source.displayName) + ",ou=x"`, `dnComponent(dn, 2)`, `"%s-%d".format([source.sn, 3])`,
		`guidString(source.objectGUID)`, `source.?displayName.orValue(source.givenName)`,
		`[source.mail, source.sn].join(", ")`, `coalesce([source.displayName, source.sn])`,
	} {
		f.Add(e, "a@b", "Doe,x")
	}
	f.Fuzz(func(t *testing.T, expr, mail, name string) {
		p, err := compileExpr(t, expr, rules.ResultType{Type: connector.String, Multi: true}, 0)
		if err != nil {
			return
		}
		in := adUser()
		in.Attrs["mail"] = []connector.Value{connector.StringValue(mail)}
		in.Attrs["displayName"] = []connector.Value{connector.StringValue(name)}
		in.DN = "CN=" + name + ",DC=x"
		_, _, _ = p.Eval(context.Background(), in, nil)
	})
}
