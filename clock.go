package idbridge

import "time"

// Clock is where the engine reads the time and gets its timers
// (Options.Clock): the scheduler's interval, debounce and watch back-off
// wait on them. The zero Options use the system clock; tests inject a fake
// one to drive Run without waiting.
type Clock interface {
	Now() time.Time
	// NewTimer returns a started timer that fires once, d from now.
	NewTimer(d time.Duration) Timer
}

// Timer is a timer of a Clock, used as time.Timer is.
type Timer interface {
	// C delivers the time when the timer fires.
	C() <-chan time.Time
	// Stop stops the timer; it reports whether it was active.
	Stop() bool
	// Reset restarts the timer to fire d from now; it reports whether it
	// was active.
	Reset(d time.Duration) bool
}

// systemClock is the Clock of the time package.
type systemClock struct{}

func (systemClock) Now() time.Time                 { return time.Now() }
func (systemClock) NewTimer(d time.Duration) Timer { return sysTimer{time.NewTimer(d)} }

type sysTimer struct{ t *time.Timer }

func (t sysTimer) C() <-chan time.Time        { return t.t.C }
func (t sysTimer) Stop() bool                 { return t.t.Stop() }
func (t sysTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }
