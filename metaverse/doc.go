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
// # Errors
//
// Stores return ErrNotFound, ErrConflict, ErrClosed, ErrReadOnly and
// ErrIncompatible, possibly wrapped; match them with errors.Is.
//
// # Concurrency
//
// A Store is safe for concurrent use; a Tx is not, and lives only for the
// function it was passed to.
package metaverse
