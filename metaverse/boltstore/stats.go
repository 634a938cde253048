package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/internal/codec"
)

var _ metaverse.Statser = (*Store)(nil)

// Stats counts what the store holds, in one read transaction. Counting
// entries by type reads every entry (but decodes only its type). Bytes is
// the file's size in use.
func (s *Store) Stats(ctx context.Context) (*metaverse.Stats, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	st := metaverse.NewStats()
	err := guard(func() error {
		return s.db.View(func(btx *bolt.Tx) error {
			t := &tx{s: s, btx: btx}
			st.Bytes = btx.Size()
			for a := range t.declared() {
				st.Indexes = append(st.Indexes, a)
			}
			err := t.bucket(bEntries).ForEach(func(k, v []byte) error {
				typ, err := codec.EntryType(v)
				if err != nil {
					return corrupt("entry", string(k), err)
				}
				st.Entries[typ]++
				return ctx.Err()
			})
			if err != nil {
				return err
			}
			return t.bucket(bCS).ForEachBucket(func(name []byte) error {
				cs := t.bucket(bCS).Bucket(name)
				if cs == nil {
					return fmt.Errorf("%w: connector bucket %q", metaverse.ErrCorrupt, name)
				}
				n := string(name)
				st.Objects[n] = cs.Bucket(bObjects).Stats().KeyN
				st.PendingImports[n] = cs.Bucket(bPendImp).Stats().KeyN
				st.PendingExports[n] = cs.Bucket(bPendExp).Stats().KeyN
				return ctx.Err()
			})
		})
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}
