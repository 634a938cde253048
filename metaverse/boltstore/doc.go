// Package boltstore is the embedded persistent metaverse.Store: the whole
// metaverse, every connector space, watermarks, counters and run history in
// one bbolt file (go.etcd.io/bbolt), with nothing to install or run.
//
//	s, err := boltstore.Open("/var/lib/idbridge/metaverse.db", nil)
//
// # Layout
//
// Records are encoded by metaverse/internal/codec (a compact, versioned
// binary format) under these buckets:
//
//   - meta: the file's format version (FormatVersion)
//   - mvindexes: the attributes declared with Index (value empty) or
//     IndexFolded (value "f": strings keyed by metaverse.FoldString)
//   - entries: entry ID → entry
//   - entryidx: attribute, value key, entry type, entry ID → {} for the
//     declared attributes (components length-prefixed, so any bytes are
//     safe), so that FindEntries is a prefix scan
//   - cs/<connector>/o: object ID → object, and beside it a (anchor → ID),
//     d (folded DN, ID → {}), i (pending imports) and x (pending exports)
//   - watermarks, counters, runs (by sequence number)
//
// Indexes are written in the same bbolt transaction as the data, so they
// are never out of step, even after a crash.
//
// # Durability and files
//
// A commit is fsynced before Update returns (unless Options.NoSync). The
// file is locked: a second Open of it, in this process or another, waits
// Options.Timeout and fails. The Store implements the optional
// metaverse capabilities Backuper (a consistent copy of the file while
// writers go on), Restorer (a checked backup replaces the store's content
// in one transaction; for a lost file, Open a new one and Restore into it)
// and Statser.
//
// # Errors
//
// Transactions return metaverse.ErrNotFound, ErrConflict (an anchor held
// by another object), ErrReadOnly and ErrClosed, wrapped with the keys
// involved. Open returns metaverse.ErrIncompatible for a file of a newer
// format version (or an older one it cannot migrate), naming both
// versions, and metaverse.ErrCorrupt for a file that is not a bbolt
// database, is truncated, or fails Options.CheckOnOpen. Corruption found
// later, when a transaction reads a damaged page or a record that does not
// decode, also returns metaverse.ErrCorrupt: bbolt's
// panics and memory faults on the mapped file are recovered. A commit that
// cannot grow the file (Options.MaxSize, a full disk) returns ErrFull and
// leaves the file as it was before that transaction.
//
// # Concurrency
//
// A Store is safe for concurrent use. Read transactions (View) run in
// parallel with each other and with the single writer; write transactions
// (Update, Index) run one at a time, so they are serializable and fn is
// called exactly once. Close waits for running transactions, whose next
// call fails with metaverse.ErrClosed.
package boltstore
