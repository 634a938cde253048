package metaverse

import (
	"context"
	"errors"
	"io"
)

// Sentinel errors that several stores return for the same condition, so
// that a program can handle them without knowing which store it runs on.
var (
	// ErrUnavailable: the store's backend cannot be reached (the database
	// server went away, the connection broke). The transaction that failed
	// was not committed unless the error says its outcome is unknown; what
	// was committed before is kept. Retry later.
	ErrUnavailable = errors.New("metaverse: store unavailable")
	// ErrCorrupt: the store's data or a backup is damaged: a file that is
	// not the store's format, truncated, failing a consistency check, or a
	// record that does not decode. Restore from a backup.
	ErrCorrupt = errors.New("metaverse: store data corrupt")
)

// The optional capabilities below are implemented by stores that can; a
// program finds them by type assertion on its Store:
//
//	if b, ok := store.(metaverse.Backuper); ok {
//		err = b.Backup(ctx, w)
//	}
//
// Each says what a store without it means for the program.

// Backuper is implemented by stores that can write a consistent copy of
// everything they hold while writers go on (boltstore, pgstore). A store
// without it is backed up by its operator's own means (memstore holds
// nothing worth keeping).
type Backuper interface {
	// Backup writes a snapshot of the whole store to w: one transaction's
	// view, so that it never holds half of a transaction. The format is
	// the store's own; only the same kind of store restores it.
	Backup(ctx context.Context, w io.Writer) error
}

// Restorer is implemented by stores that can replace their content with a
// backup written by Backup of the same kind of store.
type Restorer interface {
	// Restore checks the backup read from r and replaces everything the
	// store holds with it, atomically: when Restore fails (a truncated or
	// damaged backup wrapping ErrCorrupt, a backup of a newer format
	// wrapping ErrIncompatible, a failure of the backend) the store is left
	// as it was. A transaction running meanwhile sees the store either as
	// it was or as restored, never a mix of both. Engines using the store
	// should be stopped first, since their connector spaces and
	// watermarks change under them.
	Restore(ctx context.Context, r io.Reader) error
}

// Statser is implemented by stores that can count what they hold, for
// dashboards and capacity planning. All stores of this module implement it.
type Statser interface {
	// Stats counts what the store holds, from one consistent view.
	Stats(ctx context.Context) (*Stats, error)
}

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
	// Indexes lists the declared metaverse attribute indexes, sorted.
	Indexes []string `json:"indexes"`
	// Bytes is the size of the store's data as its backend counts it: the
	// file's size in use (boltstore), the tables' and indexes' size on
	// disk (pgstore); 0 when the store cannot tell (memstore).
	Bytes int64 `json:"bytes"`
}

// NewStats returns Stats with its maps made, for stores to fill in.
func NewStats() *Stats {
	return &Stats{Entries: map[string]int{}, Objects: map[string]int{}, PendingImports: map[string]int{}, PendingExports: map[string]int{}}
}
