package connectortest_test

import (
	"context"
	"fmt"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/memconn"
)

// harness is what a connector's test writes: seed the backend, make a
// connector to it. Here the backend is an in-memory system; for a real
// connector Seed writes the fixtures to its server or file.
type harness struct{ sys *memconn.System }

func (h *harness) Seed(ctx context.Context) ([]connector.Object, error) {
	h.sys = memconn.New(&connector.Schema{Types: []connector.ObjectType{
		{Name: "user", Attributes: []connector.Attribute{{Name: "cn", Type: connector.String}}},
	}})
	ada := connector.Object{Anchor: "a1", DN: "cn=Ada,dc=example", Type: "user",
		Attrs: connector.Attributes{"cn": {connector.StringValue("Ada")}}}
	h.sys.Put(ada)
	return []connector.Object{ada}, nil
}

func (h *harness) Connector(ctx context.Context) (connector.Connector, error) {
	return h.sys.Connector(), nil
}

// A connector's whole conformance test is a Harness and one call, in a
// _test.go file:
//
//	func TestConformance(t *testing.T) {
//		connectortest.Run(t, &harness{})
//	}
//
// Implementing Mutator, ObjectMaker, BadChanger or Configurer (with
// Options.Writable) turns on the delta, export and error-mapping checks.
func Example() {
	h := &harness{}
	seeded, _ := h.Seed(context.Background())
	c, _ := h.Connector(context.Background())
	defer c.Close()

	// Recorder runs an import without an engine, as the suite does.
	var rec connectortest.Recorder
	_ = c.Import(context.Background(), &rec)
	fmt.Println(len(seeded), "seeded,", len(rec.Objects()), "imported, events:", rec.Events)
	// Output:
	// 1 seeded, 1 imported, events: [object checkpoint]
}
