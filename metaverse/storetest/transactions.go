package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// Probes: every key a snapshot looks up, covering what baseline and
// writeAll touch.
var (
	probeConnectors = []string{"ad", "hr", "entra"}
	probeAnchors    = []connector.Anchor{"a1", "a2", "a3", "a-new", "a-moved"}
	probeDNs        = []string{"CN=One", "CN=Two", "CN=Three", "CN=New", "CN=Moved"}
	probeMails      = []string{"m1", "m2", "m3", "m-new", "m-changed"}
	probeCounters   = []string{"c1", "c2"}
)

// snapshot is everything a transaction can observe of the data baseline
// and writeAll write, through every read method and index.
type snapshot struct {
	Entries        []*metaverse.Entry
	Objects        map[string][]*metaverse.CSObject
	PendingImports map[string][]string
	PendingExports map[string][]string
	ByAnchor       map[string]string
	ByDN           map[string]string
	Find           map[string][]string
	Watermarks     map[string][]byte
	Counters       map[string]uint64
	Runs           []*metaverse.RunRecord
}

func takeSnapshot(t testing.TB, tx metaverse.Tx) *snapshot {
	t.Helper()
	ctx := context.Background()
	s := &snapshot{
		Objects: map[string][]*metaverse.CSObject{}, PendingImports: map[string][]string{}, PendingExports: map[string][]string{},
		ByAnchor: map[string]string{}, ByDN: map[string]string{}, Find: map[string][]string{},
		Watermarks: map[string][]byte{}, Counters: map[string]uint64{},
	}
	es, err := tx.Entries(ctx, "", 0)
	require.NoError(t, err)
	s.Entries = normEntries(es)
	for _, c := range probeConnectors {
		os, err := tx.Objects(ctx, c, "", 0)
		require.NoError(t, err)
		s.Objects[c] = normObjects(os)
		os, err = tx.PendingImports(ctx, c, "", 0)
		require.NoError(t, err)
		s.PendingImports[c] = objectIDs(os)
		os, err = tx.PendingExports(ctx, c, "", 0)
		require.NoError(t, err)
		s.PendingExports[c] = objectIDs(os)
		for _, a := range probeAnchors {
			o, err := tx.ObjectByAnchor(ctx, c, a)
			if !isNotFound(err) {
				require.NoError(t, err)
				s.ByAnchor[c+"/"+string(a)] = o.ID
			}
		}
		for _, dn := range probeDNs {
			o, err := tx.ObjectByDN(ctx, c, dn)
			if !isNotFound(err) {
				require.NoError(t, err)
				s.ByDN[c+"/"+dn] = o.ID
			}
		}
		wm, err := tx.Watermark(ctx, c)
		require.NoError(t, err)
		if wm != nil {
			s.Watermarks[c] = wm
		}
	}
	for _, m := range probeMails {
		for _, typ := range []string{"", "person", "group"} {
			ids, err := tx.FindEntries(ctx, typ, "mail", connector.StringValue(m))
			require.NoError(t, err)
			if len(ids) > 0 {
				s.Find[typ+"/"+m] = ids
			}
		}
	}
	for _, c := range probeCounters {
		v, err := tx.Counter(ctx, c)
		require.NoError(t, err)
		s.Counters[c] = v
	}
	rs, err := tx.Runs(ctx, "", 0)
	require.NoError(t, err)
	s.Runs = normRuns(rs)
	return s
}

func snapshotOf(t testing.TB, st metaverse.Store) *snapshot {
	t.Helper()
	var s *snapshot
	view(t, st, func(tx metaverse.Tx) error {
		s = takeSnapshot(t, tx)
		return nil
	})
	return s
}

func withPending(o *metaverse.CSObject, p metaverse.PendingImport, x *metaverse.Export) *metaverse.CSObject {
	o.Pending, o.Export = p, x
	return o
}

