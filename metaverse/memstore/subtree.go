package memstore

import (
	"context"
	"slices"
	"strings"

	"github.com/idbridge/idbridge/metaverse"
)

var _ metaverse.SubtreeReader = (*tx)(nil)

// ObjectsUnder implements metaverse.SubtreeReader from the DN index: it
// compares each distinct DN once and copies only the objects it returns.
func (t *tx) ObjectsUnder(ctx context.Context, conn, base, after string, limit int) ([]*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	sp := t.s.spaces[conn]
	if sp == nil || base == "" {
		return nil, nil
	}
	suffix := metaverse.SubtreeSuffix(base)
	var ids []string
	for dn, dnIDs := range sp.dns {
		if !strings.HasSuffix(dn, suffix) {
			continue
		}
		for _, id := range dnIDs {
			if id > after {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]*metaverse.CSObject, len(ids))
	for i, id := range ids {
		out[i] = sp.objects[id].Clone()
	}
	return out, nil
}
