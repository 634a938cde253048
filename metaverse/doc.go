// Package metaverse defines the metaverse (one Entry per real identity, with
// Links to the connector-space objects it is made of), the connector-space
// object (CSObject) with its pending import and pending export, and the Store
// interface that keeps them, with watermarks and run history, in
// transactions.
//
// Stores: metaverse/memstore (in memory, for tests and embedding),
// metaverse/boltstore (the embedded persistent default) and
// metaverse/pgstore (PostgreSQL, shared by several engines). Every store
// passes the conformance suite metaverse/storetest.
//
// Beyond the Store interface, stores may implement optional capabilities,
// small interfaces found by type assertion: Backuper and Restorer
// (boltstore, pgstore), Statser (every store here, with one Stats type for
// all), FoldIndexer (case-insensitive indexes for joins, FoldString is the
// folding; all three stores), SubtreeReader (objects below a DN, for
// cascading renames), ExportLocker (one connector's exports at a time
// across engines) and Fencer (writes under a leader's term).
//
// # Errors
//
// Stores return ErrNotFound, ErrConflict, ErrClosed, ErrReadOnly,
// ErrIncompatible, ErrUnavailable (the backend cannot be reached) and
// ErrCorrupt (damaged data or backup), and fenced views (Fencer) ErrFenced,
// possibly wrapped; match them with errors.Is, whichever store is in use.
//
// # Concurrency
//
// A Store is safe for concurrent use; a Tx is not, and lives only for the
// function it was passed to.
package metaverse
