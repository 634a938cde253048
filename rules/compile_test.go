package rules_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/rules"
)

func TestSetAccessors(t *testing.T) {
	set := goodSet(t)
	all := set.Rules()
	require.Len(t, all, 3)
	assert.Equal(t, "In from AD - User", all[0].Rule().Name)
	assert.Equal(t, "In from AD - Group", all[1].Rule().Name)
	assert.Equal(t, "Out to Entra - User", all[2].Rule().Name)
	assert.Len(t, set.Inbound("ad", "user"), 1)
	assert.Len(t, set.Inbound("ad", "group"), 1)
	assert.Empty(t, set.Inbound("entra", "user"))
	assert.Len(t, set.Outbound("person"), 1)
	assert.Empty(t, set.Outbound("group"))
	assert.Equal(t, []string{"ad", "entra"}, set.Connectors())
	assert.Equal(t, []string{"employeeID", "mail"}, set.JoinAttributes())
	assert.NotNil(t, set.Metaverse())
}

func TestCompileOrdersByPrecedenceAndSkipsDisabled(t *testing.T) {
	f, err := rules.ParseFile(filepath.Join("testdata", "good.yaml"))
	require.NoError(t, err)
	base := f.Rules[0]
	mk := func(name string, prec int, disabled bool) rules.Rule {
		r := base
		r.Name, r.Precedence, r.Disabled = name, prec, disabled
		return r
	}
	rs := []rules.Rule{mk("c", 300, false), mk("a", 100, false), mk("off", 50, true), mk("b", 200, false)}
	rs[3].Direction, rs[3].SourceType, rs[3].TargetType, rs[3].Join, rs[3].Scope = rules.Outbound, "person", "user", nil, ""
	rs[3].Connector, rs[3].Flows = "entra", []rules.Flow{{Target: "displayName", Source: "displayName"}}
	set, err := rules.Compile(rs, testSchemas(t, f), rules.Options{})
	require.NoError(t, err)
	var names []string
	for _, c := range set.Rules() {
		names = append(names, c.Rule().Name)
	}
	assert.Equal(t, []string{"a", "c", "b"}, names)
	var in []string
	for _, c := range set.Inbound("ad", "user") {
		in = append(in, c.Rule().Name)
	}
	assert.Equal(t, []string{"a", "c"}, in)
}

