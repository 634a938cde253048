// Package storetest is the conformance suite of metaverse.Store: every
// store (memstore, boltstore, pgstore, and third parties') runs it against
// itself, so that the engine can rely on one behaviour whatever keeps its
// state. It plays the part of go-cloud's drivertest and dex's
// storage/conformance.
//
// A store's whole conformance test is a Harness that makes new, empty
// stores:
//
//	func TestConformance(t *testing.T) {
//		storetest.RunOptions(t, storetest.HarnessFunc(func(ctx context.Context, t *testing.T) (metaverse.Store, error) {
//			return mystore.Open(filepath.Join(t.TempDir(), "mv.db"))
//		}), storetest.Options{Large: !testing.Short()})
//	}
//
// Run it with -race: the Concurrency group is only as good as the race
// detector. Each test gets its own store; the suite closes it, and the
// harness releases whatever else it made (with t.Cleanup).
//
// # Groups
//
// The subtests are grouped by capability, so that -run can pick one
// (TestConformance/Pending):
//
//   - Entries: PutEntry, Entry, DeleteEntry; every field and every kind of
//     value round-trips exactly; replace is not merge; ErrNotFound; the
//     store shares no memory with its callers (mutating an object passed to
//     Put or returned by a read does not change the store).
//   - Index: FindEntries on declared and undeclared attributes, by type
//     and any type, multi-valued, exact matching, after updates, deletes,
//     and Index called after the data exists.
//   - Paging: Entries and Objects in ascending byte order of IDs, with
//     after and limit; Options.Large adds 10,000 entries and objects.
//   - ConnectorSpace: Object, ObjectByAnchor, ObjectByDN, PutObject,
//     DeleteObject; the unique anchor index and the folded-DN index.
//   - Pending: PendingImports and PendingExports follow every write;
//     Export.Attrs keeps "present with no values" apart from "absent".
//   - Watermarks, Counters, Runs.
//   - Transactions: commit; rollback of every kind of write, indexes
//     included, on error, panic and cancelled context; reads inside an
//     Update see its writes; View refuses writes.
//   - Concurrency: concurrent read-modify-write Updates lose nothing;
//     Views during Updates see whole transactions only.
//   - Closed: ErrClosed after Close; Close during a transaction.
//   - Extras: the optional capabilities, each skipped when the store lacks
//     it. metaverse.Statser counts entries by type, objects, pending imports
//     and exports by connector, and the declared indexes, and fails with
//     ErrClosed once closed. metaverse.Backuper with metaverse.Restorer: a
//     backup restored into another store holding other data gives back
//     exactly the source's entries, objects, index, watermarks, counters and
//     runs as of the backup, and the restored store goes on (new run IDs,
//     the anchor index); an empty, foreign or truncated backup fails with
//     metaverse.ErrCorrupt and changes nothing.
//   - Subtree: metaverse.SubtreeReader (skipped when the store does not
//     implement it): descendants by folded DN, paging, renames.
//
// # Contract decisions
//
// Where the metaverse.Store contract is silent, the suite decides, and a
// store must do as follows:
//
//   - limit <= 0 means no limit (Entries, Objects, PendingImports,
//     PendingExports, Runs); after is exclusive and need not be an
//     existing ID; IDs order by Go's string comparison (bytes, not a
//     collation).
//   - Values match in FindEntries when their types and Value.Key are equal:
//     strings case-sensitively, references by anchor (a reference without
//     an anchor by its folded DN), and an entry is listed once however many
//     of its values match. FindEntries also answers on attributes never
//     declared (it may scan).
//   - Times keep the instant to the nanosecond, not the location. nil and
//     empty maps and slices are the same, except in Export.Attrs, where an
//     attribute present with no values (nil or empty slice) stays present.
//     An attribute's values keep their order.
//   - A PutObject refused with ErrConflict writes nothing, and the
//     transaction can go on and commit. The anchor a write frees is free
//     for another object in the same transaction.
//   - PutObject without an ID or a connector, and PutEntry without an ID,
//     fail (with any error).
//   - AddRun sets the ID it assigns on the record it is given. "Newest
//     first" is the reverse order of AddRun calls, not of Started.
//   - An empty, non-nil watermark is a watermark: Watermark returns it
//     non-nil; only SetWatermark(nil) deletes.
//   - A panic in fn rolls the transaction back and propagates, with its
//     value, to the caller of Update or View; the store stays usable.
//   - A context cancelled before Update or View: fn does not run and the
//     context's error is returned. Cancelled while fn runs: nothing is
//     committed, even when fn returns nil, and the error wraps the
//     context's.
//   - Close may be called more than once (later calls return nil). A
//     transaction running when Close is called either completes or fails
//     with ErrClosed; it does not deadlock Close.
//   - ErrConflict from concurrent Updates is retried by the Concurrency
//     tests, as the contract allows; anything else fails them.
//
// # Errors
//
// The suite reports failures through testing.T; Run and RunOptions return
// nothing. A Harness whose NewStore fails fails the test that asked for a
// store.
//
// # Concurrency
//
// Run must be called from the test's goroutine. The groups and their tests
// run one after another (no t.Parallel), each on its own store, but the
// Concurrency and Closed groups use many goroutines on one store.
package storetest
