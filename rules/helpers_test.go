package rules_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/rules"
)

func loadSchema(t testing.TB, name string) *connector.Schema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var s connector.Schema
	require.NoError(t, yaml.Unmarshal(data, &s))
	require.NoError(t, s.Validate())
	return &s
}

func testSchemas(t testing.TB, f *rules.File) rules.Schemas {
	return rules.Schemas{
		Metaverse: f.Metaverse,
		Connectors: map[string]*connector.Schema{
			"ad":    loadSchema(t, "ad.schema.yaml"),
			"entra": loadSchema(t, "entra.schema.yaml"),
		},
	}
}

func goodSet(t testing.TB) *rules.Set {
	t.Helper()
	f, err := rules.ParseFile(filepath.Join("testdata", "good.yaml"))
	require.NoError(t, err)
	set, err := rules.Compile(f.Rules, testSchemas(t, f), rules.Options{})
	require.NoError(t, err)
	return set
}

var (
	guid = []byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	// S-1-5-21-1-2-3-1104
	sid = []byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0x50, 0x04, 0, 0}
)

func adUser() *rules.Input {
	return &rules.Input{
		Anchor: "00112233-4455-6677-8899-aabbccddeeff",
		DN:     `CN=Doe\, John,OU=Sales,DC=contoso,DC=com`,
		Type:   "user",
		Attrs: connector.Attributes{
			"objectGUID":         {connector.BytesValue(guid)},
			"objectSid":          {connector.BytesValue(sid)},
			"objectClass":        {connector.StringValue("top"), connector.StringValue("person"), connector.StringValue("user")},
			"givenName":          {connector.StringValue("John")},
			"sn":                 {connector.StringValue("Doe")},
			"mail":               {connector.StringValue("John.Doe@contoso.com")},
			"employeeID":         {connector.StringValue("E123")},
			"userAccountControl": {connector.IntValue(512)},
			"accountExpires":     {connector.IntValue(0)},
			"proxyAddresses":     {connector.StringValue("SMTP:John.Doe@contoso.com"), connector.StringValue("smtp:jd@contoso.com")},
			"manager":            {connector.RefValue("mgr-anchor", "CN=Boss,OU=Sales,DC=contoso,DC=com")},
		},
	}
}

// compileExpr compiles expr over an AD user (source) and an Entra user
// (target) for the given result type.
func compileExpr(t testing.TB, expr string, result rules.ResultType, limit uint64) (rules.Program, error) {
	t.Helper()
	src, _ := loadSchema(t, "ad.schema.yaml").Type("user")
	tgt, _ := loadSchema(t, "entra.schema.yaml").Type("user")
	if limit == 0 {
		limit = rules.DefaultCostLimit
	}
	return rules.NewCEL().Compile(expr, &rules.Env{Source: src, SourceName: "ad.user", Target: tgt, TargetName: "entra.user", Result: result, CostLimit: limit})
}

func evalExpr(t testing.TB, expr string, result rules.ResultType, in *rules.Input) ([]connector.Value, rules.NullKind, error) {
	t.Helper()
	p, err := compileExpr(t, expr, result, 0)
	require.NoError(t, err, expr)
	return p.Eval(context.Background(), in, nil)
}

var (
	str  = rules.ResultType{Type: connector.String}
	strs = rules.ResultType{Type: connector.String, Multi: true}
	num  = rules.ResultType{Type: connector.Integer}
	boo  = rules.ResultType{Type: connector.Boolean}
	tim  = rules.ResultType{Type: connector.Time}
	byt  = rules.ResultType{Type: connector.Bytes}
	ref  = rules.ResultType{Type: connector.Reference}
	refs = rules.ResultType{Type: connector.Reference, Multi: true}
	nums = rules.ResultType{Type: connector.Integer, Multi: true}
)

func strVals(ss ...string) []connector.Value {
	out := make([]connector.Value, len(ss))
	for i, s := range ss {
		out[i] = connector.StringValue(s)
	}
	return out
}
