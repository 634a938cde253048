package idbridge_test

import (
	"context"
	"fmt"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

const exampleRules = `
metaverse:
  types:
    - name: person
      attributes:
        - {name: employeeID, type: string}
        - {name: displayName, type: string}
        - {name: accountEnabled, type: boolean}
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
      - {target: displayName, expression: 'source.first + " " + source.last.upperAscii()'}
      - {target: accountEnabled, expression: 'source.status == "active"'}
  - name: Out to Directory
    direction: outbound
    connector: dir
    source: person
    target: account
    precedence: 10
    linkType: Provision
    scope: source.accountEnabled
    flows:
      - {target: dn, expression: '"uid=" + source.employeeID + ",ou=people"'}
      - {target: cn, source: displayName}
`

// An engine syncs an HR system to a directory: active workers are
// provisioned, a worker who leaves is deprovisioned.
func Example() {
	ctx := context.Background()
	str := func(n string) connector.Attribute { return connector.Attribute{Name: n, Type: connector.String} }
	hr := memconn.New(&connector.Schema{Types: []connector.ObjectType{{Name: "worker", Attributes: []connector.Attribute{str("id"), str("first"), str("last"), str("status")}}}})
	dir := memconn.New(&connector.Schema{Types: []connector.ObjectType{{Name: "account", Attributes: []connector.Attribute{str("cn")}}}})
	worker := func(id, first, last, status string) connector.Object {
		return connector.Object{Anchor: connector.Anchor("hr-" + id), DN: "worker=" + id, Type: "worker", Attrs: connector.Attributes{
			"id": {connector.StringValue(id)}, "first": {connector.StringValue(first)},
			"last": {connector.StringValue(last)}, "status": {connector.StringValue(status)},
		}}
	}
	hr.Put(worker("1001", "Ada", "Lovelace", "active"))
	hr.Put(worker("1002", "Charles", "Babbage", "active"))
	hr.Put(worker("1003", "Alan", "Turing", "on-leave"))

	rf, err := rules.Parse("example.yaml", []byte(exampleRules))
	if err != nil {
		fmt.Println(err)
		return
	}
	eng, err := idbridge.New(ctx, idbridge.Config{
		Store:      memstore.New(),
		Connectors: map[string]connector.Connector{"hr": hr.Connector(), "dir": dir.Connector()},
		Rules:      rf,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	show := func() {
		for _, o := range dir.All() {
			fmt.Printf("  %s cn=%s\n", o.DN, o.Attrs["cn"][0])
		}
	}

	res, _ := eng.Cycle(ctx, idbridge.Initial)
	for _, r := range res.Runs {
		fmt.Println(r)
	}
	show()

	hr.Delete("hr-1002") // Charles leaves
	res, _ = eng.Cycle(ctx, idbridge.Delta)
	for _, r := range res.Runs {
		fmt.Println(r)
	}
	show()
	// Output:
	// dir FullImport: no changes
	// hr FullImport: adds=3
	// dir FullSync: no changes
	// hr FullSync: projections=3 provisions=2
	// dir Export: exported=2
	//   uid=1001,ou=people cn=Ada LOVELACE
	//   uid=1002,ou=people cn=Charles BABBAGE
	// dir DeltaImport: unchanged=2 confirmed=2
	// hr DeltaImport: deletes=1
	// dir DeltaSync: no changes
	// hr DeltaSync: deletes=1 disconnects=1 mvDeletes=1 deprovisions=1
	// dir Export: exported=1
	//   uid=1001,ou=people cn=Ada LOVELACE
}
