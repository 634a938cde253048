package idbridge_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

// watchConn is a memconn connector with a scripted Watch.
type watchConn struct {
	*memconn.Connector
	ev    *events
	mu    sync.Mutex
	calls int
	watch func(ctx context.Context, call int, notify func()) error
}

func (w *watchConn) Watch(ctx context.Context, notify func()) error {
	w.mu.Lock()
	w.calls++
	n := w.calls
	w.mu.Unlock()
	w.ev.poke()
	return w.watch(ctx, n, notify)
}

func (w *watchConn) Calls() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls
}

// blockingConn is a memconn connector whose imports wait until released
// (or their context ends), saying when they start.
type blockingConn struct {
	*memconn.Connector
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func newBlockingConn() *blockingConn {
	return &blockingConn{Connector: memconn.New(joinADSchema).Connector(), started: make(chan struct{}), release: make(chan struct{})}
}

func (b *blockingConn) Import(ctx context.Context, sink connector.ImportSink) error {
	b.once.Do(func() { close(b.started) })
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return b.Connector.Import(ctx, sink)
}

func (b *blockingConn) DeltaImport(ctx context.Context, wm []byte, sink connector.ImportSink) error {
	return b.Import(ctx, sink) // the first delta import is a full one anyway
}

// newRunEngine builds an engine on one connector, with the join tests'
// rules (AD projects people) and a fake clock.
func newRunEngine(t *testing.T, c connector.Connector, clock idbridge.Clock) *idbridge.Engine {
	t.Helper()
	rf, err := rules.Parse("run.yaml", []byte(`
metaverse:
  types:
    - name: person
      attributes:
        - {name: employeeID, type: string}
rules:
  - name: AD
    direction: inbound
    connector: ad
    source: user
    target: person
    linkType: Provision
    flows:
      - {target: employeeID, source: employeeID}
`))
	require.NoError(t, err)
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	eng, err := idbridge.New(context.Background(), idbridge.Config{
		Store: st, Connectors: map[string]connector.Connector{"ad": c}, Rules: rf,
		Options: idbridge.Options{Clock: clock},
	})
	require.NoError(t, err)
	return eng
}

// runner runs Engine.Run in a goroutine and counts its cycles.
type runner struct {
	mu     sync.Mutex
	cycles int
	errs   []error
	done   chan error
}

func startRun(t *testing.T, ctx context.Context, eng *idbridge.Engine, ev *events, s idbridge.Schedule) *runner {
	r := &runner{done: make(chan error, 1)}
	s.OnCycle = func(_ *idbridge.CycleResult, err error) {
		r.mu.Lock()
		r.cycles++
		r.errs = append(r.errs, err)
		r.mu.Unlock()
		ev.poke()
	}
	go func() { r.done <- eng.Run(ctx, s) }()
	return r
}

func (r *runner) Cycles() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cycles
}

// wait returns Run's error, failing the test if Run does not return.
func (r *runner) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func timersAre(c *fakeClock, want ...time.Duration) func() bool {
	slices.Sort(want)
	return func() bool { return slices.Equal(c.Timers(), want) }
}

// TestRunWatchUnsupported: a connector whose Watch returns ErrUnsupported
// is polled at the interval; its Watch is not called again and starts no
// cycle (it started one every 5 seconds).
func TestRunWatchUnsupported(t *testing.T) {
	ev := newEvents()
	clock := newFakeClock(ev)
	wc := &watchConn{Connector: memconn.New(joinADSchema).Connector(), ev: ev, watch: func(context.Context, int, func()) error {
		return connector.ErrUnsupported
	}}
	eng := newRunEngine(t, wc, clock)
	ctx, cancel := context.WithCancel(context.Background())
	r := startRun(t, ctx, eng, ev, idbridge.Schedule{Interval: time.Hour})

	ev.eventually(t, "the first cycle and the interval timer", func() bool { return r.Cycles() == 1 && wc.Calls() == 1 && timersAre(clock, time.Hour)() })
	clock.Advance(time.Hour - time.Second)
	assert.Equal(t, 1, r.Cycles(), "no cycle before the interval")
	clock.Advance(time.Second)
	ev.eventually(t, "the second cycle", func() bool { return r.Cycles() == 2 && timersAre(clock, time.Hour)() })
	assert.Equal(t, 1, wc.Calls(), "Watch is not called again")
	cancel()
	require.ErrorIs(t, r.wait(t), context.Canceled)
	assert.Equal(t, 2, r.Cycles())
}

