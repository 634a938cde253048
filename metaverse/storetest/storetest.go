package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// Harness makes the stores the suite tests.
type Harness interface {
	// NewStore returns a new, empty store. The suite closes it (possibly
	// more than once); anything else it holds, such as a temporary
	// directory or database, is the harness's to release, typically with
	// t.Cleanup.
	NewStore(ctx context.Context, t *testing.T) (metaverse.Store, error)
}

// HarnessFunc adapts a function to Harness.
type HarnessFunc func(ctx context.Context, t *testing.T) (metaverse.Store, error)

// NewStore calls f.
func (f HarnessFunc) NewStore(ctx context.Context, t *testing.T) (metaverse.Store, error) {
	return f(ctx, t)
}

// Options tunes the suite. The zero value is a fast run.
type Options struct {
	// Large adds the tests over 10,000 entries and objects (paging and
	// index lookups at size). Off by default: they take seconds on
	// persistent stores.
	Large bool
	// Goroutines and Updates size the concurrency tests: Goroutines
	// goroutines each run Updates transactions. Defaults: 8 and 25.
	Goroutines, Updates int
}

func (o Options) withDefaults() Options {
	if o.Goroutines <= 0 {
		o.Goroutines = 8
	}
	if o.Updates <= 0 {
		o.Updates = 25
	}
	return o
}

// Run runs the whole suite against the stores h makes, with the default
// Options.
func Run(t *testing.T, h Harness) {
	RunOptions(t, h, Options{})
}

// RunOptions runs the whole suite against the stores h makes. Each group
// of the metaverse.Store contract is a subtest (Entries, Index, FoldIndex
// (skipped for a store without metaverse.FoldIndexer), Paging,
// ConnectorSpace, Pending, Watermarks, Counters, Runs, RunPruner, Transactions,
// Concurrency, Closed, Subtree, and Extras for the optional capabilities), so that
//
//	go test -run 'TestConformance/ConnectorSpace'
//
// runs one group. Every test gets its own new store.
func RunOptions(t *testing.T, h Harness, opts Options) {
	opts = opts.withDefaults()
	s := &suite{h: h, opts: opts}
	for _, g := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"Entries", s.entries},
		{"Index", s.index},
		{"FoldIndex", s.foldIndex},
		{"Paging", s.paging},
		{"ConnectorSpace", s.connectorSpace},
		{"Pending", s.pending},
		{"ExportLocker", s.exportLocker}, // skipped for a store without metaverse.ExportLocker
		{"Watermarks", s.watermarks},
		{"Counters", s.counters},
		{"Runs", s.runs},
		{"RunPruner", s.runPruner}, // skipped for a store without metaverse.RunPruner
		{"Transactions", s.transactions},
		{"Concurrency", s.concurrency},
		{"Closed", s.closed},
		{"Extras", s.extras},
		{"Subtree", s.subtree},
	} {
		t.Run(g.name, g.run)
	}
}

type suite struct {
	h    Harness
	opts Options
}

// newStore returns a new store, closed when t ends.
func (s *suite) newStore(t *testing.T) metaverse.Store {
	t.Helper()
	st, err := s.h.NewStore(context.Background(), t)
	require.NoError(t, err, "Harness.NewStore")
	require.NotNil(t, st, "Harness.NewStore")
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { _ = st.Close() }) })
	return st
}

// update runs fn in an Update that must succeed.
func update(t testing.TB, s metaverse.Store, fn func(tx metaverse.Tx) error) {
	t.Helper()
	require.NoError(t, s.Update(context.Background(), fn))
}

// view runs fn in a View that must succeed.
func view(t testing.TB, s metaverse.Store, fn func(tx metaverse.Tx) error) {
	t.Helper()
	require.NoError(t, s.View(context.Background(), fn))
}

// put writes entries and objects in one Update.
func put(t testing.TB, s metaverse.Store, items ...any) {
	t.Helper()
	ctx := context.Background()
	update(t, s, func(tx metaverse.Tx) error {
		for _, it := range items {
			var err error
			switch x := it.(type) {
			case *metaverse.Entry:
				err = tx.PutEntry(ctx, x)
			case *metaverse.CSObject:
				err = tx.PutObject(ctx, x)
			default:
				panic(fmt.Sprintf("storetest: put of a %T", it))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// getEntry reads one entry in a View; nil when there is none.
func getEntry(t testing.TB, s metaverse.Store, id string) *metaverse.Entry {
	t.Helper()
	var e *metaverse.Entry
	view(t, s, func(tx metaverse.Tx) error {
		var err error
		e, err = tx.Entry(context.Background(), id)
		if isNotFound(err) {
			e, err = nil, nil
		}
		return err
	})
	return e
}

// getObject reads one object in a View; nil when there is none.
func getObject(t testing.TB, s metaverse.Store, conn, id string) *metaverse.CSObject {
	t.Helper()
	var o *metaverse.CSObject
	view(t, s, func(tx metaverse.Tx) error {
		var err error
		o, err = tx.Object(context.Background(), conn, id)
		if isNotFound(err) {
			o, err = nil, nil
		}
		return err
	})
	return o
}

// find runs FindEntries in a View.
func find(t testing.TB, s metaverse.Store, typ, attr string, v connector.Value) []string {
	t.Helper()
	var ids []string
	view(t, s, func(tx metaverse.Tx) error {
		var err error
		ids, err = tx.FindEntries(context.Background(), typ, attr, v)
		return err
	})
	return ids
}
