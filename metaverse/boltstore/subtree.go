package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strings"

	"github.com/idbridge/idbridge/metaverse"
)

var _ metaverse.SubtreeReader = (*tx)(nil)

// ObjectsUnder implements metaverse.SubtreeReader from the DN index, whose
// keys hold the folded DNs: it decodes only the objects it returns.
func (t *tx) ObjectsUnder(ctx context.Context, connectorName, base, after string, limit int) ([]*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	cs, _ := t.cs(connectorName, false)
	if cs == nil || base == "" {
		return nil, nil
	}
	suffix := metaverse.SubtreeSuffix(base)
	var ids []string
	err := cs.Bucket(bDNs).ForEach(func(k, _ []byte) error {
		n, w := binary.Uvarint(k)
		if w <= 0 || uint64(len(k)-w) < n {
			return corrupt("DN index key", connectorName, errBadKey)
		}
		dn, id := string(k[w:w+int(n)]), string(k[w+int(n):])
		if id > after && strings.HasSuffix(dn, suffix) {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]*metaverse.CSObject, 0, len(ids))
	for _, id := range ids {
		o, err := t.getObject(cs, connectorName, id)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

var errBadKey = errors.New("malformed key")
