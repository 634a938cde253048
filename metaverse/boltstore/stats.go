package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/idbridge/idbridge/metaverse/internal/codec"
)

// Stats describes what a store holds.
type Stats struct {
	// Entries counts metaverse entries by object type.
	Entries map[string]int `json:"entries"`
	// Objects counts connector-space objects by connector.
	Objects map[string]int `json:"objects"`
	// PendingImports counts objects with a pending import, by connector.
	PendingImports map[string]int `json:"pendingImports"`
	// PendingExports counts objects with a pending export, by connector.
	PendingExports map[string]int `json:"pendingExports"`
	// Indexes lists the declared metaverse attribute indexes.
	Indexes []string `json:"indexes"`
	// Bytes is the size of the data: the file's size in use.
	Bytes int64 `json:"bytes"`
}

// Stats counts what the store holds, in one read transaction. Counting
// entries by type reads every entry (but decodes only its type).
func (s *Store) Stats(ctx context.Context) (*Stats, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	st := &Stats{Entries: map[string]int{}, Objects: map[string]int{}, PendingImports: map[string]int{}, PendingExports: map[string]int{}}
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
					return fmt.Errorf("%w: connector bucket %q", ErrCorrupt, name)
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
