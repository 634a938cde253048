// Package etcdelector is an ha.Elector on etcd, through the election of
// go.etcd.io/etcd/client/v3/concurrency: for deployments that already run
// etcd, or whose engines keep their stores apart.
//
// Each Campaign grants an etcd lease of Options.TTL, opens a
// concurrency.Session on it and campaigns in the election named by
// Options.Prefix plus the key. The term is the create revision of the
// leader key: etcd revisions only grow, and a node's key is created after
// the keys of the nodes that led before it, so the revision is a fencing
// token. (An etcd cluster restored from an old snapshot, or a new one,
// starts from lower revisions: a store fenced with the old cluster's
// terms refuses the new leader's writes until its fences row is reset.)
//
// The leader renews its lease every TTL/3 with KeepAliveOnce and counts
// the lease's local expiry from the start of the last successful renewal;
// when that passes without a renewal, or etcd says the lease is gone, the
// lease ends with ha.ErrLeaseLost. A standby's campaign returns as soon as
// the leader key is deleted: at once after Resign or Close, after the TTL
// when the leader died.
//
// # Errors
//
// Campaign returns ctx's error when ctx ends, ha.ErrClosed after Close,
// and etcd's errors wrapped. A lease ends with ha.ErrLeaseLost,
// ha.ErrResigned or ha.ErrClosed.
//
// # Concurrency
//
// An Elector and its leases are safe for concurrent use. Each held lease
// has a renewing goroutine (and the session's own keepalive); Close stops
// them and waits.
package etcdelector