func TestCompileErrors(t *testing.T) {
	f, err := rules.ParseFile(filepath.Join("testdata", "good.yaml"))
	require.NoError(t, err)
	schemas := testSchemas(t, f)
	pos := rules.Position{File: "r.yaml", Line: 3, Column: 5}
	fpos := rules.Position{File: "r.yaml", Line: 9, Column: 9}
	in := func(flows ...rules.Flow) rules.Rule {
		for i := range flows {
			flows[i].Pos = fpos
		}
		return rules.Rule{Name: "R", Direction: rules.Inbound, Connector: "ad", SourceType: "user", TargetType: "person", Pos: pos, Flows: flows}
	}
	out := func(flows ...rules.Flow) rules.Rule {
		r := in(flows...)
		r.Direction, r.Connector, r.SourceType, r.TargetType = rules.Outbound, "entra", "person", "user"
		return r
	}
	with := func(r rules.Rule, f func(*rules.Rule)) rules.Rule { f(&r); return r }
	tests := []struct {
		name  string
		rule  rules.Rule
		limit uint64
		want  string
	}{
		{"unknown attribute", in(rules.Flow{Target: "displayName", Expression: "source.unknownAttr"}),
			0, "r.yaml:9:9: rule \"R\": flow displayName: `source.unknownAttr`: column 7: undefined field 'unknownAttr'"},
		{"type error", in(rules.Flow{Target: "displayName", Expression: `source.givenName + 1`}),
			0, "r.yaml:9:9: rule \"R\": flow displayName: `source.givenName + 1`: column 18: found no matching overload for '_+_' applied to '(string, int)'"},
		{"bad result type", in(rules.Flow{Target: "accountEnabled", Expression: `source.givenName`}),
			0, "r.yaml:9:9: rule \"R\": flow accountEnabled: `source.givenName`: result of type string cannot be assigned to bool"},
		{"list to single-valued", in(rules.Flow{Target: "displayName", Expression: `source.objectClass`}),
			0, "result of type list(string) cannot be assigned to string"},
		{"list of wrong type", in(rules.Flow{Target: "proxyAddresses", Expression: `[1, 2]`}),
			0, "result of type list(int) cannot be assigned to string or list(string)"},
		{"syntax error", in(rules.Flow{Target: "displayName", Expression: `source.`}),
			0, "column 8: Syntax error"},
		{"scope not bool", with(in(), func(r *rules.Rule) { r.Scope = "source.mail" }),
			0, "r.yaml:3:5: rule \"R\": scope: `source.mail`: result of type string cannot be assigned to bool"},
		{"scope cannot be null", with(in(), func(r *rules.Rule) { r.Scope = "null" }),
			0, "result of type null_type cannot be assigned to bool"},
		{"unknown connector", with(in(), func(r *rules.Rule) { r.Connector = "hr" }), 0, `r.yaml:3:5: rule "R": unknown connector "hr"`},
		{"unknown source type", with(in(), func(r *rules.Rule) { r.SourceType = "contact" }), 0, `connector "ad" has no object type "contact"`},
		{"unknown metaverse type", with(in(), func(r *rules.Rule) { r.TargetType = "device" }), 0, `the metaverse has no object type "device"`},
		{"unknown target attribute", in(rules.Flow{Target: "shoeSize", Source: "sn"}), 0, `r.yaml:9:9: rule "R": flow shoeSize: target type "person" has no attribute "shoeSize"`},
		{"unknown direct source", in(rules.Flow{Target: "sn", Source: "surname"}), 0, `source type "user" has no attribute "surname"`},
		{"direct flow type mismatch", in(rules.Flow{Target: "sn", Source: "userAccountControl"}), 0, `source attribute "userAccountControl" is a integer, target "sn" a string`},
		{"direct flow multi to single", in(rules.Flow{Target: "sn", Source: "proxyAddresses"}), 0, `source attribute "proxyAddresses" is multi-valued`},
		{"bad constant", in(rules.Flow{Target: "accountEnabled", Constant: "yes", HasConstant: true}), 0, `constant "yes": not a boolean`},
		{"no flow kind", in(rules.Flow{Target: "sn"}), 0, "a flow needs exactly one of expression, source and constant"},
		{"target twice", in(rules.Flow{Target: "sn", Source: "sn"}, rules.Flow{Target: "sn", Source: "givenName"}), 0, `target "sn" set twice`},
		{"merge on single-valued", in(rules.Flow{Target: "sn", Source: "sn", Merge: rules.Merge}), 0, "merge merge needs a multi-valued target"},
		{"case-insensitive merge of references", with(in(rules.Flow{Target: "member", Expression: "['a']", Merge: rules.MergeCaseInsensitive}), func(r *rules.Rule) { r.TargetType = "group" }),
			0, "merge mergeCaseInsensitive needs a string target"},
		{"read-only target", out(rules.Flow{Target: "id", Source: "displayName"}), 0, `attribute "id" is read-only`},
		{"outbound target variable only outbound", in(rules.Flow{Target: "sn", Expression: "target.surname"}), 0, "undeclared reference to 'target'"},
		{"dn only outbound", in(rules.Flow{Target: "dn", Expression: "'x'"}), 0, `target type "person" has no attribute "dn"`},
		{"dn is a string", out(rules.Flow{Target: "dn", Expression: "1"}), 0, "result of type int cannot be assigned to string"},
		{"join target unknown", with(in(), func(r *rules.Rule) {
			r.Join = []rules.JoinGroup{{Conditions: []rules.JoinCondition{{Source: "source.mail", Target: "email", Pos: rules.Position{File: "r.yaml", Line: 6, Column: 10}}}}}
		}), 0, `r.yaml:6:10: rule "R": join group 1 condition 1: metaverse type "person" has no attribute "email"`},
		{"join type error", with(in(), func(r *rules.Rule) {
			r.Join = []rules.JoinGroup{{Conditions: []rules.JoinCondition{{Source: "source.userAccountControl", Target: "mail"}}}}
		}), 0, "join group 1 condition 1: `source.userAccountControl`: result of type int cannot be assigned to string or list(string)"},
		{"join on outbound", with(out(), func(r *rules.Rule) {
			r.Join = []rules.JoinGroup{{Conditions: []rules.JoinCondition{{Source: "source.mail", Target: "mail"}}}}
		}), 0, "join is for inbound rules only"},
		{"deprovision on inbound", with(in(), func(r *rules.Rule) { r.Deprovision = rules.DeprovisionDisable }), 0, "deprovision is for outbound rules only"},
		{"deprovision flows without disable", with(out(), func(r *rules.Rule) {
			r.DeprovisionFlows = []rules.Flow{{Target: "accountEnabled", Constant: "false", HasConstant: true}}
		}), 0, "deprovision flows need deprovision: disable"},
		{"bad link type", with(in(), func(r *rules.Rule) { r.LinkType = metaverse.LinkType(9) }), 0, "invalid link type LinkType(9)"},
		{"cost limit estimated", in(rules.Flow{Target: "displayName", Expression: "source.proxyAddresses.all(a, source.proxyAddresses.all(b, a != b || true)) ? 'x' : 'y'"}),
			0, "rules: expression cost limit exceeded: estimated cost"},
		{"small cost limit", in(rules.Flow{Target: "proxyAddresses", Expression: "source.proxyAddresses.map(p, p.lowerAscii())"}),
			100, "estimated cost 29613 is over the limit 100 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rules.Compile([]rules.Rule{tt.rule}, schemas, rules.Options{CostLimit: tt.limit})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.ErrorIs(t, err, rules.ErrInvalidRule)
			var ce *rules.CompileError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "R", ce.Rule)
			if strings.Contains(tt.want, "cost limit") || strings.Contains(tt.want, "over the limit") {
				assert.ErrorIs(t, err, rules.ErrCostLimit)
			}
		})
	}
}

