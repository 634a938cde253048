package writeback

import (
	"fmt"
	"sync"
	"time"
)

// Rate is a number of requests per period.
type Rate struct {
	Requests int
	Per      time.Duration
}

// Limits bound the rate of password requests, so that a compromised or
// buggy caller cannot lock accounts out or hammer the domain controllers.
type Limits struct {
	// PerUser bounds the requests for one user (whatever names it).
	PerUser Rate
	// Global bounds all requests.
	Global Rate
	// MaxUsers bounds the number of users whose recent requests are
	// remembered (the least recently seen are forgotten first).
	MaxUsers int
}

// DefaultLimits: 5 requests per user per 15 minutes, 50 per second in all,
// 100,000 users remembered.
var DefaultLimits = Limits{
	PerUser:  Rate{Requests: 5, Per: 15 * time.Minute},
	Global:   Rate{Requests: 50, Per: time.Second},
	MaxUsers: 100_000,
}

func (l Limits) validate() error {
	for _, r := range []struct {
		name string
		r    Rate
	}{{"PerUser", l.PerUser}, {"Global", l.Global}} {
		if r.r.Requests <= 0 || r.r.Per <= 0 {
			return fmt.Errorf("writeback: Limits.%s must allow at least one request per positive period, got %d per %s", r.name, r.r.Requests, r.r.Per)
		}
	}
	if l.MaxUsers <= 0 {
		return fmt.Errorf("writeback: Limits.MaxUsers must be positive, got %d", l.MaxUsers)
	}
	return nil
}

// RateLimitError is returned when a request exceeds a limit. It matches
// ErrRateLimited.
type RateLimitError struct {
	Scope      string // "user" or "global"
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("writeback: too many password requests (%s limit); retry after %s", e.Scope, e.RetryAfter.Round(time.Second))
}

// Is matches ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// limiter is a token bucket per user and one for all, refilled continuously.
type limiter struct {
	mu     sync.Mutex
	lim    Limits
	now    func() time.Time
	global bucket
	users  map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(l Limits, now func() time.Time) *limiter {
	return &limiter{lim: l, now: now, users: map[string]*bucket{}, global: bucket{tokens: float64(l.Global.Requests), at: now()}}
}

// take refills b at r and takes a token; when none is left it returns how
// long until one is.
func (b *bucket) take(r Rate, now time.Time) (time.Duration, bool) {
	perToken := r.Per / time.Duration(r.Requests)
	b.tokens += float64(now.Sub(b.at)) / float64(perToken)
	if max := float64(r.Requests); b.tokens > max {
		b.tokens = max
	}
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) * float64(perToken)), false
}

func (l *limiter) allowGlobal() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.global.take(l.lim.Global, l.now())
	return ok
}

func (l *limiter) allowUser(key string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.users[key]
	if !ok {
		if len(l.users) >= l.lim.MaxUsers {
			l.forget(now)
		}
		b = &bucket{tokens: float64(l.lim.PerUser.Requests), at: now}
		l.users[key] = b
	}
	return b.take(l.lim.PerUser, now)
}

// forget drops the buckets that are full again (their users have no recent
// requests); if none is, the oldest.
func (l *limiter) forget(now time.Time) {
	var oldest string
	for k, b := range l.users {
		if now.Sub(b.at) >= l.lim.PerUser.Per {
			delete(l.users, k)
			continue
		}
		if oldest == "" || b.at.Before(l.users[oldest].at) {
			oldest = k
		}
	}
	if len(l.users) >= l.lim.MaxUsers && oldest != "" {
		delete(l.users, oldest)
	}
}
