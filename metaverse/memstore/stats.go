package memstore

import (
	"context"
	"maps"
	"slices"

	"github.com/idbridge/idbridge/metaverse"
)

var _ metaverse.Statser = (*Store)(nil)

// Stats counts what the store holds, under its read lock. Bytes is 0: the
// store does not measure its memory.
func (s *Store) Stats(ctx context.Context) (*metaverse.Stats, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, metaverse.ErrClosed
	}
	st := metaverse.NewStats()
	for _, e := range s.entries {
		st.Entries[e.Type]++
	}
	for name, sp := range s.spaces {
		st.Objects[name] = len(sp.objects)
		st.PendingImports[name] = sp.imports.Len()
		st.PendingExports[name] = sp.exports.Len()
	}
	st.Indexes = slices.Sorted(maps.Keys(s.attrs))
	return st, nil
}
