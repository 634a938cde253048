// Package pgelector is an ha.Elector on PostgreSQL, for engines that share
// a pgstore: the database they already depend on elects their leader, and
// no other server is needed.
//
// Each key has a row in the table ha_leases (key, holder, term,
// expires_at). A node takes the lease with one INSERT … ON CONFLICT DO
// UPDATE that succeeds only when the row is missing or expired on the
// server's clock, and raises the term by one; the leader renews every
// Options.RenewEvery (TTL/3) with an UPDATE that matches its holder and
// term; standbys poll every Options.PollEvery. Rows are never deleted, so
// terms only grow and serve as fencing tokens for pgstore's fenced views.
// Session advisory locks were not used: a partitioned leader's lock lives as
// long as the server keeps its connection open (up to the TCP keepalive,
// hours by default), while a lease row expires after its TTL whatever the
// network does.
//
// The leader's view of its lease ends earlier than the server's: Expires is
// the start of the last successful renewal, on the leader's clock, plus the
// TTL. Clocks may differ in offset but are assumed to run at nearly the
// same rate.
//
// # Errors
//
// Campaign returns ctx's error when ctx ends, and ha.ErrClosed after Close;
// it retries failures of the database itself (logged at warn level). A
// lease ends with ha.ErrLeaseLost (expired before a renewal succeeded, or
// another node holds it), ha.ErrResigned or ha.ErrClosed.
//
// # Concurrency
//
// An Elector and its leases are safe for concurrent use. Each held lease
// has one goroutine that renews it; Close stops them all and waits.
package pgelector
