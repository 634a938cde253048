package memconn_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

// The rule file under test: HR workers become directory accounts.
const ruleFile = `
metaverse:
  types:
    - name: person
      attributes:
        - {name: employeeID, type: string}
        - {name: displayName, type: string}
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
`

// setup returns an HR system with two workers, an empty directory and an
// engine syncing one to the other with ruleFile.
func setup(ctx context.Context) (hr, dir *memconn.System, eng *idbridge.Engine, err error) {
	str := func(n string) connector.Attribute { return connector.Attribute{Name: n, Type: connector.String} }
	hr = memconn.New(&connector.Schema{Types: []connector.ObjectType{{Name: "worker",
		Attributes: []connector.Attribute{str("id"), str("first"), str("last")}}}})
	dir = memconn.New(&connector.Schema{Types: []connector.ObjectType{{Name: "account",
		Attributes: []connector.Attribute{str("cn")}}}})
	for _, w := range [][3]string{{"1001", "Ada", "Lovelace"}, {"1002", "Grace", "Hopper"}} {
		hr.Put(connector.Object{Anchor: connector.Anchor("hr-" + w[0]), DN: "worker=" + w[0], Type: "worker",
			Attrs: connector.Attributes{"id": {connector.StringValue(w[0])},
				"first": {connector.StringValue(w[1])}, "last": {connector.StringValue(w[2])}}})
	}
	rf, err := rules.Parse("hr-to-dir.yaml", []byte(ruleFile))
	if err != nil {
		return nil, nil, nil, err
	}
	eng, err = idbridge.New(ctx, idbridge.Config{
		Store:      memstore.New(),
		Connectors: map[string]connector.Connector{"hr": hr.Connector(), "dir": dir.Connector()},
		Rules:      rf,
	})
	return hr, dir, eng, err
}

// A rule file tested end to end: what the directory holds after a cycle.
func Example() {
	ctx := context.Background()
	_, dir, eng, err := setup(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := eng.Cycle(ctx, idbridge.Initial); err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range dir.All() {
		fmt.Println(o.DN, o.Attrs["cn"][0])
	}
	// Output:
	// uid=1001,ou=people Ada Lovelace
	// uid=1002,ou=people Grace Hopper
}

// A record the HR connector cannot read is an error of that object in the
// import's results; the account synced from it keeps its values.
func ExampleSystem_Malform() {
	ctx := context.Background()
	hr, dir, eng, err := setup(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := eng.Cycle(ctx, idbridge.Initial); err != nil {
		fmt.Println(err)
		return
	}

	_ = hr.Modify("hr-1002", connector.Mod{Name: "last", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue("Murray Hopper")}})
	hr.Malform("hr-1002")
	res, _ := eng.Cycle(ctx, idbridge.Delta)
	for _, e := range res.Errors() {
		fmt.Println("error:", e.Anchor, errors.Is(e, memconn.ErrMalformed), errors.Is(e, connector.ErrInvalidObject))
	}
	grace, _ := dir.ByDN("uid=1002,ou=people")
	fmt.Println(grace.Attrs["cn"][0])
	// Output:
	// error: hr-1002 true true
	// Grace Hopper
}

// An export refused for one object fails that object alone; the refusal
// is in the run's errors and the object's pending export stays for the
// next cycle.
func ExampleSystem_FailObject() {
	ctx := context.Background()
	_, dir, eng, err := setup(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	dir.FailObject(memconn.OpExport, "uid=1002,ou=people", connector.ErrConstraint)
	res, _ := eng.Cycle(ctx, idbridge.Initial)
	for _, e := range res.Errors() {
		fmt.Println("error:", e.DN, errors.Is(e, connector.ErrConstraint))
	}
	fmt.Println(dir.Len(), "account")

	// A refusal (a constraint violation) is parked: not sent again until
	// the object changes or an operator asks, once the cause is fixed.
	dir.ClearFaults()
	_, _ = eng.Cycle(ctx, idbridge.Delta)
	fmt.Println(dir.Len(), "account while parked")
	n, _ := eng.RetryExports(ctx, "dir")
	_, _ = eng.Cycle(ctx, idbridge.Delta)
	fmt.Println(n, "retried,", dir.Len(), "accounts")
	// Output:
	// error: uid=1002,ou=people true
	// 1 account
	// 1 account while parked
	// 1 retried, 2 accounts
}

// A directory that is down fails the export call as a whole: every change
// of the batch fails, and is sent again after a back-off.
func ExampleSystem_FailCall() {
	ctx := context.Background()
	_, dir, eng, err := setup(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	dir.FailCall(memconn.OpExport, connector.ErrUnavailable)
	res, _ := eng.Cycle(ctx, idbridge.Initial)
	for _, e := range res.Errors() {
		fmt.Println("error:", e.DN, errors.Is(e, connector.ErrUnavailable))
	}
	fmt.Println(dir.Len(), "accounts")
	// A transient failure is retried after a back-off (Options.
	// ExportRetryBackoff, one minute at first): the next cycle, at once,
	// leaves the changes pending; RetryExports sends them now.
	dir.ClearFaults()
	_, err = eng.Cycle(ctx, idbridge.Delta)
	fmt.Println(err, dir.Len(), "accounts,", dir.Calls(memconn.OpExport), "export call")
	_, _ = eng.RetryExports(ctx, "dir")
	_, err = eng.Cycle(ctx, idbridge.Delta)
	fmt.Println(err, dir.Len(), "accounts,", dir.Calls(memconn.OpExport), "export calls")
	// Output:
	// error: uid=1001,ou=people true
	// error: uid=1002,ou=people true
	// 0 accounts
	// <nil> 0 accounts, 1 export call
	// <nil> 2 accounts, 2 export calls
}
