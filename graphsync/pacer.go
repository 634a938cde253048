package graphsync

import (
	"context"
	"sync"
	"time"
)

// pacer keeps the export under Graph's limits: a token bucket of writes at
// the configured budget, a concurrency limit that halves when Graph
// throttles and grows back by one after a run of unthrottled batches
// (additive increase, multiplicative decrease), and a pause shared by all
// workers until the Retry-After of the last throttled response.
//
// It is safe for concurrent use.
type pacer struct {
	mu  sync.Mutex
	now func() time.Time

	rate   float64 // writes per second; 0: unlimited
	burst  float64
	tokens float64
	last   time.Time

	until    time.Time // no request before this
	limit    int       // requests in flight allowed now
	max      int
	inflight int
	calm     int           // batches without throttling since the last change of limit
	wake     chan struct{} // closed and replaced whenever a waiter may proceed

	throttles int // throttled responses seen (stats)
}

func newPacer(b Budget, concurrency int, now func() time.Time) *pacer {
	p := &pacer{now: now, limit: concurrency, max: concurrency, wake: make(chan struct{}), last: now()}
	if b.Writes > 0 && b.Per > 0 {
		// rate·Per + burst = Writes: whatever window Graph counts in, the
		// writes sent in it stay within the budget.
		p.burst = min(20, float64(b.Writes)/10)
		p.rate = (float64(b.Writes) - p.burst) / b.Per.Seconds()
		p.tokens = p.burst
	}
	return p
}

// acquire waits for a request slot and, for a request carrying writes,
// for that many write tokens.
func (p *pacer) acquire(ctx context.Context, writes int) error {
	need := float64(writes)
	for {
		p.mu.Lock()
		now := p.now()
		var wait time.Duration
		wake := p.wake
		switch {
		case now.Before(p.until):
			wait = p.until.Sub(now)
		case p.inflight >= p.limit:
			wait = -1 // until a release
		default:
			if p.rate > 0 && need > 0 {
				p.tokens = min(p.burst, p.tokens+now.Sub(p.last).Seconds()*p.rate)
				p.last = now
				if p.tokens < min(need, p.burst) {
					wait = time.Duration((min(need, p.burst) - p.tokens) / p.rate * float64(time.Second))
					break
				}
				// A request larger than the burst takes the bucket below
				// zero: the next ones wait until it is paid back.
				p.tokens -= need
			}
			p.inflight++
			p.mu.Unlock()
			return nil
		}
		p.mu.Unlock()
		var timer *time.Timer
		var fire <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-fire:
		case <-wake:
		}
		if timer != nil {
			timer.Stop()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// release returns a slot; throttled says whether the request (or one of its
// batched requests) was throttled.
func (p *pacer) release(throttled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	if !throttled {
		p.calm++
		if p.calm >= 4*p.limit && p.limit < p.max {
			p.limit++
			p.calm = 0
		}
	}
	p.broadcast()
}

// throttled records a 429/503/504: every worker pauses for after (1 s when
// Graph did not say) and the concurrency limit halves.
func (p *pacer) throttled(after time.Duration) {
	if after <= 0 {
		after = time.Second
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.throttles++
	now := p.now()
	if now.After(p.until) {
		// Halve once per throttling episode: the responses of requests
		// already in flight when Graph said so are the same episode.
		p.limit = max(1, p.limit/2)
	}
	if until := now.Add(after); until.After(p.until) {
		p.until = until
	}
	p.calm = 0
	p.broadcast()
}

// pause makes every worker wait for after (1 s when Graph did not say),
// without changing the concurrency limit: some requests of a batch were
// throttled, most went through.
func (p *pacer) pause(after time.Duration) {
	if after <= 0 {
		after = time.Second
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.throttles++
	if until := p.now().Add(after); until.After(p.until) {
		p.until = until
	}
}

func (p *pacer) broadcast() {
	close(p.wake)
	p.wake = make(chan struct{})
}