func TestCompileReportsAllErrors(t *testing.T) {
	f, err := rules.ParseFile(filepath.Join("testdata", "bad_compile.yaml"))
	require.NoError(t, err)
	_, err = rules.Compile(f.Rules, testSchemas(t, f), rules.Options{})
	require.Error(t, err)
	assert.Equal(t, []string{
		"testdata/bad_compile.yaml:14:12: rule \"In from AD\": scope: `source.userAccountControl`: result of type int cannot be assigned to bool",
		`testdata/bad_compile.yaml:16:10: rule "In from AD": join group 1 condition 1: metaverse type "person" has no attribute "employeeNumber"`,
		"testdata/bad_compile.yaml:18:9: rule \"In from AD\": flow displayName: `source.unknownAttr`: column 7: undefined field 'unknownAttr'",
		"testdata/bad_compile.yaml:19:9: rule \"In from AD\": flow employeeID: `source.givenName + 1`: column 18: found no matching overload for '_+_' applied to '(string, int)'",
		"testdata/bad_compile.yaml:20:9: rule \"In from AD\": flow uac: `source.givenName`: result of type string cannot be assigned to int",
	}, strings.Split(err.Error(), "\n"))
}

func TestCompileSchemaErrors(t *testing.T) {
	_, err := rules.Compile(nil, rules.Schemas{}, rules.Options{})
	require.ErrorIs(t, err, rules.ErrInvalidRule)
	bad := &connector.Schema{Types: []connector.ObjectType{{Name: "p", Attributes: []connector.Attribute{{Name: "a"}}}}}
	_, err = rules.Compile(nil, rules.Schemas{Metaverse: bad}, rules.Options{})
	require.ErrorIs(t, err, rules.ErrInvalidRule)
	assert.Contains(t, err.Error(), "invalid type")
}

func TestCompileDuplicateRuleName(t *testing.T) {
	f, err := rules.ParseFile(filepath.Join("testdata", "good.yaml"))
	require.NoError(t, err)
	rs := append(f.Rules, f.Rules[1])
	_, err = rules.Compile(rs, testSchemas(t, f), rules.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `rule "In from AD - Group": rule name already used at testdata/good.yaml:`)
	assert.True(t, errors.Is(err, rules.ErrInvalidRule))
}
