// Package memstore is an in-memory metaverse.Store: for tests, benchmarks,
// previews and embedders that keep state elsewhere. Nothing survives the
// process.
//
//	store := memstore.New()
//	defer store.Close()
//
// It passes metaverse/storetest, and is built for the engine's hot paths:
// paging by ID walks B-trees (a page costs O(log n + page), not a sort);
// pending imports and pending exports have their own B-trees, so a delta
// sync costs O(changes) whatever the size of the connector space; anchor,
// folded-DN and declared-attribute lookups are hash-map lookups (an
// attribute declared with IndexFolded, metaverse.FoldIndexer, is keyed by
// its folded strings). Objects
// are copied on the way in and out, so callers never share memory with the
// store.
//
// Transactions are serializable in the simplest way: View takes a shared
// lock and Update an exclusive one, so Update never fails with
// metaverse.ErrConflict for concurrency and calls fn exactly once. Update
// writes in place and records an undo log (the previous state of each key
// it writes); when fn returns an error, panics, or its context is done,
// the log is replayed in reverse, indexes included, and the store is
// exactly as before.
//
// # Errors
//
// As the metaverse.Store contract says: metaverse.ErrNotFound (wrapped,
// with the key), ErrConflict (a second object with one anchor in a
// connector space), ErrReadOnly (a write in View), ErrClosed (after Close,
// or a Tx used after its function returned), and the context's error when
// it is done. Update returns fn's error as is; a panic in fn rolls back
// and propagates.
//
// # Concurrency
//
// A Store is safe for concurrent use: Views run in parallel, Updates one at
// a time and not alongside Views. A long Update therefore blocks readers;
// keep batches bounded (the engine writes about a thousand objects per
// transaction). A Tx must not be used outside the function it is passed to,
// nor from several goroutines. Close waits for running transactions.
package memstore
