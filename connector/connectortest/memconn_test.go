package connectortest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/memconn"
)

// memHarness runs the suite against the engine's in-memory test connector,
// wrapped to add Watch and, when fault is set, to break one rule: it
// checks the suite itself.
type memHarness struct {
	sys   *memconn.System
	next  int
	fault string
}

var (
	_ connectortest.Harness     = (*memHarness)(nil)
	_ connectortest.Mutator     = (*memHarness)(nil)
	_ connectortest.ObjectMaker = (*memHarness)(nil)
	_ connectortest.Configurer  = (*memHarness)(nil)
	_ connectortest.Malformer   = (*memHarness)(nil)
)

func memSchema() *connector.Schema {
	return &connector.Schema{Types: []connector.ObjectType{
		{Name: "user", Attributes: []connector.Attribute{
			{Name: "cn", Type: connector.String},
			{Name: "title", Type: connector.String},
			{Name: "mail", Type: connector.String, Multi: true},
			{Name: "manager", Type: connector.Reference},
		}},
	}}
}

func (h *memHarness) Seed(ctx context.Context) ([]connector.Object, error) {
	h.sys = memconn.New(memSchema())
	var objs []connector.Object
	for i, name := range []string{"Ada", "Grace", "Alan", "Edsger"} {
		o := connector.Object{
			Anchor: connector.Anchor(fmt.Sprintf("seed-%d", i)),
			DN:     "CN=" + name + ",OU=Staff,DC=example,DC=com",
			Type:   "user",
			Attrs: connector.Attributes{
				"cn":    {connector.StringValue(name)},
				"title": {connector.StringValue("Engineer")},
				"mail":  {connector.StringValue(name + "@example.com")},
			},
		}
		if i > 0 {
			o.Attrs.Set("manager", connector.RefValue("seed-0", "CN=Ada,OU=Staff,DC=example,DC=com"))
		}
		h.sys.Put(o)
		objs = append(objs, o)
	}
	return objs, nil
}

// SeedMalformed adds an object whose record the connector cannot read.
func (h *memHarness) SeedMalformed(ctx context.Context) (string, error) {
	dn := "CN=Broken,OU=Staff,DC=example,DC=com"
	h.sys.Put(connector.Object{Anchor: "broken", DN: dn, Type: "user", Attrs: connector.Attributes{"cn": {connector.StringValue("Broken")}}})
	h.sys.Malform("broken")
	return dn, nil
}

func (h *memHarness) Connector(ctx context.Context) (connector.Connector, error) {
	return &faulty{Connector: h.sys.Connector(), sys: h.sys, fault: h.fault}, nil
}

func (h *memHarness) Options() connectortest.Options {
	return connectortest.Options{Writable: true, Timeout: 2 * time.Second}
}

func (h *memHarness) NewObject(n int) connector.Object {
	name := fmt.Sprintf("New %d", n)
	return connector.Object{Type: "user", DN: "CN=" + name + ",OU=Staff,DC=example,DC=com", Attrs: connector.Attributes{
		"cn":      {connector.StringValue(name)},
		"manager": {connector.RefValue("", "cn=ada,ou=staff,dc=example,dc=com")},
	}}
}

func (h *memHarness) Mutate(ctx context.Context, c connector.Change) (connector.Anchor, error) {
	switch {
	case c.Kind == connector.Add:
		h.next++
		a := connector.Anchor(fmt.Sprintf("oob-%d", h.next))
		h.sys.Put(connector.Object{Anchor: a, DN: c.DN, Type: c.Type, Attrs: c.Attrs})
		return a, nil
	case c.Kind == connector.Delete:
		h.sys.Delete(c.Anchor)
		return c.Anchor, nil
	case c.Renamed():
		return c.Anchor, h.sys.Rename(c.Anchor, c.DN)
	default:
		return c.Anchor, h.sys.Modify(c.Anchor, c.Mods...)
	}
}

func TestMemconn(t *testing.T) {
	connectortest.Run(t, &memHarness{})
}

// TestSuiteDetectsFaults runs the suite against connectors that each break
// one rule, in a child process (a failing suite fails its test), and checks
// that the suite fails and says why.
func TestSuiteDetectsFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite in child processes")
	}
	tests := []struct{ fault, want string }{
		{"dupAnchor", "anchor imported twice"},
		{"abortOnMalformed", "must report an unreadable record through sink.Error"},
		{"noCheckpoint", "Import must call Checkpoint last"},
		{"badType", "does not conform to the schema"},
		{"ignoreCancel", "Import with a cancelled context must fail"},
		{"resultOrder", "results are in the order of the changes"},
		{"callError", "a refused change is reported in its result"},
		{"wrongSentinel", "update of a missing object, among good changes"},
		{"deltaExtra", "delta reports an object that did not change"},
		{"deltaNoDelete", "delta does not report the delete"},
		{"watchNever", "no Watch notification within the timeout"},
		{"watchLeak", "Watch did not return within the timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestFaultyConnector$", "-test.v")
			cmd.Env = append(os.Environ(), "CONNECTORTEST_FAULT="+tt.fault)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the suite passed a connector with fault %s:\n%s", tt.fault, out)
			assert.Contains(t, string(out), tt.want)
		})
	}
}