// TestRunWatchBackoff: a failing Watch is restarted after a back-off that
// doubles up to its maximum, starts no cycle while it keeps failing, and
// after a watch that had been working fails, the back-off starts over and
// one cycle catches up.
func TestRunWatchBackoff(t *testing.T) {
	ev := newEvents()
	clock := newFakeClock(ev)
	errDown := errors.New("server down")
	const healthy = 2 * time.Minute
	wc := &watchConn{Connector: memconn.New(joinADSchema).Connector(), ev: ev}
	wc.watch = func(ctx context.Context, call int, notify func()) error {
		switch call {
		case 7: // works for a while, then fails
			t := clock.NewTimer(healthy)
			defer t.Stop()
			select {
			case <-t.C():
			case <-ctx.Done():
				return ctx.Err()
			}
			return errDown
		case 9: // works until Run stops
			<-ctx.Done()
			return ctx.Err()
		default:
			return errDown
		}
	}
	eng := newRunEngine(t, wc, clock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := startRun(t, ctx, eng, ev, idbridge.Schedule{Interval: time.Hour, WatchBackoff: 5 * time.Second, WatchBackoffMax: time.Minute})

	ev.eventually(t, "the first cycle", func() bool { return r.Cycles() == 1 })
	for i, d := range []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute} {
		ev.eventually(t, "back-off "+d.String(), timersAre(clock, time.Hour, d))
		assert.Equal(t, i+1, wc.Calls())
		clock.Advance(d)
	}
	ev.eventually(t, "the 7th watch", timersAre(clock, time.Hour, healthy))
	assert.Equal(t, 7, wc.Calls())
	assert.Equal(t, 1, r.Cycles(), "a failing watch starts no cycle")

	clock.Advance(healthy) // the watch that worked fails: catch up, start over
	ev.eventually(t, "the debounce and the first back-off", timersAre(clock, time.Hour, 200*time.Millisecond, 5*time.Second))
	clock.Advance(200 * time.Millisecond)
	ev.eventually(t, "the catch-up cycle", func() bool { return r.Cycles() == 2 })
	ev.eventually(t, "the next interval", timersAre(clock, time.Hour, 5*time.Second))
	clock.Advance(5 * time.Second)
	ev.eventually(t, "the 8th watch's back-off", timersAre(clock, time.Hour, 10*time.Second))
	clock.Advance(10 * time.Second)
	ev.eventually(t, "the 9th watch", func() bool { return wc.Calls() == 9 && timersAre(clock, time.Hour)() })
	assert.Equal(t, 2, r.Cycles())
	cancel()
	require.ErrorIs(t, r.wait(t), context.Canceled)
}

// TestRunNotify: a change notification starts a cycle after the debounce,
// well before the interval.
func TestRunNotify(t *testing.T) {
	ev := newEvents()
	clock := newFakeClock(ev)
	notified := make(chan func(), 1)
	wc := &watchConn{Connector: memconn.New(joinADSchema).Connector(), ev: ev, watch: func(ctx context.Context, _ int, notify func()) error {
		notified <- notify
		<-ctx.Done()
		return ctx.Err()
	}}
	eng := newRunEngine(t, wc, clock)
	ctx, cancel := context.WithCancel(context.Background())
	r := startRun(t, ctx, eng, ev, idbridge.Schedule{Interval: time.Hour, Debounce: time.Second})
	notify := <-notified
	ev.eventually(t, "the first cycle", func() bool { return r.Cycles() == 1 && timersAre(clock, time.Hour)() })
	notify()
	notify() // coalesced
	ev.eventually(t, "the debounce", timersAre(clock, time.Hour, time.Second))
	clock.Advance(time.Second)
	ev.eventually(t, "the cycle", func() bool { return r.Cycles() == 2 && timersAre(clock, time.Hour)() })
	cancel()
	require.ErrorIs(t, r.wait(t), context.Canceled)
	assert.Equal(t, 2, r.Cycles())
}

// TestCloseStopsRun: Close ends Run with ErrClosed, also when a cycle is in
// progress (it is cancelled); later runs fail with ErrClosed.
func TestCloseStopsRun(t *testing.T) {
	t.Run("between cycles", func(t *testing.T) {
		ev := newEvents()
		clock := newFakeClock(ev)
		eng := newRunEngine(t, memconn.New(joinADSchema).Connector(), clock)
		r := startRun(t, context.Background(), eng, ev, idbridge.Schedule{Interval: time.Hour})
		ev.eventually(t, "the first cycle", func() bool { return r.Cycles() == 1 })
		require.NoError(t, eng.Close())
		require.ErrorIs(t, r.wait(t), idbridge.ErrClosed)
		_, err := eng.FullImport(context.Background(), "ad")
		require.ErrorIs(t, err, idbridge.ErrClosed)
		require.ErrorIs(t, eng.Run(context.Background(), idbridge.Schedule{}), idbridge.ErrClosed)
		require.NoError(t, eng.Close(), "Close again")
	})
	t.Run("during a cycle", func(t *testing.T) {
		ev := newEvents()
		bc := newBlockingConn()
		eng := newRunEngine(t, bc, newFakeClock(ev))
		r := startRun(t, context.Background(), eng, ev, idbridge.Schedule{Interval: time.Hour})
		<-bc.started
		require.NoError(t, eng.Close())
		require.ErrorIs(t, r.wait(t), idbridge.ErrClosed)
		assert.Zero(t, r.Cycles())
	})
}

// TestRunLock: a run waiting for another gives up when its context ends
// (a DeltaImport with a deadline no longer waits behind a long FullSync)
// or when the engine is closed; the run in progress finishes.
func TestRunLock(t *testing.T) {
	bc := newBlockingConn()
	eng := newRunEngine(t, bc, nil)
	holder := make(chan error, 1)
	go func() {
		_, err := eng.FullImport(context.Background(), "ad")
		holder <- err
	}()
	<-bc.started // FullImport holds the run lock

	result := func(f func() error) error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- f() }()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("the waiting run did not give up")
			return nil
		}
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	err := result(func() error { _, err := eng.DeltaImport(cancelled, "ad"); return err })
	require.ErrorIs(t, err, context.Canceled, "a cancelled context does not wait")

	waiting, cancelWaiting := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := eng.DeltaSync(waiting, "ad"); errc <- err }()
	cancelWaiting()
	require.ErrorIs(t, result(func() error { return <-errc }), context.Canceled, "a context cancelled while waiting")

	go func() { _, err := eng.FullSync(context.Background(), "ad"); errc <- err }()
	require.NoError(t, eng.Close())
	require.ErrorIs(t, result(func() error { return <-errc }), idbridge.ErrClosed, "Close fails waiting runs")

	close(bc.release)
	require.NoError(t, result(func() error { return <-holder }), "the run in progress finishes")
}
