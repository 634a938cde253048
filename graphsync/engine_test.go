package graphsync_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

const engineRules = `
metaverse:
  types:
    - name: person
      attributes:
        - {name: upn, type: string}
        - {name: name, type: string}
        - {name: title, type: string}
        - {name: anchor, type: string}
rules:
  - name: in
    direction: inbound
    connector: hr
    source: person
    target: person
    linkType: Provision
    flows:
      - {target: upn, source: upn}
      - {target: name, source: name}
      - {target: title, source: title}
      - {target: anchor, expression: 'source.id'}
  - name: out
    direction: outbound
    connector: cloud
    source: person
    target: user
    linkType: Provision
    flows:
      - {target: userPrincipalName, source: upn}
      - {target: displayName, source: name}
      - {target: jobTitle, source: title}
      - {target: onPremisesImmutableId, source: anchor}
  - name: cloud join
    direction: inbound
    connector: cloud
    source: user
    target: person
    linkType: Join
    join:
      - [{source: source.onPremisesImmutableId, target: anchor}]
`

// TestEngineCycles: the engine drives graphsync end to end: an initial
// cycle creates the users, a delta cycle carries one change, and an
// expired delta link makes the engine fall back to a full import by
// itself, with nothing exported twice.
func TestEngineCycles(t *testing.T) {
	ctx := context.Background()
	srv, cloud := newEnv(t, graphtest.Options{PageSize: 50}, func(cfg *graphsync.Config) { cfg.Types = []string{graphsync.TypeUser} })
	eng, hr := newEngine(t, cloud, 120)

	c, err := eng.Cycle(ctx, idbridge.Initial)
	require.NoError(t, err)
	require.Empty(t, c.Errors())
	require.Len(t, srv.Users(), 120)
	c, err = eng.Cycle(ctx, idbridge.Delta) // confirms the exports
	require.NoError(t, err)
	require.Empty(t, c.Errors())
	writes := srv.Writes()

	require.NoError(t, hr.Modify("hr-7", connector.Mod{Name: "title", Op: connector.ModReplace, Values: str1("Lead")}))
	c, err = eng.Cycle(ctx, idbridge.Delta)
	require.NoError(t, err)
	require.Empty(t, c.Errors())
	assert.Equal(t, writes+1, srv.Writes(), "one change, one write")
	found := false
	for _, u := range srv.Users() {
		if u["userPrincipalName"] == "p007@example.com" {
			found = true
			assert.Equal(t, "Lead", u["jobTitle"])
		}
	}
	assert.True(t, found)

	srv.ExpireDeltaTokens()
	r, err := eng.DeltaImport(ctx, "cloud")
	require.NoError(t, err, "an expired delta link falls back to a full import")
	assert.Empty(t, r.Errors)
	c, err = eng.Cycle(ctx, idbridge.Delta)
	require.NoError(t, err)
	require.Empty(t, c.Errors())
	assert.Equal(t, writes+1, srv.Writes(), "nothing exported again after the fallback")
	assert.Len(t, srv.Users(), 120)
}

func str1(s string) []connector.Value { return []connector.Value{connector.StringValue(s)} }

// newEngine is an engine from an HR source of n people to cloud.
func newEngine(t *testing.T, cloud connector.Connector, n int) (*idbridge.Engine, *memconn.System) {
	t.Helper()
	str := func(n string) connector.Attribute { return connector.Attribute{Name: n, Type: connector.String} }
	hr := memconn.New(&connector.Schema{Types: []connector.ObjectType{{Name: "person", Attributes: []connector.Attribute{
		str("id"), str("upn"), str("name"), str("title")}}}})
	for i := range n {
		hr.Put(connector.Object{Anchor: connector.Anchor(fmt.Sprint("hr-", i)), DN: fmt.Sprint("id=", i), Type: "person", Attrs: connector.Attributes{
			"id": str1(fmt.Sprint("hr-", i)), "upn": str1(fmt.Sprintf("p%03d@example.com", i)), "name": str1(fmt.Sprint("Person ", i)), "title": str1("Staff"),
		}})
	}
	rf, err := rules.Parse("rules.yaml", []byte(engineRules))
	require.NoError(t, err)
	eng, err := idbridge.New(context.Background(), idbridge.Config{
		Store:      memstore.New(),
		Connectors: map[string]connector.Connector{"hr": hr.Connector(), "cloud": cloud},
		Rules:      rf,
	})
	require.NoError(t, err)
	return eng, hr
}

// TestEngineQuarantineWarning: a userPrincipalName held by a cloud-only
// user is quarantined, and the run reports it on the object.
func TestEngineQuarantineWarning(t *testing.T) {
	ctx := context.Background()
	srv, cloud := newEnv(t, graphtest.Options{}, func(cfg *graphsync.Config) { cfg.Types = []string{graphsync.TypeUser} })
	_, err := srv.CreateUser(userProps("p001"))
	require.NoError(t, err)
	eng, _ := newEngine(t, cloud, 3)
	c, err := eng.Cycle(ctx, idbridge.Initial)
	require.NoError(t, err)
	require.Empty(t, c.Errors())
	warnings := 0
	for _, r := range c.Runs {
		warnings += r.WarningCount
		for _, w := range r.Warnings {
			assert.Contains(t, w.Error(), "quarantined")
			assert.NotEmpty(t, w.ObjectID, "the warning names the object")
		}
	}
	assert.Equal(t, 1, warnings)
	assert.Len(t, srv.Users(), 4, "the source user exists, under a quarantined name")
}
