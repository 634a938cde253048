package admin_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

const fixtureRules = `
metaverse:
  types:
    - name: person
      attributes:
        - {name: employeeID, type: string}
        - {name: displayName, type: string}
        - {name: department, type: string}
rules:
  - name: In from HR
    direction: inbound
    connector: hr
    source: worker
    target: person
    precedence: 10
    linkType: Provision
    join: [[{source: source.id, target: employeeID}]]
    flows:
      - {target: employeeID, source: id}
      - {target: displayName, expression: 'source.first + " " + source.last'}
      - {target: department, expression: '"Unassigned"'}
  - name: In from Directory
    direction: inbound
    connector: dir
    source: account
    target: person
    precedence: 5
    join: [[{source: source.employeeNumber, target: employeeID}]]
    flows:
      - {target: department, source: ou}
  - name: Out to Directory
    direction: outbound
    connector: dir
    source: person
    target: account
    precedence: 10
    linkType: Provision
    flows:
      - {target: dn, expression: '"uid=" + source.employeeID + ",ou=people"'}
      - {target: cn, source: displayName}
      - {target: employeeNumber, source: employeeID}
`

// hostile is a name that runs script if a page does not escape it.
const hostile = `<script>window.pwned=1</script><img src=x onerror="window.pwned=2">`

// fixture is an engine with two memconn connectors that has run two
// cycles: hr workers are provisioned to dir, one export is parked.
type fixture struct {
	eng     *idbridge.Engine
	hr, dir *memconn.System
}

// opts, when given, are the engine's options.
func newFixture(t testing.TB, opts ...idbridge.Options) *fixture {
	t.Helper()
	ctx := context.Background()
	str := func(n string) connector.Attribute { return connector.Attribute{Name: n, Type: connector.String} }
	hr := memconn.New(&connector.Schema{Types: []connector.ObjectType{{Name: "worker", Attributes: []connector.Attribute{
		str("id"), str("first"), str("last"), str("userPassword")}}}})
	dir := memconn.New(&connector.Schema{Types: []connector.ObjectType{{Name: "account", Attributes: []connector.Attribute{
		str("cn"), str("employeeNumber"), str("ou")}}}})
	worker := func(id, first, last string) connector.Object {
		return connector.Object{Anchor: connector.Anchor("hr-" + id), DN: "worker=" + id, Type: "worker", Attrs: connector.Attributes{
			"id": {connector.StringValue(id)}, "first": {connector.StringValue(first)}, "last": {connector.StringValue(last)},
			"userPassword": {connector.StringValue("Sekr1t-admin-" + id)},
		}}
	}
	hr.Put(worker("1001", "Ada", "Lovelace"))
	hr.Put(worker("1002", "Charles", "Babbage"))
	hr.Put(worker("1003", "Grace", hostile))
	hr.Put(worker("1004", "Alan", "Turing"))
	// An account of the directory that matches no worker: a disconnector.
	dir.Put(connector.Object{Anchor: "dir-9999", DN: "uid=9999,ou=people", Type: "account", Attrs: connector.Attributes{
		"cn": {connector.StringValue("Stray Account")}, "employeeNumber": {connector.StringValue("9999")}, "ou": {connector.StringValue("Nowhere")}}})
	// The directory refuses Alan for good: his export is parked.
	dir.FailObject(memconn.OpExport, "uid=1004,ou=people", connector.Permanent(errors.New("constraint violation: uid 1004 is reserved")))

	rf, err := rules.Parse("fixture.yaml", []byte(fixtureRules))
	require.NoError(t, err)
	cfg := idbridge.Config{
		Store:      memstore.New(),
		Connectors: map[string]connector.Connector{"hr": hr.Connector(), "dir": dir.Connector()},
		Rules:      rf,
	}
	if len(opts) > 0 {
		cfg.Options = opts[0]
	}
	eng, err := idbridge.New(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { eng.Close() })
	res, err := eng.Cycle(ctx, idbridge.Initial)
	require.NoError(t, err)
	require.Len(t, res.Errors(), 1)
	require.ErrorIs(t, res.Errors()[0], idbridge.ErrExportParked)
	// The directory gives Ada a department, which flows back in.
	ada, ok := dir.ByDN("uid=1001,ou=people")
	require.True(t, ok)
	require.NoError(t, dir.Modify(ada.Anchor, connector.Mod{Name: "ou", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue("Analytical Engines")}}))
	_, err = eng.Cycle(ctx, idbridge.Delta)
	require.NoError(t, err)
	hr.Put(worker("1005", "Edsger", "Dijkstra")) // pending: no cycle since
	return &fixture{eng: eng, hr: hr, dir: dir}
}
