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
// FindEntries uses. Connector-space objects have columns for the anchor
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
// Backup writes a JSON-lines dump from one snapshot; Restore replaces the
// store's content with one, in one transaction.
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
// ErrClosed, wrapped with the keys involved. Open returns
// metaverse.ErrIncompatible for a schema of a newer version. When the
// connection fails (the server is stopped, restarted or kills the
// backend), the error wraps ErrUnavailable and says that the transaction
// was not committed, or, when the connection failed during the commit
// itself, that its outcome is unknown; what was committed before is
// PostgreSQL's to keep. Errors never include the DSN's password.
//
// # Concurrency
//
// A Store is safe for concurrent use, and any number of Stores, in any
// number of processes, may share a schema. Connections come from a pool
// (Options.MaxConns). Close waits for running transactions, whose next
// call fails with metaverse.ErrClosed.
package pgstore
