package idbridge_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

// A rule change is tried on the whole directory before it is applied: the
// what-if counts what it would do, writing nothing, and a limit turns it
// into a check for a product's CI.
func ExampleEngine_WhatIf() {
	ctx := context.Background()
	str := func(n string) connector.Attribute { return connector.Attribute{Name: n, Type: connector.String} }
	hr := memconn.New(&connector.Schema{Types: []connector.ObjectType{{Name: "worker", Attributes: []connector.Attribute{str("id"), str("first"), str("last"), str("status")}}}})
	dir := memconn.New(&connector.Schema{Types: []connector.ObjectType{{Name: "account", Attributes: []connector.Attribute{str("cn")}}}})
	for _, w := range [][3]string{{"1001", "Ada", "Lovelace"}, {"1002", "Charles", "Babbage"}, {"1003", "Alan", "Turing"}} {
		hr.Put(connector.Object{Anchor: connector.Anchor("hr-" + w[0]), DN: "worker=" + w[0], Type: "worker", Attrs: connector.Attributes{
			"id": {connector.StringValue(w[0])}, "first": {connector.StringValue(w[1])},
			"last": {connector.StringValue(w[2])}, "status": {connector.StringValue("active")},
		}})
	}
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
	if _, err := eng.Cycle(ctx, idbridge.Initial); err != nil {
		fmt.Println(err)
		return
	}

	// The change under review: only workers whose ID ends in 1 keep an
	// account, and the account's cn loses the upper-casing.
	changed := strings.NewReplacer(
		"scope: source.accountEnabled", `scope: source.accountEnabled && source.employeeID.endsWith("1")`,
		`source.first + " " + source.last.upperAscii()`, `source.first + " " + source.last`,
	).Replace(exampleRules)
	next, err := rules.Parse("example.yaml", []byte(changed))
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := eng.WhatIf(ctx, next, idbridge.WhatIfOptions{
		Limits: []idbridge.WhatIfLimit{{Kind: idbridge.WhatIfDelete, Connector: "dir", Max: 1}},
	})
	for _, c := range rep.Connectors {
		fmt.Printf("%s %s: %d deletes, %d updates %v\n", c.Connector, c.Type, c.Deletes, c.Updates, c.Attributes)
	}
	for _, c := range rep.Metaverse {
		fmt.Printf("metaverse %s: %d updates %v\n", c.Type, c.Updates, c.Attributes)
	}
	fmt.Println(errors.Is(err, idbridge.ErrWhatIfLimit))
	fmt.Println(err)
	fmt.Println(len(dir.All()), "accounts: nothing was written")
	// Output:
	// dir account: 2 deletes, 1 updates map[cn:1]
	// metaverse person: 3 updates map[displayName:3]
	// true
	// idbridge: what-if: the rule change has 2 delete of objects in "dir" (limit 1)
	// 3 accounts: nothing was written
}
