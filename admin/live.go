package admin

import (
	"slices"
	"strings"
	"sync"

	"github.com/idbridge/idbridge"
)

// Live keeps the last progress report of each run in progress, for the
// dashboard. The engine gives it the reports through its Progress hook:
//
//	live := admin.NewLive()
//	eng, err := idbridge.New(ctx, idbridge.Config{ …, Options: idbridge.Options{
//		Hooks: idbridge.Hooks{Progress: live.Progress},
//	}})
//	h := admin.New(eng, admin.Options{Live: live})
//
// A Live is safe for concurrent use.
type Live struct {
	mu   sync.Mutex
	runs map[string]idbridge.Progress // by connector and profile
}

// NewLive returns an empty Live.
func NewLive() *Live { return &Live{runs: map[string]idbridge.Progress{}} }

// Progress records a report; the final report of a run removes it. Its
// signature is that of idbridge.Hooks.Progress. It does not block.
func (l *Live) Progress(p idbridge.Progress) {
	key := p.Connector + "\x00" + string(p.Profile)
	l.mu.Lock()
	defer l.mu.Unlock()
	if p.Final {
		delete(l.runs, key)
		return
	}
	l.runs[key] = p
}

// running returns the runs in progress, by connector and profile.
func (l *Live) running() []idbridge.Progress {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	out := make([]idbridge.Progress, 0, len(l.runs))
	for _, p := range l.runs {
		out = append(out, p)
	}
	l.mu.Unlock()
	slices.SortFunc(out, func(a, b idbridge.Progress) int {
		if c := strings.Compare(a.Connector, b.Connector); c != 0 {
			return c
		}
		return strings.Compare(string(a.Profile), string(b.Profile))
	})
	return out
}
