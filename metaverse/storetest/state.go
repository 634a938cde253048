package storetest

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/metaverse"
)

// watermarks checks Watermark and SetWatermark: none is nil, values are
// kept exactly (binary, empty but set), nil deletes, connectors are kept
// apart, and the caller's slices are not shared with the store.
func (s *suite) watermarks(t *testing.T) {
	ctx := context.Background()
	st := s.newStore(t)
	get := func(conn string) []byte {
		t.Helper()
		var wm []byte
		view(t, st, func(tx metaverse.Tx) error {
			var err error
			wm, err = tx.Watermark(ctx, conn)
			return err
		})
		return wm
	}
	set := func(conn string, wm []byte) {
		t.Helper()
		update(t, st, func(tx metaverse.Tx) error { return tx.SetWatermark(ctx, conn, wm) })
	}

	assert.Nil(t, get("ad"), "no watermark")
	cookie := []byte{0, 1, 2, 0, 0xff, 'U', 'S', 'N', 0}
	set("ad", cookie)
	set("hr", []byte("hr-cookie"))
	assert.Equal(t, cookie, get("ad"))
	assert.Equal(t, []byte("hr-cookie"), get("hr"))
	assert.Nil(t, get("entra"), "another connector")

	cookie[0] = 'X' // the store has its own copy
	assert.Equal(t, byte(0), get("ad")[0], "changing a slice after SetWatermark changed the store")
	got := get("ad")
	got[1] = 'X'
	assert.Equal(t, byte(1), get("ad")[1], "changing a slice Watermark returned changed the store")

	set("ad", []byte("newer"))
	assert.Equal(t, []byte("newer"), get("ad"), "replaced")

	// An empty watermark is a watermark: only nil deletes.
	set("ad", []byte{})
	wm := get("ad")
	assert.NotNil(t, wm, "an empty watermark came back as none")
	assert.Empty(t, wm)
	set("ad", nil)
	assert.Nil(t, get("ad"), "nil deletes")
	set("ad", nil) // deleting none is fine
	assert.Equal(t, []byte("hr-cookie"), get("hr"), "other connectors untouched")

	big := make([]byte, 1<<16)
	for i := range big {
		big[i] = byte(i * 7)
	}
	set("big", big)
	assert.Equal(t, big, get("big"), "64 KiB watermark")
}

// counters checks Counter and SetCounter over the whole uint64 range.
func (s *suite) counters(t *testing.T) {
	ctx := context.Background()
	st := s.newStore(t)
	get := func(name string) uint64 {
		t.Helper()
		var v uint64
		view(t, st, func(tx metaverse.Tx) error {
			var err error
			v, err = tx.Counter(ctx, name)
			return err
		})
		return v
	}
	assert.Zero(t, get("generation/ad"), "unset")
	for _, v := range []uint64{1, 0, math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64, 42} {
		update(t, st, func(tx metaverse.Tx) error { return tx.SetCounter(ctx, "generation/ad", v) })
		assert.Equal(t, v, get("generation/ad"))
	}
	update(t, st, func(tx metaverse.Tx) error { return tx.SetCounter(ctx, "generation/hr", 7) })
	assert.Equal(t, uint64(42), get("generation/ad"), "counters are kept apart")
	assert.Equal(t, uint64(7), get("generation/hr"))
	assert.Zero(t, get("generation"), "names are not prefixes")
	update(t, st, func(tx metaverse.Tx) error {
		// Read-modify-write within one transaction.
		v, err := tx.Counter(ctx, "generation/hr")
		require.NoError(t, err)
		require.NoError(t, tx.SetCounter(ctx, "generation/hr", v+1))
		v, err = tx.Counter(ctx, "generation/hr")
		require.NoError(t, err)
		assert.Equal(t, uint64(8), v, "reads see the transaction's writes")
		return nil
	})
	assert.Equal(t, uint64(8), get("generation/hr"))
}

