package connectortest

import (
	"context"
	"time"

	"github.com/idbridge/idbridge/connector"
)

// Harness connects the suite to one connector and the backend it talks to
// (a file, a directory server, an emulator). It is the only thing a
// connector's test writes; optional capabilities are the Mutator,
// ObjectMaker, BadChanger, Malformer and Configurer interfaces, which a Harness
// implements when its backend can.
//
// Run calls the methods of a Harness from one goroutine at a time.
type Harness interface {
	// Seed resets the backend so that it holds the harness's fixture
	// objects and nothing the suite created before (each test group starts
	// with a Seed), and returns those objects as the connector's full import
	// must report them. An object's Anchor may be empty when the backend
	// assigns anchors; the suite then identifies it by DN. Only the
	// attributes listed are compared with the import, so a harness lists
	// the ones it wants checked.
	Seed(ctx context.Context) ([]connector.Object, error)

	// Connector returns a new connector to the backend, configured as the
	// connector's users would. It is called after Seed, and the suite
	// closes it.
	Connector(ctx context.Context) (connector.Connector, error)
}

// Mutator is implemented by a Harness that can change its backend out of
// band, as an administrator would, without going through the connector
// under test. The DeltaImport group uses it to check that a delta reports
// exactly the changes made, and the Watch group to trigger a notification;
// without it, DeltaImport only checks that a delta of an unchanged backend
// reports nothing, and Watch is skipped.
type Mutator interface {
	// Mutate applies c to the backend: an Add (Anchor empty, the object
	// comes from ObjectMaker.NewObject), an Update with Mods, an Update
	// with a new DN (OldDN is the current one) or a Delete. Update and
	// Delete carry the object's Anchor and current DN. Mutate returns the
	// object's anchor: for an Add, the one the backend assigned, or ""
	// when it is not known yet (the suite then finds the object by DN).
	Mutate(ctx context.Context, c connector.Change) (connector.Anchor, error)
}

// ObjectMaker is implemented by a Harness that can describe objects valid
// for its backend that the suite may create (through Mutator or Export).
// Without it the suite adds no objects: the add steps are skipped.
type ObjectMaker interface {
	// NewObject returns the n-th new object (n ≥ 1): a type from the
	// schema, a DN not in use and attributes valid for the backend, all
	// different for different n. Anchor is empty.
	NewObject(n int) connector.Object
}

// BadChanger is implemented by a Harness that knows changes its connector
// must refuse, to check the ErrorMapping group beyond the built-in cases.
type BadChanger interface {
	// BadChanges returns changes to export, given the seeded objects as
	// imported (with their anchors), each with the sentinel error its
	// result must wrap.
	BadChanges(seeded []connector.Object) []BadChange
}

// BadChange is one change an export must refuse.
type BadChange struct {
	Name   string           // subtest name
	Change connector.Change // the change to export, alone
	Want   error            // the sentinel the result's error must wrap (errors.Is)
}

// Configurer is implemented by a Harness whose connector or backend needs
// options other than the defaults.
type Configurer interface {
	Options() Options
}

// Options tunes the suite for a connector. The zero value suits a
// read-only connector whose backend supports renames.
type Options struct {
	// Writable runs the ExportRoundTrip group and the built-in
	// ErrorMapping cases: the connector's Export applies changes that a
	// later Import shows.
	Writable bool

	// ModifyAttribute is the attribute the suite modifies (out of band and
	// by export). It must be a writable, single-valued String attribute of
	// every seeded object's type. Default: the first such attribute that is
	// neither the anchor attribute nor the DN's naming attribute (cn in
	// "CN=Ada,OU=Staff"), trying description, displayName, title, info and
	// department before the others in schema order.
	ModifyAttribute string

	// NoRename skips the rename steps, for backends without renames.
	NoRename bool

	// Timeout bounds waits for asynchronous effects: a Watch
	// notification, Watch returning once cancelled. Default 10s.
	Timeout time.Duration
}

func optionsOf(h Harness) Options {
	var o Options
	if c, ok := h.(Configurer); ok {
		o = c.Options()
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	return o
}