// TestFaultyConnector is run by TestSuiteDetectsFaults.
func TestFaultyConnector(t *testing.T) {
	fault := os.Getenv("CONNECTORTEST_FAULT")
	if fault == "" {
		t.Skip("run by TestSuiteDetectsFaults")
	}
	connectortest.Run(t, &memHarness{fault: fault})
}

// faulty wraps a memconn connector: it adds a polling Watch and injects
// its fault.
type faulty struct {
	*memconn.Connector
	sys   *memconn.System
	fault string
}

var _ connector.Watcher = (*faulty)(nil)

func (f *faulty) Import(ctx context.Context, sink connector.ImportSink) error {
	if f.fault == "ignoreCancel" {
		ctx = context.WithoutCancel(ctx)
	}
	return f.Connector.Import(ctx, &faultySink{ImportSink: sink, f: f})
}

func (f *faulty) DeltaImport(ctx context.Context, wm []byte, sink connector.ImportSink) error {
	return f.Connector.DeltaImport(ctx, wm, &faultySink{ImportSink: sink, f: f, delta: true})
}

func (f *faulty) Export(ctx context.Context, changes []connector.Change) ([]connector.ExportResult, error) {
	res, err := f.Connector.Export(ctx, changes)
	switch f.fault {
	case "resultOrder":
		slices.Reverse(res)
	case "callError":
		for _, r := range res {
			if r.Err != nil {
				return nil, r.Err
			}
		}
	case "wrongSentinel":
		for i, r := range res {
			if errors.Is(r.Err, connector.ErrNoSuchObject) {
				res[i].Err = &connector.ObjectError{Op: "update", Err: connector.ErrConstraint}
			}
		}
	}
	return res, err
}

// Watch polls for delta changes.
func (f *faulty) Watch(ctx context.Context, notify func()) error {
	switch f.fault {
	case "watchNever":
		<-ctx.Done()
		return nil
	case "watchLeak":
		time.Sleep(5 * time.Second)
		return nil
	}
	var rec connectortest.Recorder
	if err := f.Connector.Import(ctx, &rec); err != nil {
		return err
	}
	wm := rec.Watermark()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		var d connectortest.Recorder
		if err := f.Connector.DeltaImport(ctx, wm, &d); err != nil {
			return err
		}
		wm = d.Watermark()
		if len(d.Changes) > 0 {
			notify()
		}
	}
}

type faultySink struct {
	connector.ImportSink
	f     *faulty
	delta bool
	n     int
}

func (s *faultySink) Object(ctx context.Context, c connector.Change) error {
	s.n++
	switch s.f.fault {
	case "dupAnchor":
		if s.n == 1 {
			if err := s.ImportSink.Object(ctx, c); err != nil {
				return err
			}
		}
	case "badType":
		c.Attrs = c.Attrs.Clone()
		c.Attrs.Set("title", connector.IntValue(1))
	case "deltaNoDelete":
		if s.delta && c.Kind == connector.Delete {
			return nil
		}
	}
	return s.ImportSink.Object(ctx, c)
}

// Error aborts the import on a bad record with fault abortOnMalformed, as
// a connector that returns the parse error instead of reporting it does.
func (s *faultySink) Error(ctx context.Context, oe *connector.ObjectError) error {
	if s.f.fault == "abortOnMalformed" {
		return fmt.Errorf("cannot parse %s: %w", oe.DN, oe)
	}
	return s.ImportSink.Error(ctx, oe)
}

func (s *faultySink) Checkpoint(ctx context.Context, wm []byte) error {
	switch s.f.fault {
	case "noCheckpoint":
		return nil
	case "deltaExtra":
		if s.delta && s.n > 0 {
			for _, o := range s.f.sys.All() {
				if err := s.ImportSink.Object(ctx, connector.Change{Kind: connector.Add, Anchor: o.Anchor, Type: o.Type, DN: o.DN, Attrs: o.Attrs}); err != nil {
					return err
				}
			}
		}
	}
	return s.ImportSink.Checkpoint(ctx, wm)
}