// baseline writes the data the transaction tests start from, with the
// mail index declared.
func baseline(t testing.TB, st metaverse.Store) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, st.Index(ctx, "mail"))
	export := &metaverse.Export{Kind: connector.Update, State: metaverse.ExportPending, Attrs: connector.Attributes{"x": {}}}
	update(t, st, func(tx metaverse.Tx) error {
		for i, m := range []string{"m1", "m2", "m3"} {
			if err := tx.PutEntry(ctx, person(fmt.Sprintf("e%d", i+1), m)); err != nil {
				return err
			}
		}
		for _, o := range []*metaverse.CSObject{
			withPending(object("ad", "o1", "a1", "CN=One"), metaverse.ImportAdd, nil),
			withPending(object("ad", "o2", "a2", "CN=Two"), metaverse.ImportNone, export),
			object("ad", "o3", "a3", "CN=Three"),
			withPending(object("hr", "o1", "a1", "CN=One"), metaverse.ImportUpdate, export),
		} {
			if err := tx.PutObject(ctx, o); err != nil {
				return err
			}
		}
		if err := tx.SetWatermark(ctx, "ad", []byte("w-ad")); err != nil {
			return err
		}
		if err := tx.SetWatermark(ctx, "hr", []byte("w-hr")); err != nil {
			return err
		}
		if err := tx.SetCounter(ctx, "c1", 5); err != nil {
			return err
		}
		return tx.AddRun(ctx, &metaverse.RunRecord{ID: "run-1", Connector: "ad", Profile: "FullImport", Started: when})
	})
}

