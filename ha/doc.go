// Package ha is high availability for idbridge engines: leader election
// with fencing, so that two engines never sync one store at once; Runner,
// which runs an engine on whichever node leads (active/standby, as Cloud
// Sync's agents); Fleet, which runs many engines (one per tenant) across
// nodes, each on the node holding its lease, up to a capacity per node;
// and Promote, which takes an engine in staging mode on a store of its own
// active after a confirming import and a what-if report (Entra Connect's
// staging server).
//
// An Elector campaigns for a key (one key per engine) and returns a Lease:
// leadership under a term, a fencing token that only grows from one lease
// of the key to the next. Electors: ha/pgelector (a lease row in the
// PostgreSQL that pgstore uses), ha/etcdelector (etcd's concurrency
// election), ha/localelector (one process); ha/hatest is their
// conformance suite.
//
// Leases expire: a leader that cannot renew (a partition, a paused
// process) stops being leader on its own clock before any standby can take
// over on the server's. What it still has in flight is stopped by fencing:
// a store that implements metaverse.Fencer (pgstore) commits a write
// transaction only when no later term has written, checked in the same
// transaction, so a deposed leader's late commit fails with ErrFenced.
// Before each export batch the engine checks that the lease outlasts the
// batch's timeout (idbridge.Options.Lease); an export whose outcome is
// unknown because the lease ended mid-batch stays pending, and the next
// leader's import finds what arrived before anything is sent again.
//
// # Errors
//
// ErrLeaseLost, ErrResigned and ErrClosed say why a lease ended (Lease.Err);
// ErrFenced (metaverse.ErrFenced) is a store's refusal of a deposed
// leader's write; ErrUnfenced is a Runner or Fleet given a store that
// cannot fence; ErrNotStaging is Promote asked of an active engine, and
// Promote's refusal above the deletion threshold matches
// idbridge.ErrDeletionThreshold. Match them with errors.Is.
//
// # Concurrency
//
// Electors, leases, Runners and Fleets are safe for concurrent use. A
// Runner or a Fleet starts goroutines only inside Run, which returns after
// they end. Promote runs on the caller's goroutine.
package ha
