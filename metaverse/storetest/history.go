package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/metaverse"
)

// runPruner checks metaverse.RunPruner (skipped for a store whose
// transactions lack it): the oldest records go first, by count and by age
// from the oldest up to the first young one, in the transaction (rolled
// back with it), never in a View.
func (s *suite) runPruner(t *testing.T) {
	ctx := context.Background()
	probe := s.newStore(t)
	supported := false
	view(t, probe, func(tx metaverse.Tx) error {
		_, supported = tx.(metaverse.RunPruner)
		return nil
	})
	if !supported {
		t.Skip("the store's transactions do not implement metaverse.RunPruner")
	}
	// fill adds runs p0, p1, … started at the given offsets from when.
	fill := func(t *testing.T, st metaverse.Store, offsets ...time.Duration) {
		update(t, st, func(tx metaverse.Tx) error {
			for i, d := range offsets {
				if err := tx.AddRun(ctx, &metaverse.RunRecord{Connector: "ad", Profile: fmt.Sprintf("p%d", i), Started: when.Add(d)}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	profiles := func(t *testing.T, st metaverse.Store) []string {
		var out []string
		view(t, st, func(tx metaverse.Tx) error {
			rs, err := tx.Runs(ctx, "", 0)
			for _, r := range rs {
				out = append(out, r.Profile)
			}
			return err
		})
		return out
	}
	prune := func(t *testing.T, st metaverse.Store, keep int, older time.Time) int {
		var n int
		update(t, st, func(tx metaverse.Tx) error {
			var err error
			n, err = tx.(metaverse.RunPruner).PruneRuns(ctx, keep, older)
			return err
		})
		return n
	}
	ten := make([]time.Duration, 10)
	for i := range ten {
		ten[i] = time.Duration(i) * time.Minute
	}

	for _, c := range []struct {
		name    string
		keep    int
		older   time.Time
		offsets []time.Duration
		want    []string // newest first
	}{
		{"Count", 4, time.Time{}, ten, []string{"p9", "p8", "p7", "p6"}},
		{"CountAboveSize", 40, time.Time{}, ten[:3], []string{"p2", "p1", "p0"}},
		{"Zero", 0, time.Time{}, ten[:3], nil},
		{"NoBound", -1, time.Time{}, ten[:3], []string{"p2", "p1", "p0"}},
		{"Age", -1, when.Add(150 * time.Second), ten[:5], []string{"p4", "p3"}},
		// Start times out of order: the age bound stops at the first young
		// record from the oldest.
		{"AgeStopsAtYoung", -1, when, []time.Duration{-time.Hour, time.Hour, -time.Hour, -time.Minute}, []string{"p3", "p2", "p1"}},
		{"AgeAll", -1, when.Add(time.Hour), ten[:3], nil},
		{"Both", 3, when.Add(8 * time.Minute), ten, []string{"p9", "p8"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := s.newStore(t)
			fill(t, st, c.offsets...)
			n := prune(t, st, c.keep, c.older)
			assert.Equal(t, len(c.offsets)-len(c.want), n, "deleted")
			assert.Equal(t, c.want, profiles(t, st))
		})
	}

	t.Run("Empty", func(t *testing.T) {
		st := s.newStore(t)
		assert.Zero(t, prune(t, st, 0, when))
	})

	t.Run("RolledBack", func(t *testing.T) {
		st := s.newStore(t)
		fill(t, st, ten[:5]...)
		boom := errors.New("boom")
		err := st.Update(ctx, func(tx metaverse.Tx) error {
			require.NoError(t, tx.AddRun(ctx, &metaverse.RunRecord{Connector: "ad", Profile: "p5"}))
			n, err := tx.(metaverse.RunPruner).PruneRuns(ctx, 2, time.Time{})
			require.NoError(t, err)
			assert.Equal(t, 4, n)
			rs, err := tx.Runs(ctx, "", 0)
			require.NoError(t, err)
			assert.Len(t, rs, 2, "the transaction sees its prune")
			return boom
		})
		require.ErrorIs(t, err, boom)
		assert.Equal(t, []string{"p4", "p3", "p2", "p1", "p0"}, profiles(t, st))
	})

	t.Run("AddAfterPrune", func(t *testing.T) {
		st := s.newStore(t)
		fill(t, st, ten[:3]...)
		update(t, st, func(tx metaverse.Tx) error {
			if err := tx.AddRun(ctx, &metaverse.RunRecord{Connector: "ad", Profile: "new"}); err != nil {
				return err
			}
			_, err := tx.(metaverse.RunPruner).PruneRuns(ctx, 2, time.Time{})
			return err
		})
		assert.Equal(t, []string{"new", "p2"}, profiles(t, st))
		fill(t, st, 0)
		assert.Equal(t, []string{"p0", "new", "p2"}, profiles(t, st))
	})

	t.Run("ReadOnly", func(t *testing.T) {
		st := s.newStore(t)
		err := st.View(ctx, func(tx metaverse.Tx) error {
			_, err := tx.(metaverse.RunPruner).PruneRuns(ctx, 0, time.Time{})
			return err
		})
		require.ErrorIs(t, err, metaverse.ErrReadOnly)
	})
}
