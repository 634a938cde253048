package boltstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/boltstore"
	"github.com/idbridge/idbridge/metaverse/internal/smoke"
	"github.com/idbridge/idbridge/metaverse/storetest"
)

func open(t testing.TB, path string, opts *boltstore.Options) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.RunOptions(t, storetest.HarnessFunc(func(ctx context.Context, t *testing.T) (metaverse.Store, error) {
		return boltstore.Open(filepath.Join(t.TempDir(), "mv.db"), nil)
	}), storetest.Options{Large: !testing.Short()})
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mv.db")
	s := open(t, path, nil)
	smoke.Fill(t, s, 30)
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.View(context.Background(), func(metaverse.Tx) error { return nil }), metaverse.ErrClosed)
	smoke.Verify(t, open(t, path, &boltstore.Options{ReadOnly: true}), 30)
}

func TestIndexExistingEntries(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "mv.db"), nil)
	require.NoError(t, s.Update(ctx, func(tx metaverse.Tx) error {
		return tx.PutEntry(ctx, smoke.Entry("e1", "ada@example.com"))
	}))
	find := func() []string {
		var ids []string
		require.NoError(t, s.View(ctx, func(tx metaverse.Tx) error {
			var err error
			ids, err = tx.FindEntries(ctx, "", "uid", connector.IntValue(2))
			return err
		}))
		return ids
	}
	assert.Equal(t, []string{"e1"}, find(), "scan without an index")
	require.NoError(t, s.Index(ctx, "uid"))
	assert.Equal(t, []string{"e1"}, find(), "index built for existing entries")
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"uid"}, st.Indexes)
}

// setFormat rewrites the format version of a closed store file.
func setFormat(t *testing.T, path string, v uint32) {
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("format"), binary.BigEndian.AppendUint32(nil, v))
	}))
	require.NoError(t, db.Close())
}

func TestFormatVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mv.db")
	s, err := boltstore.Open(path, nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	setFormat(t, path, boltstore.FormatVersion+1)
	_, err = boltstore.Open(path, nil)
	require.ErrorIs(t, err, metaverse.ErrIncompatible)
	assert.Contains(t, err.Error(), "format version 2")
	assert.Contains(t, err.Error(), "reads version 1")

	setFormat(t, path, 0)
	_, err = boltstore.Open(path, nil)
	require.ErrorIs(t, err, metaverse.ErrIncompatible, "no migration from version 0")
	assert.Contains(t, err.Error(), "cannot migrate")

	other := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(other, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err }))
	require.NoError(t, db.Close())
	_, err = boltstore.Open(other, nil)
	require.ErrorIs(t, err, metaverse.ErrIncompatible)
	assert.Contains(t, err.Error(), "not an idbridge store")
}

func TestCorruptFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	s := open(t, good, nil)
	smoke.Fill(t, s, 200)
	require.NoError(t, s.Close())
	data, err := os.ReadFile(good)
	require.NoError(t, err)

	random := make([]byte, 64<<10)
	rand.Read(random)
	garbled := bytes.Clone(data)
	rand.Read(garbled[4*os.Getpagesize():]) // keep the meta pages, ruin the data
	cases := map[string][]byte{
		"truncated":      data[:len(data)/2],
		"truncated tiny": data[:100],
		"random bytes":   random,
		"garbled pages":  garbled,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".db")
			require.NoError(t, os.WriteFile(path, content, 0o600))
			s, err := boltstore.Open(path, &boltstore.Options{CheckOnOpen: true})
			if err == nil {
				s.Close()
			}
			require.ErrorIs(t, err, metaverse.ErrCorrupt)
			assert.Contains(t, err.Error(), path)
		})
	}
	t.Run("garbled pages without check", func(t *testing.T) {
		// Without CheckOnOpen, the damage shows when a transaction reads
		// it: an error (or, at worst, a decode error), never a crash.
		path := filepath.Join(dir, "garbled2.db")
		require.NoError(t, os.WriteFile(path, garbled, 0o600))
		s, err := boltstore.Open(path, nil)
		if err != nil {
			require.ErrorIs(t, err, metaverse.ErrCorrupt)
			return
		}
		defer s.Close()
		err = s.View(context.Background(), func(tx metaverse.Tx) error {
			_, err := tx.Entries(context.Background(), "", 0)
			return err
		})
		assert.Error(t, err)
	})
}

