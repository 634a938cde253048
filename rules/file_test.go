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

func TestParseGoodFile(t *testing.T) {
	path := filepath.Join("testdata", "good.yaml")
	f, err := rules.ParseFile(path)
	require.NoError(t, err)
	require.Len(t, f.Metaverse.Types, 2)
	require.Len(t, f.Rules, 3)

	r := f.Rules[0]
	assert.Equal(t, "In from AD - User", r.Name)
	assert.Equal(t, "Users from Active Directory.", r.Description)
	assert.Equal(t, rules.Inbound, r.Direction)
	assert.Equal(t, "ad", r.Connector)
	assert.Equal(t, "user", r.SourceType)
	assert.Equal(t, "person", r.TargetType)
	assert.Equal(t, 100, r.Precedence)
	assert.Equal(t, metaverse.Provision, r.LinkType)
	assert.Equal(t, rules.Position{File: path, Line: 23, Column: 5}, r.Pos)
	assert.Equal(t, "testdata/good.yaml:23:5", r.Pos.String())
	require.Len(t, r.Join, 2)
	assert.Equal(t, "source.employeeID", r.Join[0].Conditions[0].Source)
	assert.Equal(t, "employeeID", r.Join[0].Conditions[0].Target)
	assert.True(t, r.Join[1].Conditions[0].CaseInsensitive)
	require.Len(t, r.Flows, 12)
	assert.Equal(t, rules.Flow{Target: "company", Constant: "Contoso", HasConstant: true, Pos: rules.Position{File: path, Line: 40, Column: 9}}, r.Flows[4])
	assert.True(t, r.Flows[5].ApplyOnce)
	assert.Equal(t, rules.Merge, r.Flows[7].Merge)
	assert.Equal(t, "mail", r.Flows[3].Source)

	out := f.Rules[2]
	assert.Equal(t, rules.Outbound, out.Direction)
	assert.Equal(t, rules.DeprovisionDisable, out.Deprovision)
	require.Len(t, out.DeprovisionFlows, 1)
	assert.Equal(t, "false", out.DeprovisionFlows[0].Constant)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // each a complete "file:line:col: message" prefix or substring
	}{
		{"yaml syntax", "rules:\n  - name: [oops\n", []string{"x.yaml:1: did not find expected ',' or ']'"}},
		{"top-level not a mapping", "- a\n- b\n", []string{"x.yaml:1:1: rule file must be a mapping"}},
		{"unknown top-level key", "rulez: []\n", []string{`x.yaml:1:1: unknown key "rulez" in rule file`}},
		{"rules not a list", "rules: {a: b}\n", []string{"x.yaml:1:8: rules must be a list"}},
		{"unknown rule key", "rules:\n  - {name: r, direction: inbound, connector: ad, source: u, target: p, colour: blue}\n",
			[]string{`x.yaml:2:72: unknown key "colour" in rule`}},
		{"bad direction", "rules:\n  - name: r\n    direction: sideways\n    connector: ad\n    source: u\n    target: p\n",
			[]string{`x.yaml:3:16: unknown direction "sideways"`}},
		{"bad link type", "rules:\n  - {name: r, direction: inbound, connector: ad, source: u, target: p, linkType: Project}\n",
			[]string{`x.yaml:2:82: unknown link type "Project"`}},
		{"bad precedence", "rules:\n  - {name: r, direction: inbound, connector: ad, source: u, target: p, precedence: high}\n",
			[]string{"x.yaml:2:84: precedence must be an integer"}},
		{"missing direction", "rules:\n  - {name: r, connector: ad, source: u, target: p}\n", []string{`x.yaml:2:5: rule "r" has no direction`}},
		{"missing name", "rules:\n  - {direction: inbound, connector: ad, source: u, target: p}\n", []string{"x.yaml:2:5: rule has no name"}},
		{"flow with two sources", "rules:\n  - name: r\n    direction: inbound\n    connector: ad\n    source: u\n    target: p\n    flows:\n      - {target: a, source: b, constant: c}\n",
			[]string{`x.yaml:8:9: flow "a" needs exactly one of expression, source and constant`}},
		{"flow unknown key", "rules:\n  - name: r\n    direction: inbound\n    connector: ad\n    source: u\n    target: p\n    flows:\n      - {target: a, source: b, aplyOnce: true}\n",
			[]string{`x.yaml:8:32: unknown key "aplyOnce" in flow`}},
		{"bad merge", "rules:\n  - name: r\n    direction: inbound\n    connector: ad\n    source: u\n    target: p\n    flows:\n      - {target: a, source: b, merge: union}\n",
			[]string{`x.yaml:8:39: unknown merge type "union"`}},
		{"join condition unknown key", "rules:\n  - name: r\n    direction: inbound\n    connector: ad\n    source: u\n    target: p\n    join:\n      - [{source: source.a, attr: b}]\n",
			[]string{`x.yaml:8:29: unknown key "attr" in join condition`}},
		{"bad attribute type", "metaverse:\n  types:\n    - name: person\n      attributes:\n        - {name: a, type: text}\n",
			[]string{`x.yaml:5:27: unknown attribute type "text"`}},
		{"duplicate attribute", "metaverse:\n  types:\n    - name: person\n      attributes:\n        - {name: a, type: string}\n        - {name: a, type: string}\n",
			[]string{`x.yaml:2:3: connector: invalid schema: object type "person": attribute "a" declared twice`}},
		{"repeated key", "rules:\n  - {name: r, name: s, direction: inbound, connector: ad, source: u, target: p}\n", []string{`x.yaml:2:15: key "name" repeated in rule`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rules.Parse("x.yaml", []byte(tt.yaml))
			require.Error(t, err)
			assert.True(t, errors.Is(err, rules.ErrSyntax), "errors.Is(err, ErrSyntax): %v", err)
			var pe *rules.ParseError
			require.ErrorAs(t, err, &pe)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseBadFileReportsEveryError(t *testing.T) {
	_, err := rules.ParseFile(filepath.Join("testdata", "bad_parse.yaml"))
	require.Error(t, err)
	msgs := strings.Split(err.Error(), "\n")
	assert.Equal(t, []string{
		`testdata/bad_parse.yaml:5:37: unknown attribute type "text" (want string, bytes, integer, boolean, time or reference)`,
		`testdata/bad_parse.yaml:8:16: unknown direction "sideways" (want inbound or outbound)`,
		`testdata/bad_parse.yaml:12:5: unknown key "colour" in rule`,
		`testdata/bad_parse.yaml:14:9: flow "displayName" needs exactly one of expression, source and constant`,
		`testdata/bad_parse.yaml:15:48: applyOnce must be true or false`,
	}, msgs)
}

func TestParseFileMissing(t *testing.T) {
	_, err := rules.ParseFile(filepath.Join("testdata", "nope.yaml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope.yaml")
}

func TestParseEmpty(t *testing.T) {
	f, err := rules.Parse("empty.yaml", nil)
	require.NoError(t, err)
	assert.Empty(t, f.Rules)
}

func TestEnumStrings(t *testing.T) {
	for _, d := range []rules.Direction{rules.Inbound, rules.Outbound} {
		got, err := rules.ParseDirection(d.String())
		require.NoError(t, err)
		assert.Equal(t, d, got)
	}
	for _, a := range []rules.DeprovisionAction{rules.DeprovisionDelete, rules.DeprovisionDisconnect, rules.DeprovisionDisable} {
		got, err := rules.ParseDeprovisionAction(a.String())
		require.NoError(t, err)
		assert.Equal(t, a, got)
	}
	for _, m := range []rules.MergeType{rules.MergeUpdate, rules.Merge, rules.MergeCaseInsensitive} {
		got, err := rules.ParseMergeType(m.String())
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	assert.Equal(t, "Direction(9)", rules.Direction(9).String())
	assert.Equal(t, "AuthoritativeNull", rules.AuthoritativeNull.String())
	assert.Equal(t, "f.yaml:3", rules.Position{File: "f.yaml", Line: 3}.String())
	_ = connector.String
}
