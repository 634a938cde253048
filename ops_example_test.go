package idbridge_test

import (
	"context"
	"fmt"
	"time"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

// exampleEngine is Example's engine, with opts.
func exampleEngine(ctx context.Context, opts idbridge.Options) (*idbridge.Engine, *memconn.System, *memconn.System, error) {
	str := func(n string) connector.Attribute { return connector.Attribute{Name: n, Type: connector.String} }
	hr := memconn.New(&connector.Schema{Types: []connector.ObjectType{{Name: "worker", Attributes: []connector.Attribute{str("id"), str("first"), str("last"), str("status")}}}})
	dir := memconn.New(&connector.Schema{Types: []connector.ObjectType{{Name: "account", Attributes: []connector.Attribute{str("cn")}}}})
	for i, name := range []string{"Ada", "Charles", "Alan"} {
		id := fmt.Sprint(1001 + i)
		hr.Put(connector.Object{Anchor: connector.Anchor("hr-" + id), DN: "worker=" + id, Type: "worker", Attrs: connector.Attributes{
			"id": {connector.StringValue(id)}, "first": {connector.StringValue(name)},
			"last": {connector.StringValue("X")}, "status": {connector.StringValue("active")},
		}})
	}
	rf, err := rules.Parse("example.yaml", []byte(exampleRules))
	if err != nil {
		return nil, nil, nil, err
	}
	eng, err := idbridge.New(ctx, idbridge.Config{
		Store:      memstore.New(),
		Connectors: map[string]connector.Connector{"hr": hr.Connector(), "dir": dir.Connector()},
		Rules:      rf,
		Options:    opts,
	})
	return eng, hr, dir, err
}

// Hooks follow the runs as they happen; History and ObjectErrors answer an
// operator afterwards.
func ExampleEngine_History() {
	ctx := context.Background()
	hooks := idbridge.Hooks{
		RunEnd: func(ri idbridge.RunInfo, r *idbridge.RunResult, err error) {
			fmt.Printf("ended: %s %s %s\n", ri.Connector, ri.Profile, idbridge.RunOutcome(r, err))
		},
		ObjectError: func(ev idbridge.ObjectErrorEvent) { fmt.Println("object error:", ev.Text) },
	}
	eng, _, dir, err := exampleEngine(ctx, idbridge.Options{Hooks: hooks})
	if err != nil {
		fmt.Println(err)
		return
	}
	dir.FailObject(memconn.OpExport, "uid=1002,ou=people", connector.ErrConstraint)
	if _, err := eng.Cycle(ctx, idbridge.Initial); err != nil {
		fmt.Println(err)
	}

	page, _ := eng.History(ctx, idbridge.HistoryQuery{Connector: "dir", Limit: 2})
	for _, r := range page.Runs {
		fmt.Printf("history: %s %s %s %v\n", r.Connector, r.Profile, r.Outcome, r.Counts)
	}
	errs, _ := eng.ObjectErrors(ctx, idbridge.ErrorQuery{})
	for _, e := range errs.Errors {
		fmt.Printf("current: %s %s %s parked=%v\n", e.Connector, e.Step, e.DN, e.Parked)
	}
	// Output:
	// ended: dir FullImport success
	// ended: hr FullImport success
	// ended: dir FullSync success
	// ended: hr FullSync success
	// object error: idbridge: dir: export add uid=1002,ou=people: connector: add uid=1002,ou=people: connector: constraint violation (parked: not sent again until the object changes or RetryExports)
	// ended: dir Export completed-errors
	// history: dir Export completed-errors map[errors:1 exportFailed:1 exportParked:1 exported:2]
	// history: dir FullSync success map[]
	// current: dir export uid=1002,ou=people parked=true
}

// A connector whose credentials are refused is quarantined: cycles skip it
// until its back-off passes, and the operator sees why.
func ExampleEngine_Quarantines() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	eng, _, dir, err := exampleEngine(ctx, idbridge.Options{Now: func() time.Time { return now }})
	if err != nil {
		fmt.Println(err)
		return
	}
	dir.FailCall(memconn.OpImport, fmt.Errorf("bind as cn=sync: %w", connector.ErrAuth))
	_, err = eng.Cycle(ctx, idbridge.Initial)
	fmt.Println("cycle failed:", err != nil)
	for _, q := range eng.Quarantines() {
		fmt.Printf("%s in quarantine (%s, %s) until %s\n", q.Connector, q.Reason, q.Step, q.Until.Format(time.Kitchen))
	}
	cr, _ := eng.Cycle(ctx, idbridge.Delta)
	fmt.Println("skipped:", cr.Skipped[0].Connector)

	// The operator fixed the password.
	_ = eng.ClearQuarantine(ctx, "dir")
	cr, _ = eng.Cycle(ctx, idbridge.Delta)
	fmt.Println("skipped after clearing:", len(cr.Skipped), "in quarantine:", len(eng.Quarantines()))
	// Output:
	// cycle failed: true
	// dir in quarantine (auth, import) until 9:10AM
	// skipped: dir
	// skipped after clearing: 0 in quarantine: 0
}
