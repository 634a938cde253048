package idbridge_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/idbridge/idbridge"
)

// fakeClock is an idbridge.Clock whose time moves only when the test
// advances it. Every change of its timers pokes events, on which the test
// waits for a condition (see eventually).
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*fakeTimer]bool // the active ones
	events *events
}

func newFakeClock(ev *events) *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), timers: map[*fakeTimer]bool{}, events: ev}
}

type fakeTimer struct {
	c    *fakeClock
	ch   chan time.Time
	when time.Time
	d    time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) idbridge.Timer {
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	active := t.c.timers[t]
	delete(t.c.timers, t)
	t.c.mu.Unlock()
	t.c.events.poke()
	return active
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	active := t.c.timers[t]
	t.when, t.d = t.c.now.Add(d), d
	t.c.timers[t] = true
	t.c.mu.Unlock()
	t.c.events.poke()
	return active
}

// Advance moves the time forward by d and fires the timers due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	for t := range c.timers {
		if !t.when.After(c.now) {
			delete(c.timers, t)
			t.ch <- c.now
		}
	}
	c.mu.Unlock()
	c.events.poke()
}

// Timers returns the durations of the active timers, sorted.
func (c *fakeClock) Timers() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ds []time.Duration
	for t := range c.timers {
		ds = append(ds, t.d)
	}
	slices.Sort(ds)
	return ds
}

// events wakes a test waiting for a condition when something it watches
// changed.
type events struct{ ch chan struct{} }

func newEvents() *events { return &events{ch: make(chan struct{}, 1)} }

func (e *events) poke() {
	select {
	case e.ch <- struct{}{}:
	default:
	}
}

// eventually waits until cond holds, checking it after every event; it
// fails the test if cond still does not hold after 10 seconds (a deadlock
// guard: the conditions are met at once in a working engine).
func (e *events) eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-e.ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
