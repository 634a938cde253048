package storetest

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/metaverse"
)

// extrasFixture writes the baseline of the Transactions group (entries
// with an index, objects of two connectors with pending imports and
// exports, watermarks, a counter, a run) and an entry and an object that
// use every field and every kind of value.
func extrasFixture(t *testing.T, st metaverse.Store) {
	t.Helper()
	baseline(t, st)
	put(t, st, fullEntry("e-full"), fullObject("ad", "o-full", "a-full", "CN=Full"))
}

// statsOf counts what a snapshot holds, as Stats must.
func statsOf(sn *snapshot) *metaverse.Stats {
	st := metaverse.NewStats()
	for _, e := range sn.Entries {
		st.Entries[e.Type]++
	}
	for c, os := range sn.Objects {
		if len(os) > 0 {
			st.Objects[c] = len(os)
			st.PendingImports[c] = len(sn.PendingImports[c])
			st.PendingExports[c] = len(sn.PendingExports[c])
		}
	}
	return st
}

// extras tests the optional capabilities of metaverse: Statser, Backuper
// and Restorer. A store without one skips its subtest.
func (s *suite) extras(t *testing.T) {
	ctx := context.Background()

	t.Run("Stats", func(t *testing.T) {
		st := s.newStore(t)
		statser, ok := st.(metaverse.Statser)
		if !ok {
			t.Skip("the store does not implement metaverse.Statser")
		}
		empty, err := statser.Stats(ctx)
		require.NoError(t, err)
		assert.Empty(t, empty.Entries, "an empty store")
		assert.Empty(t, empty.Objects, "an empty store")

		extrasFixture(t, st)
		check := func(msg string) {
			t.Helper()
			got, err := statser.Stats(ctx)
			require.NoError(t, err)
			want := statsOf(snapshotOf(t, st))
			assert.Equal(t, want.Entries, got.Entries, "entries by type %s", msg)
			for c := range want.Objects {
				assert.Equal(t, want.Objects[c], got.Objects[c], "objects of %s %s", c, msg)
				assert.Equal(t, want.PendingImports[c], got.PendingImports[c], "pending imports of %s %s", c, msg)
				assert.Equal(t, want.PendingExports[c], got.PendingExports[c], "pending exports of %s %s", c, msg)
			}
			assert.Equal(t, []string{"mail"}, got.Indexes, "declared indexes")
			assert.GreaterOrEqual(t, got.Bytes, int64(0))
		}
		check("after the fixture")
		update(t, st, func(tx metaverse.Tx) error { return writeAll(ctx, tx) })
		check("after writes of every kind")

		require.NoError(t, st.Close())
		_, err = statser.Stats(ctx)
		assert.ErrorIs(t, err, metaverse.ErrClosed, "Stats of a closed store")
	})

	t.Run("BackupRestore", func(t *testing.T) {
		src := s.newStore(t)
		b, okB := src.(metaverse.Backuper)
		_, okR := src.(metaverse.Restorer)
		if !okB || !okR {
			t.Skip("the store does not implement both metaverse.Backuper and metaverse.Restorer")
		}
		extrasFixture(t, src)
		want := snapshotOf(t, src)
		wantFull := getEntry(t, src, "e-full")
		var backup bytes.Buffer
		require.NoError(t, b.Backup(ctx, &backup))
		// Writes after the backup are not in it.
		put(t, src, person("e-after", "m-after"))

		dst := s.newStore(t)
		put(t, dst, person("e-old", "m1"), object("ad", "o-old", "a-old", "CN=Old"), object("other", "o1", "a1", "CN=One"))
		require.NoError(t, dst.(metaverse.Restorer).Restore(ctx, bytes.NewReader(backup.Bytes())))
		assert.Equal(t, want, snapshotOf(t, dst), "the restored store holds what the backup's source held, and nothing else")
		assert.Equal(t, normEntry(wantFull), normEntry(getEntry(t, dst, "e-full")), "every field and value survives")
		assert.Nil(t, getEntry(t, dst, "e-old"), "what the store held before the restore is gone")
		assert.Nil(t, getObject(t, dst, "other", "o1"), "a connector space only the store held is gone")
		assert.Nil(t, getEntry(t, dst, "e-after"), "a write after the backup is not restored")

		// The restored store goes on: run IDs continue, anchors stay unique.
		update(t, dst, func(tx metaverse.Tx) error {
			return tx.AddRun(ctx, &metaverse.RunRecord{Connector: "ad", Profile: "Export", Started: when, Ended: when})
		})
		var rs []*metaverse.RunRecord
		view(t, dst, func(tx metaverse.Tx) error {
			var err error
			rs, err = tx.Runs(ctx, "ad", 0)
			return err
		})
		require.Len(t, rs, 2)
		assert.NotEqual(t, rs[1].ID, rs[0].ID, "a run added after a restore gets a new ID")
		err := dst.Update(ctx, func(tx metaverse.Tx) error {
			return tx.PutObject(ctx, object("ad", "o-dup", "a1", "CN=Dup"))
		})
		assert.ErrorIs(t, err, metaverse.ErrConflict, "the anchor index is restored")
	})

	t.Run("RestoreRefusesDamage", func(t *testing.T) {
		src := s.newStore(t)
		b, okB := src.(metaverse.Backuper)
		if _, okR := src.(metaverse.Restorer); !okB || !okR {
			t.Skip("the store does not implement both metaverse.Backuper and metaverse.Restorer")
		}
		extrasFixture(t, src)
		var backup bytes.Buffer
		require.NoError(t, b.Backup(ctx, &backup))
		full := backup.Bytes()

		dst := s.newStore(t)
		put(t, dst, person("e-keep", "m1"))
		before := snapshotOf(t, dst)
		for _, tt := range []struct {
			name   string
			backup []byte
		}{
			{"empty", nil},
			{"not a backup", []byte("this is not a backup of any store\n")},
			{"truncated to half", full[:len(full)/2]},
			{"last bytes cut", full[:len(full)-16]},
		} {
			t.Run(tt.name, func(t *testing.T) {
				err := dst.(metaverse.Restorer).Restore(ctx, bytes.NewReader(tt.backup))
				assert.ErrorIs(t, err, metaverse.ErrCorrupt)
				assert.Equal(t, before, snapshotOf(t, dst), "a failed restore changes nothing")
			})
		}
	})
}
