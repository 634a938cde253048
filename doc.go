// Package idbridge is an embeddable engine for hybrid-identity
// synchronisation: what Microsoft Entra Connect Sync does on a Windows
// server (connector spaces, a metaverse, sync rules, run profiles, staging
// mode), as a Go library.
//
// An Engine is built from a metaverse.Store, named connectors
// (connector.Connector) and a rule file (rules.File). Rules are compiled and
// type-checked against the connectors' schemas when the engine is built.
//
// # Run profiles
//
// As in Entra Connect, work is done by run profiles on one connector at a
// time:
//
//   - FullImport and DeltaImport read the connected system into the
//     connector's connector space, marking what changed as pending imports.
//     A full import stages objects it no longer sees as deletes. Staged
//     objects and the import's watermark are committed together. The
//     rename of a container cascades to the objects under it in the
//     connector space. A reference read by DN takes the anchor of the
//     object it names, also when the import reads that object later, so
//     that it keeps naming it through renames. An object the import cannot
//     read is kept as it was,
//     with its error. An object a connector with connector.AddMatcher
//     reports under an unknown anchor adopts the provisioned object whose
//     add it is, when that add's result was never recorded.
//   - FullSync and DeltaSync run the rules: for each object with a pending
//     import (delta) or every object (full), inbound rules scope it, join it
//     to a metaverse entry (join groups in order; the first group that finds
//     exactly one entry wins) or project a new entry (Provision rules), and
//     flow attributes into the entry with precedence between connectors
//     (lowest number wins; Merge, apply-once, Null, AuthoritativeNull and
//     IgnoreThisFlow as in Entra Connect). Then the outbound rules provision,
//     update or deprovision the entry's objects in other connector spaces as
//     pending exports. A deleted object disconnects from its entry; the
//     entry is deleted when no Provision or StickyJoin source remains. A
//     reference to an object that is not there yet is kept waiting and
//     flows when the object arrives, in delta sync.
//   - Export applies pending exports in batches. An exported change stays
//     unconfirmed until a later import shows it. A change the connected
//     system refuses for good (connector.IsPermanent) is parked until sync
//     changes it or RetryExports is called; one refused with an error that
//     may pass is sent again after a backoff that doubles per attempt.
//
// Cycle runs import, sync and export over every connector, in Delta or
// Initial mode, each step through the connectors in Options.CycleOrder
// (default: name order). WhatIf computes what a rule change would do on
// the whole directory, writing nothing, and can fail a CI check against
// limits. Run is the scheduler: a cycle at start, then at an
// interval, and soon after a connector.Watcher reports a change; a
// connector whose Watch is unsupported is polled at the interval, and a
// failing Watch is restarted with an exponential back-off.
//
// # Joins
//
// A join group's conditions are ANDed. One condition is looked up in the
// store's index (metaverse.Store.Index) and the entries found are checked
// against the others. A caseInsensitive condition compares strings as
// strings.EqualFold does; the engine declares its attribute with
// metaverse.FoldIndexer.IndexFolded (memstore, boltstore and pgstore have
// it). On a store without it, a group needs an exact condition to look
// up, else New and SetRules fail with ErrCaseInsensitiveJoin.
//
// # Safety
//
// Each object is processed in a unit of work that reaches the store only if
// the object succeeds: a rule error or a malformed object is recorded in the
// RunResult (and on the object) and the run goes on. Store transactions
// cover batches of objects, so a crash loses at most the batch in flight,
// which a restart redoes. A failure to read never becomes a delete: an
// object that fails to import is kept, marked seen; an error that names no
// held object, or a referral, makes a full import skip its delete pass
// (RunResult.DeletePassSkipped); and a full import that would delete more
// than Options.ImportDeleteShare (20%) of its connector space and more than
// Options.ImportDeleteMin (10) objects, or anything after reading nothing,
// stages no delete (ErrImportShrink). An export that would delete more
// objects than the deletion threshold (default 500) stops before exporting
// anything (ErrDeletionThreshold). In staging mode nothing is exported and
// PendingExports lists what would be.
//
// Before sending anything, an export runs the mass-change guard: it counts
// the pending deletes, disables (accountEnabled true → false,
// userAccountControl gaining ACCOUNTDISABLE) and updates of identity
// attributes (accountEnabled, userPrincipalName, onPremisesImmutableId by
// default), and stops when a kind exceeds its absolute limit (deletes:
// the deletion threshold, default 500 as in Entra Connect; disables and
// updates: 500) or its share of the connector space (10% by default, from
// 20 changes on). The *MassChangeError (ErrMassChange; ErrDeletionThreshold
// too when deletes tripped it) holds the counts and a sample of the
// objects with what would change; see Options.MassChange, SetMassChange and
// SetDeletionThreshold.
//
// Staging mode is checked when an export starts (after waiting for any
// other run) and before each batch, so switching it on stops an export
// between batches. Exports of one connector are serialised across engines
// that share a store implementing metaverse.ExportLocker (pgstore: a
// PostgreSQL advisory lock), and pending exports are read only once the
// lock is held, so two engines never send the same change.
//
// A create whose result was lost (a crash, a lost response) may be imported
// as an object of its own before the engine learns the created object's
// anchor. When the connector later reports that anchor for the Add, the
// provisioned object takes over the imported one (a warning says so):
// nothing is created twice and the link to the metaverse entry is kept.
//
// # Explaining
//
// Preview syncs one object in a transaction that is rolled back and
// reports what would change. Explain does the same for an object or a
// metaverse entry and says why: per attribute, every flow's contribution
// in precedence order with its outcome (won, merged, lost to precedence,
// Null, IgnoreThisFlow, apply-once, out of scope, not joined, with the
// join groups tried and the entries they found), and per outbound
// connector the rules in scope, each target attribute's winner and the
// pending export that results. Neither writes anything.
//
// # Errors
//
// Run profiles return an error only when the run as a whole failed (the
// store failed, the connector could not import, the context ended);
// per-object failures are *ObjectError values in RunResult.Errors. Match
// ErrUnknownConnector, ErrStagingMode, ErrDeletionThreshold,
// ErrImportShrink, ErrAmbiguousJoin, ErrAmbiguousAdopt, ErrCaseInsensitiveJoin
// and ErrClosed with errors.Is. A run cancelled or failed mid-way reports in
// its RunResult only what committed.
//
// An export stopped by the mass-change guard returns a *MassChangeError
// (ErrMassChange); a change refused for good is an object error matching
// ErrExportParked.
//
// # Operations
//
// Options.MeterProvider receives OpenTelemetry metrics (MetricRunCount and
// the other Metric* names), Options.Hooks the runs as they happen (start,
// end, progress, object errors, accepted exports). History and
// ObjectErrors answer queries on past runs and on the objects in error now;
// Options.HistoryRetention bounds the history. A connector that keeps
// failing, or whose credentials are refused (connector.ErrAuth), is put in
// quarantine: Cycle skips it until a back-off passes (Quarantines,
// ClearQuarantine, ErrNotQuarantined).
//
// # Concurrency
//
// An Engine is safe for concurrent use; run profiles are serialised (one
// runs at a time, and one waiting gives up when its context ends or the
// engine is closed). Close fails waiting and later runs with ErrClosed
// and stops Run. Rules are compiled once and evaluated without locks.
package idbridge
