package idbridge

import (
	"context"
	"errors"
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
	// InitialFirst runs an Initial cycle first, then delta cycles.
	InitialFirst bool
	// OnCycle, when set, is called after each cycle with its result.
	OnCycle func(*CycleResult, error)
}

// Run runs cycles until ctx ends: one at start, then every
// Schedule.Interval, and soon after any connector that implements
// connector.Watcher reports a change (change notification, so a change
// reaches its targets in seconds, not at the next interval). Cycle errors
// go to OnCycle and the log; Run returns ctx's error when ctx ends, after
// its watchers have stopped.
func (e *Engine) Run(ctx context.Context, s Schedule) error {
	if s.Interval <= 0 {
		s.Interval = 30 * time.Minute
	}
	if s.Debounce <= 0 {
		s.Debounce = 200 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(ctx)
	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	for _, name := range e.names {
		w, ok := e.conns[name].c.(connector.Watcher)
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				err := w.Watch(ctx, notify)
				if ctx.Err() != nil {
					return
				}
				e.log.Warn("idbridge: change notification stopped; restarting", "connector", name, "err", err)
				notify() // something may have changed while it was down
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Second):
				}
			}
		}()
	}

	mode := Delta
	if s.InitialFirst {
		mode = Initial
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(s.Debounce):
			}
		case <-timer.C:
		}
		res, err := e.Cycle(ctx, mode)
		mode = Delta
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			e.log.Warn("idbridge: cycle failed", "err", err)
		}
		if s.OnCycle != nil {
			s.OnCycle(res, err)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(s.Interval)
	}
}
