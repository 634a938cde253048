package ha

import (
	"context"
	"sync"
	"time"
)

// BaseLease is the bookkeeping every elector's lease shares: key, term,
// expiry, the Done channel and the reason it ended. Electors embed it and
// supply how to resign. It is exported for third-party electors.
type BaseLease struct {
	key  string
	term uint64

	mu      sync.Mutex
	expires time.Time
	err     error
	done    chan struct{}
	resign  func(ctx context.Context) error
}

// NewBaseLease returns a held lease of key under term, valid until expires
// (zero: no expiry). resign, called once by the first Resign, tells the
// elector's server.
func NewBaseLease(key string, term uint64, expires time.Time, resign func(ctx context.Context) error) *BaseLease {
	return &BaseLease{key: key, term: term, expires: expires, done: make(chan struct{}), resign: resign}
}

// Key implements Lease.
func (l *BaseLease) Key() string { return l.key }

// Term implements Lease.
func (l *BaseLease) Term() uint64 { return l.term }

// Expires implements Lease.
func (l *BaseLease) Expires() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.expires
}

// Done implements Lease.
func (l *BaseLease) Done() <-chan struct{} { return l.done }

// Err implements Lease.
func (l *BaseLease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Renewed records a renewal: the lease now lasts until expires. It does
// nothing once the lease has ended.
func (l *BaseLease) Renewed(expires time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.expires = expires
	}
}

// End ends the lease with err (the first call wins) and reports whether
// this call ended it.
func (l *BaseLease) End(err error) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return false
	}
	l.err = err
	close(l.done)
	return true
}

// Resign implements Lease: it ends the lease with ErrResigned and then
// tells the elector's server, so that a standby takes over at once.
func (l *BaseLease) Resign(ctx context.Context) error {
	if !l.End(ErrResigned) {
		return nil
	}
	if l.resign == nil {
		return nil
	}
	return l.resign(ctx)
}

var _ Lease = (*BaseLease)(nil)
