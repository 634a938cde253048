// Package pgstore is the metaverse.Store on PostgreSQL, for several engines
// (an active and a staging server) sharing one state.
//
//	s, err := pgstore.Open(ctx, "postgres://idbridge@db/idbridge", &pgstore.Options{Schema: "idbridge"})
//
// # Schema
//
// Open creates its schema (Options.Schema) and tables, and migrates them:
// the versions applied are in the schema_version table, and a schema of a
// newer version than SchemaVersion is refused. Records are kept as
// bytea in the compact binary format of metaverse/internal/codec; entries
// also have their attributes as JSONB, and Index creates a GIN expression
// index on the JSONB path of each join attribute (attrs -> 'mail'), which
// FindEntries uses. IndexFolded (metaverse.FoldIndexer) marks an attribute
// folded in entry_indexes; entries then keep its values folded in the
// folded JSONB column, under a GIN index of its own (folded -> 'mail').
// Connector-space objects have columns for the anchor
// (unique per connector), the folded DN, and partial indexes for pending
// imports and exports, so those never scan. Text columns use the "C"
// collation: IDs sort in byte order, as in every store.
//
// # Transactions
//
// Update runs in a SERIALIZABLE transaction and runs fn again when
// PostgreSQL reports a serialization failure or a deadlock (up to
// Options.MaxRetries, then metaverse.ErrConflict), which the Store
// contract allows. PutEntry calls are batched: sent together before the
// transaction's next statement or at commit. View runs in a SERIALIZABLE
// READ ONLY transaction.
//
// Fenced (metaverse.Fencer) returns a view whose write transactions carry
// a leader's term (package ha): each ends, just before COMMIT, by checking
// the term against the fences table FOR SHARE, and fails with
// metaverse.ErrFenced when a newer term has written; it also sets
// idle_in_transaction_session_timeout (5 s), so that a paused deposed
// leader cannot keep a transaction open against the new one.
//
// The Store implements the optional metaverse capabilities Backuper (a
// JSON-lines dump from one snapshot), Restorer (a checked dump replaces the
// store's content in one transaction) and Statser.
//
// # Transport security
//
// Open refuses, with ErrInsecureTransport and before connecting, a DSN
// that would reach a remote host without verifying its certificate:
// PostgreSQL clients default to sslmode=prefer, which encrypts without
// verification and falls back to plaintext. Use
// sslmode=verify-full&sslrootcert=/path/ca.pem (or verify-ca); a loopback
// host (localhost, 127.0.0.0/8, ::1) and a Unix socket need no TLS. Every
// host of a multi-host DSN is checked.
//
// # Errors
//
// Transactions return metaverse.ErrNotFound, ErrConflict, ErrReadOnly and
// ErrClosed, wrapped with the keys involved, and fenced ones
// metaverse.ErrFenced. Open returns
// metaverse.ErrIncompatible for a schema of a newer version. When the
// connection fails (the server is stopped, restarted or kills the
// backend), the error wraps metaverse.ErrUnavailable and says that the transaction
// was not committed, or, when the connection failed during the commit
// itself, that its outcome is unknown; what was committed before is
// PostgreSQL's to keep. A record that does not decode, and a damaged or
// truncated backup given to Restore, wrap metaverse.ErrCorrupt. Errors
// never include the DSN's password.
//
// # Concurrency
//
// A Store is safe for concurrent use, and any number of Stores, in any
// number of processes, may share a schema. Connections come from a pool
// (Options.MaxConns). Close waits for running transactions, whose next
// call fails with metaverse.ErrClosed.
//
// LockExport (metaverse.ExportLocker) serialises the exports of one
// connector across every Store on the schema with a session-level
// advisory lock, held on a connection of its own outside the pool until
// the engine's export run releases it (or the session ends).
package pgstore
