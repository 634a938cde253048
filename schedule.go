package idbridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/idbridge/idbridge/connector"
)

// Schedule says when Run starts cycles.
type Schedule struct {
	// Interval between delta cycles. Default 30 minutes, as Entra Connect.
	Interval time.Duration
	// Debounce: after a connector.Watcher reports a change, wait this long
	// for more before starting a cycle. Default 200 ms.
	Debounce time.Duration
	// WatchBackoff is the wait before restarting a connector.Watcher whose
	// Watch failed; it doubles with each failure in a row, up to
	// WatchBackoffMax, and starts again from WatchBackoff once a watch has
	// run for WatchBackoffMax. Defaults 5 seconds and 5 minutes.
	WatchBackoff    time.Duration
	WatchBackoffMax time.Duration
	// InitialFirst runs an Initial cycle first, then delta cycles.
	InitialFirst bool
	// OnCycle, when set, is called after each cycle with its result.
	OnCycle func(*CycleResult, error)
}

// Validate reports whether the schedule is usable: durations are 0 (the
// default) or positive. Run calls it. The errors match ErrInvalidOptions.
func (s *Schedule) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"Interval", s.Interval}, {"Debounce", s.Debounce},
		{"WatchBackoff", s.WatchBackoff}, {"WatchBackoffMax", s.WatchBackoffMax},
	} {
		if f.d < 0 {
			errs = append(errs, fmt.Errorf("%w: Schedule.%s is %v (0 means the default)", ErrInvalidOptions, f.name, f.d))
		}
	}
	return errors.Join(errs...)
}

func (s *Schedule) setDefaults() {
	if s.Interval <= 0 {
		s.Interval = 30 * time.Minute
	}
	if s.Debounce <= 0 {
		s.Debounce = 200 * time.Millisecond
	}
	if s.WatchBackoff <= 0 {
		s.WatchBackoff = 5 * time.Second
	}
	if s.WatchBackoffMax < s.WatchBackoff {
		s.WatchBackoffMax = max(5*time.Minute, s.WatchBackoff)
	}
}

// Run runs cycles until ctx ends or the engine is closed: one at start,
// then Schedule.Interval after the end of each, and sooner (after
// Schedule.Debounce) when a connector that implements connector.Watcher
// reports a change, so that a change reaches its targets in seconds, not at
// the next interval.
//
// A Watch that returns connector.ErrUnsupported (a directory without
// change notification) is not called again: that connector is polled at
// the interval. A Watch that fails otherwise is restarted after a back-off
// (Schedule.WatchBackoff, doubling up to WatchBackoffMax); a watch that had
// run for WatchBackoffMax before failing also starts a cycle, for the
// changes it may have missed while it reconnects.
//
// Cycle errors go to OnCycle and the log. Run returns ctx's error when ctx
// ends, or ErrClosed when Close is called (which cancels the cycle in
// progress), after its watchers have stopped.
func (e *Engine) Run(ctx context.Context, s Schedule) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.setDefaults()
	if e.isClosed() {
		return ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Go(func() {
		select {
		case <-e.closing:
			cancel()
		case <-ctx.Done():
		}
	})
	// stopped returns the error Run returns once ctx is done.
	stopped := func() error {
		if e.isClosed() {
			return ErrClosed
		}
		return ctx.Err()
	}

	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	for _, name := range e.names {
		if w, ok := e.conns[name].c.(connector.Watcher); ok {
			wg.Go(func() { e.watch(ctx, s, name, w, notify) })
		}
	}

	mode := Delta
	if s.InitialFirst {
		mode = Initial
	}
	for {
		res, err := e.Cycle(ctx, mode)
		mode = Delta
		if err != nil && (ctx.Err() != nil || e.isClosed()) {
			return stopped() // the cycle was cut short
		}
		if err != nil {
			e.log.Warn("idbridge: cycle failed", "err", err)
		}
		if s.OnCycle != nil {
			s.OnCycle(res, err)
		}
		if !e.waitNext(ctx, s, changed) {
			return stopped()
		}
	}
}

// waitNext waits for the next cycle: the interval, or a change and the
// debounce after it. It reports false when ctx ends first.
func (e *Engine) waitNext(ctx context.Context, s Schedule, changed <-chan struct{}) bool {
	t := e.opts.Clock.NewTimer(s.Interval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	case <-changed:
	}
	d := e.opts.Clock.NewTimer(s.Debounce)
	defer d.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-d.C():
	}
	// Changes notified during the debounce are the coming cycle's.
	select {
	case <-changed:
	default:
	}
	return true
}

// watch runs w.Watch until ctx ends, restarting it after failures with a
// back-off; it returns for good when Watch says it is unsupported.
func (e *Engine) watch(ctx context.Context, s Schedule, name string, w connector.Watcher, notify func()) {
	clock := e.opts.Clock
	backoff := s.WatchBackoff
	for {
		started := clock.Now()
		err := w.Watch(ctx, notify)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, connector.ErrUnsupported) {
			e.log.Info("idbridge: connector has no change notification; polling at the interval", "connector", name, "err", err)
			return
		}
		if clock.Now().Sub(started) >= s.WatchBackoffMax {
			// It had been working: start over, and catch up on what
			// changed while it was down.
			backoff = s.WatchBackoff
			notify()
		}
		e.log.Warn("idbridge: change notification stopped; restarting", "connector", name, "in", backoff, "err", err)
		t := clock.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		backoff = min(2*backoff, s.WatchBackoffMax)
	}
}
