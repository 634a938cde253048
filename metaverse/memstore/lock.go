package memstore

import (
	"context"

	"github.com/idbridge/idbridge/metaverse"
)

var _ metaverse.ExportLocker = (*Store)(nil)

// LockExport implements metaverse.ExportLocker with an in-process lock per
// connector: a memstore lives in one process.
func (s *Store) LockExport(ctx context.Context, connectorName string) (func(), error) {
	return s.exports.LockExport(ctx, connectorName)
}
