// Package connectortest is the conformance suite every connector runs
// against itself, ours (ldap, ldif, graphsync) and third parties' alike, in
// the manner of gocloud.dev's drivertest.
//
// A connector's test implements Harness (seed the backend with fixture
// objects, make a connector to it) and calls Run:
//
//	func TestConformance(t *testing.T) {
//		connectortest.Run(t, &harness{dir: t.TempDir()})
//	}
//
// Run groups its subtests by capability:
//
//   - Schema: the schema validates, anchors are declared single-valued
//     attributes, the seeded objects fit it.
//   - FullImport: every seeded object is imported exactly once, with its
//     values; anchors are non-empty, unique and stable across imports;
//     types, attribute names, value types and single-valuedness follow the
//     schema; Checkpoint comes last; a cancelled import fails.
//   - MalformedRecord (a Malformer harness): with one record the connector
//     cannot read beside the seeded objects, a full import succeeds,
//     reports that record once through sink.Error by its DN or anchor, and
//     imports every seeded object. A connector that aborts its import on a
//     bad record fails here.
//   - DeltaImport (connector.DeltaImporter): a delta of an unchanged backend
//     is empty; with a Mutator harness, after an out-of-band add, modify,
//     rename and delete the delta reports exactly those objects, and a
//     rename keeps the anchor.
//   - ExportRoundTrip (Options.Writable): one Export batch adds, modifies,
//     renames and deletes, with a change that must fail among them; results
//     come in order, the failure fails alone, the anchors of adds address
//     the new objects, and a full import shows the result.
//   - ErrorMapping (Options.Writable or BadChanger): an update or delete of
//     a missing object wraps connector.ErrNoSuchObject, an add of an
//     existing DN connector.ErrAlreadyExists, and each harness-provided
//     BadChange its sentinel; all as *connector.ObjectError results, not as
//     Export's error.
//   - Watch (connector.Watcher and a Mutator harness): an out-of-band change
//     triggers notify within Options.Timeout, and Watch returns once its
//     context is cancelled.
//
// The optional harness interfaces (Mutator, ObjectMaker, BadChanger,
// Malformer, Configurer) widen what is checked; a group that cannot run is skipped
// with the reason.
//
// Recorder, the ImportSink the suite uses, serves connector tests that need
// to run an import without an engine.
//
// # Errors
//
// Run reports through t; it returns nothing. Harness methods return errors
// for failures of the backend, which fail the group.
//
// # Concurrency
//
// Run calls the harness and the connector from the test's goroutine, except
// Watch, which runs in its own goroutine while the suite calls Mutate.
// Groups run one after another, never in parallel, so a harness may keep
// one backend and reset it in Seed.
package connectortest