func TestFull(t *testing.T) {
	// A tmpfs of a few kilobytes is not available to tests, so the full
	// disk is simulated with bbolt's MaxSize: growing the file past it
	// fails the commit the way ENOSPC does, and both map to ErrFull.
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mv.db")
	s := open(t, path, &boltstore.Options{MaxSize: 1 << 20})
	smoke.Fill(t, s, 10)
	big := bytes.Repeat([]byte("x"), 64<<10)
	var err error
	committed := 0
	for ; committed < 100; committed++ {
		err = s.Update(ctx, func(tx metaverse.Tx) error {
			e := smoke.Entry("big"+string(rune('A'+committed)), "x")
			e.Attrs["photo"] = []connector.Value{connector.BytesValue(big)}
			return tx.PutEntry(ctx, e)
		})
		if err != nil {
			break
		}
	}
	require.ErrorIs(t, err, boltstore.ErrFull)
	assert.Contains(t, err.Error(), "MaxSize")
	check := func(s *boltstore.Store) {
		st, err := s.Stats(ctx)
		require.NoError(t, err)
		assert.Equal(t, 10+committed, st.Entries["person"], "every committed entry, not the failed one")
		require.NoError(t, s.View(ctx, func(tx metaverse.Tx) error {
			_, err := tx.Entry(ctx, "big"+string(rune('A'+committed-1)))
			return err
		}))
	}
	check(s)
	require.NoError(t, s.Close())
	check(open(t, path, nil))
}

// TestRestoreFile: what a backup holds restored into a new file, for a
// store whose file is lost; the conformance suite's Extras group covers
// the rest of Backup and Restore. The failed restore leaves no temporary
// file beside the store.
func TestRestoreFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "mv.db"), nil)
	smoke.Fill(t, s, 50)
	var buf bytes.Buffer
	require.NoError(t, s.Backup(ctx, &buf))

	r := open(t, filepath.Join(dir, "restored.db"), nil)
	require.NoError(t, r.Restore(ctx, bytes.NewReader(buf.Bytes())))
	smoke.Verify(t, r, 50)
	want, err := s.Stats(ctx)
	require.NoError(t, err)
	got, err := r.Stats(ctx)
	require.NoError(t, err)
	want.Bytes, got.Bytes = 0, 0
	assert.Equal(t, want, got)

	err = r.Restore(ctx, bytes.NewReader(buf.Bytes()[:buf.Len()/2]))
	assert.ErrorIs(t, err, metaverse.ErrCorrupt)
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 2, "no temporary file left")
	smoke.Verify(t, r, 50)

	require.NoError(t, s.Close())
	ro := open(t, filepath.Join(dir, "mv.db"), &boltstore.Options{ReadOnly: true})
	assert.ErrorIs(t, ro.Restore(ctx, bytes.NewReader(buf.Bytes())), metaverse.ErrReadOnly)
}

func TestStats(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "mv.db"), nil)
	smoke.Fill(t, s, 7)
	require.NoError(t, s.Update(ctx, func(tx metaverse.Tx) error {
		g := smoke.Entry("g1", "g@example.com")
		g.Type = "group"
		if err := tx.PutEntry(ctx, g); err != nil {
			return err
		}
		o := smoke.Object("x1", "", "CN=x")
		o.Connector, o.Pending, o.Export = "entra", metaverse.ImportNone, nil
		return tx.PutObject(ctx, o)
	}))
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"person": 7, "group": 1}, st.Entries)
	assert.Equal(t, map[string]int{"ad": 7, "entra": 1}, st.Objects)
	assert.Equal(t, map[string]int{"ad": 7, "entra": 0}, st.PendingImports)
	assert.Equal(t, map[string]int{"ad": 7, "entra": 0}, st.PendingExports)
	assert.Positive(t, st.Bytes)
}
