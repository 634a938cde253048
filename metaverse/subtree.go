package metaverse

import (
	"context"
	"strings"

	"github.com/idbridge/idbridge/connector"
)

// SubtreeReader is an optional capability of a Tx: listing the objects of
// a connector space below a DN without reading the whole connector space.
// The engine uses it to cascade the rename of a container (an OU) to the
// objects under it; without it, the engine pages through Objects and
// compares DNs, which costs a read of the connector space per container
// rename.
type SubtreeReader interface {
	// ObjectsUnder returns up to limit objects of a connector space whose
	// DN is below base (see Under; base itself is not included), with an
	// ID greater than after, in ascending ID order (paging as Objects).
	ObjectsUnder(ctx context.Context, connectorName, base, after string, limit int) ([]*CSObject, error)
}

// Under reports whether dn is below base: a descendant at any depth,
// comparing the DNs with connector.FoldDN. A DN is not under itself.
func Under(dn, base string) bool {
	if base == "" {
		return false
	}
	return strings.HasSuffix(connector.FoldDN(dn), SubtreeSuffix(base))
}

// SubtreeSuffix is the folded suffix of every DN under base: "," and the
// folded base.
func SubtreeSuffix(base string) string { return "," + connector.FoldDN(base) }
