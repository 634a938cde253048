package metaverse

import (
	"context"
	"errors"
	"time"

	"github.com/idbridge/idbridge/connector"
)

// Sentinel errors of stores.
var (
	// ErrNotFound: no entry, object, watermark or run with that key.
	ErrNotFound = errors.New("metaverse: not found")
	// ErrConflict: a write conflicts with a concurrent one (another engine
	// wrote the same rows), or with a unique index (two objects with one
	// anchor in a connector space). Update may be retried.
	ErrConflict = errors.New("metaverse: conflict")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("metaverse: store closed")
	// ErrReadOnly: a write in a View transaction.
	ErrReadOnly = errors.New("metaverse: read-only transaction")
	// ErrIncompatible: the store's data was written by a newer or an
	// unknown format version and cannot be read safely.
	ErrIncompatible = errors.New("metaverse: incompatible store format")
)

// Store keeps the metaverse, the connector spaces, watermarks and run
// history. All reads and writes happen in transactions: a write transaction
// is atomic and durable when Update returns nil, and isolated from other
// transactions (serializable). A Store is safe for concurrent use.
type Store interface {
	// View runs fn in a read-only transaction. Writes in it fail with
	// ErrReadOnly.
	View(ctx context.Context, fn func(tx Tx) error) error
	// Update runs fn in a read-write transaction, committed when fn returns
	// nil and rolled back otherwise (the error is returned as is). A store
	// may call fn more than once when a conflict with a concurrent
	// transaction forces a retry, so fn must have no effects outside tx.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Index declares metaverse attributes that joins look up; FindEntries
	// on them must not scan. It may be called again with more attributes
	// and builds indexes for existing entries. An attribute already
	// declared folded (FoldIndexer) stays folded.
	Index(ctx context.Context, attrs ...string) error
	// Close releases the store. Transactions running in other goroutines
	// fail with ErrClosed.
	Close() error
}

// Tx is a transaction. It must not be used after the function it was passed
// to returns, nor from several goroutines at once. Objects passed to Put
// methods are not retained (the store copies them), and objects returned are
// the caller's to modify.
type Tx interface {
	// Entry returns the metaverse entry with the given ID, or ErrNotFound.
	Entry(ctx context.Context, id string) (*Entry, error)
	// PutEntry inserts or replaces an entry, keeping indexes in step.
	PutEntry(ctx context.Context, e *Entry) error
	// DeleteEntry deletes an entry; ErrNotFound when there is none.
	DeleteEntry(ctx context.Context, id string) error
	// FindEntries returns the IDs, in ascending order, of the entries of
	// the given object type (any type when empty) that have v among the
	// values of attr. String values match exactly, unless attr was
	// declared with FoldIndexer.IndexFolded, when they match
	// case-insensitively (FoldString); Reference values by anchor.
	FindEntries(ctx context.Context, entryType, attr string, v connector.Value) ([]string, error)
	// Entries returns up to limit entries with an ID greater than after,
	// in ascending ID order (paging; after "" starts at the beginning).
	Entries(ctx context.Context, after string, limit int) ([]*Entry, error)

	// Object returns the connector-space object with the given ID.
	Object(ctx context.Context, connectorName, id string) (*CSObject, error)
	// ObjectByAnchor returns the object with the given anchor.
	ObjectByAnchor(ctx context.Context, connectorName string, anchor connector.Anchor) (*CSObject, error)
	// ObjectByDN returns the object with the given DN, compared with
	// connector.FoldDN. When several objects have that DN (a provisioned
	// object not yet exported and the one an import found), the one with
	// the smallest ID is returned.
	ObjectByDN(ctx context.Context, connectorName, dn string) (*CSObject, error)
	// PutObject inserts or replaces an object by (Connector, ID). Two
	// objects of one connector space may not share a non-empty anchor:
	// that fails with ErrConflict.
	PutObject(ctx context.Context, o *CSObject) error
	// DeleteObject deletes an object; ErrNotFound when there is none.
	DeleteObject(ctx context.Context, connectorName, id string) error
	// Objects pages through a connector space by ascending ID, like Entries.
	Objects(ctx context.Context, connectorName, after string, limit int) ([]*CSObject, error)
	// PendingImports pages through the objects whose Pending is not
	// ImportNone, by ascending ID; it must not scan the connector space.
	PendingImports(ctx context.Context, connectorName, after string, limit int) ([]*CSObject, error)
	// PendingExports pages through the objects whose Export is not nil, by
	// ascending ID; it must not scan the connector space.
	PendingExports(ctx context.Context, connectorName, after string, limit int) ([]*CSObject, error)

	// Watermark returns a connector's import watermark; nil and no error
	// when there is none.
	Watermark(ctx context.Context, connectorName string) ([]byte, error)
	// SetWatermark records a connector's import watermark (nil deletes it).
	SetWatermark(ctx context.Context, connectorName string, wm []byte) error

	// Counter returns the value of a named counter (0 when unset).
	// The engine keeps full-import generations in counters.
	Counter(ctx context.Context, name string) (uint64, error)
	// SetCounter sets a named counter.
	SetCounter(ctx context.Context, name string, v uint64) error

	// AddRun appends a record to the run history, assigning its ID when
	// empty.
	AddRun(ctx context.Context, r *RunRecord) error
	// Runs returns up to limit run records, newest first, optionally only
	// of one connector ("" for all).
	Runs(ctx context.Context, connectorName string, limit int) ([]*RunRecord, error)
}

// RunRecord is one entry of the run history: a run profile on a connector
// (or a sync over all of them), its counts and its object errors.
type RunRecord struct {
	ID        string    `json:"id"`
	Connector string    `json:"connector,omitempty"`
	Profile   string    `json:"profile"`
	Started   time.Time `json:"started"`
	Ended     time.Time `json:"ended"`
	// Counts holds the run's counters by name ("adds", "updates",
	// "exported", …).
	Counts map[string]int `json:"counts,omitempty"`
	// Errors holds at most the first few hundred object errors, as text.
	Errors []string `json:"errors,omitempty"`
	// Err is the error that stopped the run, empty when it completed.
	Err string `json:"err,omitempty"`
}
