// Package localelector is the ha.Elector of a single process: one
// goroutine at a time leads each key, and leases never expire. It is the
// default for an engine that runs alone, and lets code written for
// failover run unchanged on one node.
//
// Terms come from the clock (microseconds since 1970, or one more than the
// last term when the clock has not moved past it), so that they keep
// growing across restarts of the process on a clock that does not go back:
// a store fenced by an earlier run of the process accepts the new run's
// writes.
//
// # Errors
//
// Campaign returns ctx's error when ctx ends first and ha.ErrClosed after
// Close. A lease ends with ha.ErrResigned or ha.ErrClosed, never
// ha.ErrLeaseLost.
//
// # Concurrency
//
// An Elector and its leases are safe for concurrent use.
package localelector

import (
	"context"
	"sync"
	"time"

	"github.com/idbridge/idbridge/ha"
)

// Elector is an in-process ha.Elector.
type Elector struct {
	now func() time.Time

	mu     sync.Mutex
	closed bool
	last   uint64
	held   map[string]*ha.BaseLease
	freed  chan struct{} // closed and replaced when a key is released or on Close
}

var _ ha.Elector = (*Elector)(nil)

// New returns an elector.
func New() *Elector {
	return &Elector{now: time.Now, held: map[string]*ha.BaseLease{}, freed: make(chan struct{})}
}

// Campaign implements ha.Elector: it waits until no other lease of key is
// held in this process.
func (e *Elector) Campaign(ctx context.Context, key string) (ha.Lease, error) {
	for {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return nil, ha.ErrClosed
		}
		if _, busy := e.held[key]; !busy {
			term := max(e.last+1, uint64(e.now().UnixMicro()))
			e.last = term
			var l *ha.BaseLease
			l = ha.NewBaseLease(key, term, time.Time{}, func(context.Context) error {
				e.release(key, l)
				return nil
			})
			e.held[key] = l
			e.mu.Unlock()
			return l, nil
		}
		freed := e.freed
		e.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-freed:
		}
	}
}

func (e *Elector) release(key string, l *ha.BaseLease) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.held[key] == l {
		delete(e.held, key)
		close(e.freed)
		e.freed = make(chan struct{})
	}
}

// Close implements ha.Elector: held leases end with ha.ErrClosed and
// waiting campaigns return it.
func (e *Elector) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	for k, l := range e.held {
		l.End(ha.ErrClosed)
		delete(e.held, k)
	}
	close(e.freed)
	return nil
}
