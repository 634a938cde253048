package ha

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/idbridge/idbridge/metaverse"
)

// Errors of electors and leases. Match them with errors.Is.
var (
	// ErrLeaseLost: leadership ended without Resign: the lease expired
	// before it could be renewed, or the elector's server said another
	// node leads. Lease.Err returns it (wrapped with the cause).
	ErrLeaseLost = errors.New("ha: leadership lost")
	// ErrResigned: the lease was given up with Resign.
	ErrResigned = errors.New("ha: resigned")
	// ErrClosed: the elector was closed.
	ErrClosed = errors.New("ha: elector closed")
	// ErrFenced is metaverse.ErrFenced: a store refused a write of a term
	// older than one it has seen, because another node has led since.
	ErrFenced = metaverse.ErrFenced
	// ErrUnfenced: a Runner was given a store that cannot fence
	// (metaverse.Fencer) without Options.Unfenced.
	ErrUnfenced = errors.New("ha: the store cannot fence writes of a deposed leader")
)

// DefaultTTL is the lease time to live electors use when none is set. A
// leader renews every TTL/3, so two renewals in a row may fail (a database
// failover, a long pause) before it loses its lease; a standby takes over
// at most TTL plus one poll interval after the leader died. Ten seconds of
// failover is nothing next to a 30-minute sync cycle, and renewing every
// 3.3 s costs the elector's server nothing.
const DefaultTTL = 10 * time.Second

// Elector elects one leader per key among the nodes that campaign for it.
// Implementations: ha/pgelector (PostgreSQL), ha/etcdelector (etcd),
// ha/localelector (one process); ha/hatest is their conformance suite.
//
// An Elector is safe for concurrent use; one node may campaign for several
// keys at once.
type Elector interface {
	// Campaign blocks until this node leads key, then returns its lease. It
	// returns ctx's error when ctx ends first, and ErrClosed after Close.
	// Each lease of a key has a higher Term than every earlier lease of it.
	Campaign(ctx context.Context, key string) (Lease, error)
	// Close resigns every lease the elector holds and releases it.
	Close() error
}

// Lease is one node's leadership of one key, from Campaign until it is lost
// or resigned. A Lease is safe for concurrent use.
type Lease interface {
	// Key is the key led.
	Key() string
	// Term is the fencing token: it only grows from one lease of the key to
	// the next, so a store can refuse writes carrying an older one.
	Term() uint64
	// Expires is the time, on this node's clock, until which the lease is
	// certainly held: the last successful renewal's start plus the TTL. The
	// elector's server may let it live longer, never shorter. The zero time
	// means the lease does not expire (a single-process elector).
	Expires() time.Time
	// Done is closed when the lease ends: lost, resigned or elector closed.
	Done() <-chan struct{}
	// Err is nil while the lease is held, then says why it ended
	// (ErrLeaseLost, ErrResigned or ErrClosed, possibly wrapped).
	Err() error
	// Resign gives the lease up so that another node can take over at
	// once. It is idempotent.
	Resign(ctx context.Context) error
}

// Fence returns store's view for lease: its write transactions commit only
// while no later lease of the key has written (metaverse.Fencer). It fails
// with ErrUnfenced when store cannot fence.
func Fence(store metaverse.Store, lease Lease) (metaverse.Store, error) {
	f, ok := store.(metaverse.Fencer)
	if !ok {
		return nil, ErrUnfenced
	}
	return f.Fenced(lease.Key(), lease.Term()), nil
}

// DefaultHolder names this node for an elector when its options give no
// name: host name, process id and a random suffix, unique among nodes.
func DefaultHolder() string {
	host, _ := os.Hostname()
	r := make([]byte, 4)
	rand.Read(r)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(r))
}
