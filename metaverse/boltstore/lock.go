package boltstore

import (
	"context"

	"github.com/idbridge/idbridge/metaverse"
)

var _ metaverse.ExportLocker = (*Store)(nil)

// LockExport implements metaverse.ExportLocker with an in-process lock per
// connector: bbolt's file lock lets one process alone open the store.
func (s *Store) LockExport(ctx context.Context, connectorName string) (func(), error) {
	return s.exports.LockExport(ctx, connectorName)
}