// runs checks AddRun and Runs: IDs assigned and written back when empty,
// kept when given, newest (last added) first, filtered by connector,
// limited, and round trips.
func (s *suite) runs(t *testing.T) {
	ctx := context.Background()
	runs := func(t *testing.T, st metaverse.Store, conn string, limit int) []*metaverse.RunRecord {
		t.Helper()
		var rs []*metaverse.RunRecord
		view(t, st, func(tx metaverse.Tx) error {
			var err error
			rs, err = tx.Runs(ctx, conn, limit)
			return err
		})
		return rs
	}
	ids := func(rs []*metaverse.RunRecord) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.ID
		}
		return out
	}
	full := func() *metaverse.RunRecord {
		return &metaverse.RunRecord{
			Connector: "ad", Profile: "DeltaImport",
			Started: when, Ended: when.Add(1500 * time.Millisecond),
			Counts: map[string]int{"adds": 3, "updates": 1 << 40, "deletes": 0, "errors": -1},
			Errors: []string{"CN=Ada: constraint violation", "", "CN=Grace: ✓ unicode"},
			Err:    "connector: server down",
		}
	}

	t.Run("Empty", func(t *testing.T) {
		st := s.newStore(t)
		assert.Empty(t, runs(t, st, "", 10))
		assert.Empty(t, runs(t, st, "ad", 0))
	})

	t.Run("RoundTrip", func(t *testing.T) {
		st := s.newStore(t)
		r := full()
		update(t, st, func(tx metaverse.Tx) error { return tx.AddRun(ctx, r) })
		require.NotEmpty(t, r.ID, "AddRun did not set the ID of the record it was given")
		want := full()
		want.ID = r.ID
		rs := runs(t, st, "", 0)
		require.Len(t, rs, 1)
		assert.Equal(t, normRun(want), normRun(rs[0]))

		// Copies both ways.
		r.Counts["adds"] = 99
		r.Errors[0] = "mutated"
		rs[0].Counts["adds"] = 98
		rs[0].Errors[0] = "mutated"
		assert.Equal(t, normRun(want), normRun(runs(t, st, "", 0)[0]), "a run record is shared with the store")

		// A minimal record.
		update(t, st, func(tx metaverse.Tx) error { return tx.AddRun(ctx, &metaverse.RunRecord{Profile: "FullSync"}) })
		rs = runs(t, st, "", 1)
		require.Len(t, rs, 1)
		assert.Equal(t, "FullSync", rs[0].Profile)
		assert.Empty(t, rs[0].Connector)
		assert.True(t, rs[0].Started.IsZero())
	})

	t.Run("Order", func(t *testing.T) {
		st := s.newStore(t)
		var added []*metaverse.RunRecord
		for i, conn := range []string{"ad", "entra", "ad", "", "hr", "ad", "entra"} {
			// Start times out of order: "newest" is the last added.
			r := &metaverse.RunRecord{Connector: conn, Profile: "p", Started: when.Add(time.Duration(-i) * time.Minute)}
			update(t, st, func(tx metaverse.Tx) error { return tx.AddRun(ctx, r) })
			require.NotEmpty(t, r.ID)
			added = append([]*metaverse.RunRecord{r}, added...)
		}
		seen := map[string]bool{}
		for _, r := range added {
			assert.False(t, seen[r.ID], "ID %q assigned twice", r.ID)
			seen[r.ID] = true
		}
		only := func(conn string) []string {
			var out []string
			for _, r := range added {
				if conn == "" || r.Connector == conn {
					out = append(out, r.ID)
				}
			}
			return out
		}
		assert.Equal(t, only(""), ids(runs(t, st, "", 0)), "all, newest first")
		assert.Equal(t, only("")[:3], ids(runs(t, st, "", 3)), "limit")
		assert.Equal(t, only("ad"), ids(runs(t, st, "ad", 10)), "one connector")
		assert.Equal(t, only("ad")[:2], ids(runs(t, st, "ad", 2)), "one connector, limit")
		assert.Equal(t, only("hr"), ids(runs(t, st, "hr", 0)))
		assert.Empty(t, runs(t, st, "nope", 0))

		// Several in one transaction: still in order of addition.
		update(t, st, func(tx metaverse.Tx) error {
			for _, p := range []string{"first", "second", "third"} {
				if err := tx.AddRun(ctx, &metaverse.RunRecord{Connector: "ad", Profile: p}); err != nil {
					return err
				}
			}
			return nil
		})
		rs := runs(t, st, "ad", 3)
		require.Len(t, rs, 3)
		assert.Equal(t, []string{"third", "second", "first"}, []string{rs[0].Profile, rs[1].Profile, rs[2].Profile})
	})

	t.Run("GivenID", func(t *testing.T) {
		st := s.newStore(t)
		update(t, st, func(tx metaverse.Tx) error {
			require.NoError(t, tx.AddRun(ctx, &metaverse.RunRecord{ID: "run-given", Profile: "Export"}))
			return tx.AddRun(ctx, &metaverse.RunRecord{Profile: "Export"})
		})
		rs := runs(t, st, "", 0)
		require.Len(t, rs, 2)
		assert.Equal(t, "run-given", rs[1].ID)
		assert.NotEmpty(t, rs[0].ID)
		assert.NotEqual(t, "run-given", rs[0].ID)
	})
}
