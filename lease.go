package idbridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idbridge/idbridge/connector"
)

// Lease is the leadership an engine exports under, when several engines
// share a store and one leads (package ha's Lease satisfies it). See
// Options.Lease.
type Lease interface {
	// Expires is the time until which the lease is certainly held; zero
	// means it does not expire.
	Expires() time.Time
	// Done is closed when the lease ends.
	Done() <-chan struct{}
}

// ErrLeaseExpiring: an export batch was not sent, or was cut short,
// because the engine's lease (Options.Lease) would end before the batch's
// timeout or has ended. It also matches context.DeadlineExceeded. What the
// batch sent is left pending for the next leader, whose import sees what
// arrived before anything is sent again.
var ErrLeaseExpiring = errors.New("idbridge: the lease ends before the export batch would")

// exportCall sends one export batch under the engine's lease: it refuses
// to start a batch that the lease might not outlast, and ends the call
// when the lease ends or the batch's timeout passes, whichever is first.
// Without a lease it calls Export with ctx.
func (e *Engine) exportCall(ctx context.Context, c *conn, changes []connector.Change) ([]connector.ExportResult, error) {
	l := e.opts.Lease
	if l == nil {
		return c.c.Export(ctx, changes)
	}
	now := e.opts.Now()
	deadline := l.Expires()
	timeout := e.opts.ExportBatchTimeout
	select {
	case <-l.Done():
		return nil, fmt.Errorf("export to %q: the lease has ended: %w: %w", c.name, ErrLeaseExpiring, context.DeadlineExceeded)
	default:
	}
	if !deadline.IsZero() {
		if left := deadline.Sub(now); left <= max(timeout, 0) {
			return nil, fmt.Errorf("export to %q: the lease is held for %v more, the batch may take %v: %w: %w",
				c.name, left.Round(time.Millisecond), timeout, ErrLeaseExpiring, context.DeadlineExceeded)
		}
		if timeout > 0 {
			deadline = now.Add(timeout)
		}
	} else if timeout > 0 {
		deadline = now.Add(timeout)
	}
	callCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if !deadline.IsZero() {
		var stop context.CancelFunc
		callCtx, stop = context.WithDeadlineCause(callCtx, deadline, ErrLeaseExpiring)
		defer stop()
	}
	go func() {
		select {
		case <-l.Done():
			cancel(ErrLeaseExpiring)
		case <-callCtx.Done():
		}
	}()
	res, err := c.c.Export(callCtx, changes)
	if err != nil && callCtx.Err() != nil && ctx.Err() == nil {
		// Cut short by the lease: fatal for the run, like a cancellation.
		err = fmt.Errorf("export to %q: %w: %w: %w", c.name, context.Cause(callCtx), context.DeadlineExceeded, err)
	}
	return res, err
}
