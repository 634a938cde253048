package pgstore

import (
	"context"

	"github.com/idbridge/idbridge/metaverse"
)

var _ metaverse.SubtreeReader = (*tx)(nil)

// ObjectsUnder implements metaverse.SubtreeReader. The dn column holds
// folded DNs, so the comparison runs in the server, which sends only the
// objects below base (it reads the connector space's rows to find them:
// container renames are rare).
func (t *tx) ObjectsUnder(ctx context.Context, connectorName, base, after string, limit int) ([]*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	if base == "" {
		return nil, nil
	}
	return collect(t, ctx, "listing objects under a DN", decodeObject,
		`SELECT data FROM objects WHERE connector = $1 AND id > $2 AND right(dn, char_length($4::text)) = $4 ORDER BY id LIMIT $3`,
		connectorName, after, limitArg(limit), metaverse.SubtreeSuffix(base))
}