// writeAll makes every kind of write over the baseline: entries added,
// replaced (indexed value and type changed) and deleted; objects added,
// replaced (anchor, DN, pending import and export changed) and deleted, in
// an existing and a new connector space; watermarks set, replaced and
// deleted; counters set and created; a run added.
func writeAll(ctx context.Context, tx metaverse.Tx) error {
	e1 := person("e1", "m-changed")
	e1.Type = "group"
	export := &metaverse.Export{Kind: connector.Add, State: metaverse.ExportPending, Attrs: connector.Attributes{"y": {connector.IntValue(1)}}}
	for _, step := range []func() error{
		func() error { return tx.PutEntry(ctx, person("e-new", "m-new")) },
		func() error { return tx.PutEntry(ctx, e1) },
		func() error { return tx.DeleteEntry(ctx, "e2") },
		func() error {
			return tx.PutObject(ctx, withPending(object("ad", "o-new", "a-new", "CN=New"), metaverse.ImportAdd, export))
		},
		func() error {
			return tx.PutObject(ctx, withPending(object("ad", "o1", "a-moved", "CN=Moved"), metaverse.ImportNone, export))
		},
		func() error { return tx.DeleteObject(ctx, "ad", "o2") },
		func() error {
			return tx.PutObject(ctx, withPending(object("ad", "o3", "a2", "CN=Two"), metaverse.ImportDelete, nil)) // takes o2's anchor and DN
		},
		func() error { return tx.DeleteObject(ctx, "hr", "o1") },
		func() error {
			return tx.PutObject(ctx, withPending(object("entra", "o1", "a1", "CN=One"), metaverse.ImportAdd, export))
		},
		func() error { return tx.SetWatermark(ctx, "ad", []byte("w-ad-2")) },
		func() error { return tx.SetWatermark(ctx, "hr", nil) },
		func() error { return tx.SetWatermark(ctx, "entra", []byte("w-entra")) },
		func() error { return tx.SetCounter(ctx, "c1", 6) },
		func() error { return tx.SetCounter(ctx, "c2", 1) },
		func() error {
			return tx.AddRun(ctx, &metaverse.RunRecord{ID: "run-2", Connector: "entra", Profile: "Export", Started: when})
		},
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// transactions checks Update and View: commit, rollback of every kind of
// write (indexes included) on error, on panic and on a cancelled context;
// reads inside an Update see its writes; View refuses writes.
func (s *suite) transactions(t *testing.T) {
	ctx := context.Background()

	t.Run("Commit", func(t *testing.T) {
		// Reads inside the Update see all its writes, through every index,
		// exactly as reads after it commits.
		st := s.newStore(t)
		baseline(t, st)
		before := snapshotOf(t, st)
		var inside *snapshot
		update(t, st, func(tx metaverse.Tx) error {
			require.NoError(t, writeAll(ctx, tx))
			inside = takeSnapshot(t, tx)
			return nil
		})
		after := snapshotOf(t, st)
		assert.Equal(t, inside, after, "reads inside the Update differ from reads after it")
		assert.NotEqual(t, before, after)

		// Spot checks of what writeAll did.
		assert.Equal(t, []string{"e-new"}, after.Find["/m-new"])
		assert.Equal(t, []string{"e1"}, after.Find["group/m-changed"])
		assert.Empty(t, after.Find["/m1"])
		assert.Empty(t, after.Find["/m2"])
		assert.Equal(t, "o1", after.ByAnchor["ad/a-moved"])
		assert.Equal(t, "o3", after.ByAnchor["ad/a2"])
		assert.Empty(t, after.ByAnchor["ad/a1"])
		assert.Equal(t, "o3", after.ByDN["ad/CN=Two"])
		assert.Equal(t, "o1", after.ByDN["ad/CN=Moved"])
		assert.Equal(t, []string{"o-new", "o3"}, after.PendingImports["ad"])
		assert.Equal(t, []string{"o-new", "o1"}, after.PendingExports["ad"])
		assert.Empty(t, after.Objects["hr"])
		assert.Equal(t, []string{"o1"}, after.PendingExports["entra"])
		assert.Equal(t, map[string][]byte{"ad": []byte("w-ad-2"), "entra": []byte("w-entra")}, after.Watermarks)
		assert.Equal(t, map[string]uint64{"c1": 6, "c2": 1}, after.Counters)
		require.Len(t, after.Runs, 2)
		assert.Equal(t, "run-2", after.Runs[0].ID)
	})

	boom := errors.New("storetest: boom")
	t.Run("RollbackOnError", func(t *testing.T) {
		st := s.newStore(t)
		baseline(t, st)
		before := snapshotOf(t, st)
		err := st.Update(ctx, func(tx metaverse.Tx) error {
			require.NoError(t, writeAll(ctx, tx))
			return fmt.Errorf("wrapped: %w", boom)
		})
		assert.ErrorIs(t, err, boom, "Update returns fn's error")
		assert.Equal(t, before, snapshotOf(t, st), "an Update that failed left writes behind")

		// The store is still usable, and commits what it is given next.
		update(t, st, func(tx metaverse.Tx) error { return tx.SetCounter(ctx, "c2", 9) })
		assert.Equal(t, uint64(9), snapshotOf(t, st).Counters["c2"])
	})

	t.Run("RollbackOnErrorAfterReads", func(t *testing.T) {
		// Reads between the writes (as the engine does) do not commit
		// anything either.
		st := s.newStore(t)
		baseline(t, st)
		before := snapshotOf(t, st)
		err := st.Update(ctx, func(tx metaverse.Tx) error {
			require.NoError(t, writeAll(ctx, tx))
			takeSnapshot(t, tx)
			require.NoError(t, tx.PutEntry(ctx, person("e-late", "m1")))
			takeSnapshot(t, tx)
			return boom
		})
		assert.ErrorIs(t, err, boom)
		assert.Equal(t, before, snapshotOf(t, st))
	})

	t.Run("ErrorAsIs", func(t *testing.T) {
		st := s.newStore(t)
		want := &customError{"mine"}
		err := st.Update(ctx, func(metaverse.Tx) error { return want })
		var got *customError
		require.ErrorAs(t, err, &got, "Update")
		assert.Same(t, want, got)
		err = st.View(ctx, func(metaverse.Tx) error { return want })
		require.ErrorAs(t, err, &got, "View")
		assert.Same(t, want, got)
	})

	t.Run("RollbackOnPanic", func(t *testing.T) {
		// A panic in fn rolls the transaction back and goes on up to the
		// caller of Update, with its value; the store stays usable.
		st := s.newStore(t)
		baseline(t, st)
		before := snapshotOf(t, st)
		assert.PanicsWithValue(t, "storetest: panic in fn", func() {
			_ = st.Update(ctx, func(tx metaverse.Tx) error {
				require.NoError(t, writeAll(ctx, tx))
				panic("storetest: panic in fn")
			})
		})
		assert.Equal(t, before, snapshotOf(t, st), "an Update that panicked left writes behind")
		assert.PanicsWithValue(t, "storetest: panic in View", func() {
			_ = st.View(ctx, func(tx metaverse.Tx) error { panic("storetest: panic in View") })
		})
		done := make(chan struct{})
		go func() {
			defer close(done)
			update(t, st, func(tx metaverse.Tx) error { return tx.SetCounter(ctx, "c2", 3) })
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Update blocks after a panic in an earlier one: a lock was not released")
		}
		assert.Equal(t, uint64(3), snapshotOf(t, st).Counters["c2"])
	})

	t.Run("ReadOnly", func(t *testing.T) {
		st := s.newStore(t)
		baseline(t, st)
		before := snapshotOf(t, st)
		view(t, st, func(tx metaverse.Tx) error {
			for _, w := range []struct {
				name  string
				write func() error
			}{
				{"PutEntry", func() error { return tx.PutEntry(ctx, person("e9", "m9")) }},
				{"PutEntry (replace)", func() error { return tx.PutEntry(ctx, person("e1", "m9")) }},
				{"DeleteEntry", func() error { return tx.DeleteEntry(ctx, "e1") }},
				{"PutObject", func() error { return tx.PutObject(ctx, object("ad", "o9", "a9", "")) }},
				{"PutObject (replace)", func() error { return tx.PutObject(ctx, object("ad", "o1", "a9", "")) }},
				{"DeleteObject", func() error { return tx.DeleteObject(ctx, "ad", "o1") }},
				{"SetWatermark", func() error { return tx.SetWatermark(ctx, "ad", []byte("x")) }},
				{"SetWatermark (delete)", func() error { return tx.SetWatermark(ctx, "ad", nil) }},
				{"SetCounter", func() error { return tx.SetCounter(ctx, "c1", 99) }},
				{"AddRun", func() error { return tx.AddRun(ctx, &metaverse.RunRecord{Profile: "x"}) }},
			} {
				assert.ErrorIs(t, w.write(), metaverse.ErrReadOnly, w.name)
			}
			// The View goes on reading after refused writes.
			_, err := tx.Entry(ctx, "e1")
			assert.NoError(t, err)
			return nil
		})
		assert.Equal(t, before, snapshotOf(t, st), "a View wrote")
	})

	t.Run("Context", func(t *testing.T) {
		st := s.newStore(t)
		baseline(t, st)
		before := snapshotOf(t, st)

		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		called := false
		err := st.Update(cancelled, func(metaverse.Tx) error { called = true; return nil })
		assert.ErrorIs(t, err, context.Canceled, "Update with a cancelled context")
		err = st.View(cancelled, func(metaverse.Tx) error { called = true; return nil })
		assert.ErrorIs(t, err, context.Canceled, "View with a cancelled context")
		assert.False(t, called, "fn ran with a cancelled context")

		expired, cancel2 := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer cancel2()
		err = st.Update(expired, func(metaverse.Tx) error { return nil })
		assert.ErrorIs(t, err, context.DeadlineExceeded, "Update after the deadline")

		// Cancelled while fn runs: nothing is committed, even when fn
		// returns nil, and the Tx's methods report the context's error.
		c, cancel3 := context.WithCancel(ctx)
		err = st.Update(c, func(tx metaverse.Tx) error {
			require.NoError(t, writeAll(c, tx))
			cancel3()
			_, err := tx.Entry(c, "e1")
			assert.ErrorIs(t, err, context.Canceled, "Entry with the transaction's context cancelled")
			return nil
		})
		assert.ErrorIs(t, err, context.Canceled, "Update whose context was cancelled in fn")
		assert.Equal(t, before, snapshotOf(t, st), "an Update whose context was cancelled committed")

		c, cancel4 := context.WithCancel(ctx)
		err = st.View(c, func(tx metaverse.Tx) error {
			cancel4()
			_, err := tx.Entries(c, "", 0)
			return err
		})
		assert.ErrorIs(t, err, context.Canceled, "View whose context was cancelled in fn")
	})

	t.Run("Sequential", func(t *testing.T) {
		// Each committed Update is visible to the next transaction.
		st := s.newStore(t)
		for i := 0; i < 20; i++ {
			update(t, st, func(tx metaverse.Tx) error {
				v, err := tx.Counter(ctx, "n")
				if err != nil {
					return err
				}
				assert.Equal(t, uint64(i), v)
				return tx.SetCounter(ctx, "n", v+1)
			})
		}
	})
}

type customError struct{ s string }

func (e *customError) Error() string { return e.s }
