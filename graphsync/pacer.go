package graphsync

import (
	"context"
	"sync"
	"time"

	"github.com/idbridge/idbridge/connector"
)

// pacer keeps the export under Graph's limits: a sliding window of writes
// no fuller than the budget, a concurrency limit that halves when Graph
// throttles and grows back by one after a run of unthrottled batches
// (additive increase, multiplicative decrease), and a pause shared by all
// workers until the Retry-After of the last throttled response.
//
// The window is sliding, not a token bucket: any period of Budget.Per
// holds at most Budget.Writes writes, whatever window Graph counts in, and
// time the engine spends between exports is not lost (a bucket refilled at
// the average rate forgets it). The writes still in flight when a window of
// Graph's begins may land in it, so the window holds Concurrency × 20 writes
// fewer than the budget.
//
// It is safe for concurrent use.
type pacer struct {
	mu  sync.Mutex
	now func() time.Time

	window time.Duration // 0: writes unlimited
	limit  int           // writes allowed in any window
	sent   []stamp       // writes of the last window, oldest first
	total  int           // writes in sent

	until    time.Time // no request before this
	conc     int       // requests in flight allowed now
	max      int
	inflight int
	calm     int           // batches without throttling since the last change of conc
	wake     chan struct{} // closed and replaced whenever a waiter may proceed
	// maxPause caps a pause (Config.MaxRetryAfter): a Retry-After of a
	// day must not stop every worker for a day.
	maxPause time.Duration
	// stats counts the throttling (Connector.ThrottleStats).
	stats connector.ThrottleStats
}

type stamp struct {
	t time.Time
	n int
}

func newPacer(b Budget, concurrency int, maxPause time.Duration, now func() time.Time) *pacer {
	p := &pacer{now: now, conc: concurrency, max: concurrency, wake: make(chan struct{}), maxPause: maxPause}
	if b.Writes > 0 && b.Per > 0 {
		p.window = b.Per
		p.limit = max(b.Writes-concurrency*maxBatch, (b.Writes+1)/2)
	}
	return p
}

// acquire waits for a request slot and, for a request carrying writes,
// for room for them in the window.
func (p *pacer) acquire(ctx context.Context, writes int) error {
	need := min(writes, p.limit)
	for {
		p.mu.Lock()
		now := p.now()
		var wait time.Duration
		wake := p.wake
		switch {
		case now.Before(p.until):
			wait = p.until.Sub(now)
		case p.inflight >= p.conc:
			wait = -1 // until a release
		default:
			if p.window > 0 && need > 0 {
				p.expire(now)
				if p.total+need > p.limit {
					// Wait until enough of the oldest writes leave the window.
					free := p.total + need - p.limit
					for _, s := range p.sent {
						free -= s.n
						if free <= 0 {
							wait = s.t.Add(p.window).Sub(now)
							break
						}
					}
					wait = max(wait, time.Millisecond)
					break
				}
				p.sent = append(p.sent, stamp{now, need})
				p.total += need
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

// expire drops the writes older than the window.
func (p *pacer) expire(now time.Time) {
	i := 0
	for i < len(p.sent) && !p.sent[i].t.Add(p.window).After(now) {
		p.total -= p.sent[i].n
		i++
	}
	if i > 0 {
		p.sent = append(p.sent[:0], p.sent[i:]...)
	}
}

// release returns a slot; throttled says whether the request (or most of
// its batched requests) was throttled.
func (p *pacer) release(throttled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	if !throttled {
		p.calm++
		if p.calm >= 4*p.conc && p.conc < p.max {
			p.conc++
			p.calm = 0
		}
	}
	p.broadcast()
}

// throttled records a 429/503/504: every worker pauses for after (1 s when
// Graph did not say, at most maxPause) and the concurrency limit halves, once per throttling
// episode (the responses of requests already in flight when Graph said so
// are the same episode).
func (p *pacer) throttled(after time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.now().After(p.until) {
		p.conc = max(1, p.conc/2)
	}
	p.calm = 0
	p.pauseLocked(after)
	p.broadcast()
}

// pause makes every worker wait for after (1 s when Graph did not say),
// without changing the concurrency limit: some requests of a batch were
// throttled, most went through.
func (p *pacer) pause(after time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pauseLocked(after)
}

func (p *pacer) pauseLocked(after time.Duration) {
	if after <= 0 {
		after = time.Second
	}
	after = min(after, p.maxPause)
	p.stats.Throttled++
	now := p.now()
	if until := now.Add(after); until.After(p.until) {
		from := now
		if p.until.After(now) {
			from = p.until // the part already paused is counted
		}
		p.stats.Waited += until.Sub(from)
		p.until = until
	}
}

func (p *pacer) broadcast() {
	close(p.wake)
	p.wake = make(chan struct{})
}
