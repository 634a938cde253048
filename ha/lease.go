package ha

import (
	"context"
	"errors"
	"fmt"
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

// Keep renews the lease every interval until it ends or ctx ends, and ends
// it with ErrLeaseLost when renew reports that the lease is no longer held
// (ttl 0 and no error) or when its expiry passes before a renewal
// succeeds. renew runs with a context that ends at the lease's expiry and
// returns the TTL the server granted, counted by Keep from the start of
// the call, so that Expires is never later than the server's expiry.
// Failed renewals are tried again at the next interval and reported to
// failed (which may be nil). Electors call Keep in a goroutine per lease.
func (l *BaseLease) Keep(ctx context.Context, interval time.Duration, renew func(ctx context.Context) (ttl time.Duration, err error), failed func(error)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	expiry := time.NewTimer(time.Until(l.Expires()))
	defer expiry.Stop()
	var lastErr error
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.Done():
			return
		case <-expiry.C:
			err := fmt.Errorf("%w: the lease of %q (term %d) expired before it could be renewed", ErrLeaseLost, l.key, l.term)
			if lastErr != nil {
				err = fmt.Errorf("%w: %w", err, lastErr)
			}
			l.End(err)
			return
		case <-tick.C:
		}
		start := time.Now()
		rctx, cancel := context.WithDeadline(ctx, l.Expires())
		ttl, err := renew(rctx)
		cancel()
		switch {
		case err != nil:
			lastErr = err
			if failed != nil {
				failed(err)
			}
		case ttl <= 0:
			l.End(fmt.Errorf("%w: another node holds the lease of %q", ErrLeaseLost, l.key))
			return
		default:
			lastErr = nil
			l.Renewed(start.Add(ttl))
			if !expiry.Stop() {
				select {
				case <-expiry.C:
				default:
				}
			}
			expiry.Reset(time.Until(l.Expires()))
		}
	}
}

// Held is the set of leases an elector holds and whether it is closed:
// bookkeeping every elector shares. The zero value is ready to use; it is
// safe for concurrent use.
type Held struct {
	mu     sync.Mutex
	closed bool
	leases map[*BaseLease]func() error
}

// Add records a held lease and how to release it on the server when the
// elector closes. It reports false, and records nothing, once Close has
// been called.
func (h *Held) Add(l *BaseLease, release func() error) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	if h.leases == nil {
		h.leases = map[*BaseLease]func() error{}
	}
	h.leases[l] = release
	return true
}

// Remove forgets a lease that ended.
func (h *Held) Remove(l *BaseLease) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.leases, l)
}

// Closed reports whether Close has been called.
func (h *Held) Closed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// Close ends every held lease with ErrClosed and releases it. It reports
// false when it had been called before (and does nothing then).
func (h *Held) Close() (bool, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return false, nil
	}
	h.closed = true
	leases := h.leases
	h.leases = nil
	h.mu.Unlock()
	var errs []error
	for l, release := range leases {
		if l.End(ErrClosed) && release != nil {
			errs = append(errs, release())
		}
	}
	return true, errors.Join(errs...)
}
