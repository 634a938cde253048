package ha

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/idbridge/idbridge"
)

// FleetConfig is what a Fleet is built from.
type FleetConfig struct {
	// Elector elects a leader per engine key among the nodes. Required.
	Elector Elector
	// Keys names the engines the fleet serves (each node of a fleet is
	// given the same keys). Required.
	Keys []string
	// Capacity is the most engines this node runs at once. A node at
	// capacity stops campaigning, so that nodes with room take the rest;
	// give the nodes enough capacity together that the survivors of a
	// node's death can take its engines. Default: len(Keys).
	Capacity int
	// Engine returns the configuration of the engine of key (its store,
	// connectors and rules). It is called each time this node starts
	// leading key. Required.
	Engine func(ctx context.Context, key string) (idbridge.Config, error)
	// Schedule is passed to each engine's Run.
	Schedule idbridge.Schedule
	// Unfenced allows stores that cannot fence (see RunnerConfig).
	Unfenced bool
	// Logger receives leadership changes; nil discards them.
	Logger *slog.Logger
	// OnLead and OnLoss are called when this node starts and stops
	// leading an engine.
	OnLead func(key string, l Lease)
	OnLoss func(key string, l Lease, err error)
	// RetryDelay is how long a key waits after a failed campaign or an
	// engine that could not be built. Default 5 s.
	RetryDelay time.Duration
}

// Fleet runs, on one node, the engines of many keys whose leases this node
// holds, up to a capacity: an identity product hosting many tenants, each
// with its own engine and store, on a few nodes. When a node dies its
// leases expire and the nodes with room campaign for them: its engines
// resume elsewhere after the TTL. Every engine is run as a Runner runs
// one (fenced store, lease checks before export batches). A Fleet is safe
// for concurrent use; Run may be called once.
type Fleet struct {
	cfg FleetConfig
	log *slog.Logger

	mu       sync.Mutex
	leading  map[string]Lease
	changed  chan struct{} // closed and replaced when leading changes
	campaign map[string]context.CancelFunc
}

// NewFleet checks cfg and returns a Fleet.
func NewFleet(cfg FleetConfig) (*Fleet, error) {
	if cfg.Elector == nil || len(cfg.Keys) == 0 || cfg.Engine == nil {
		return nil, errors.New("ha: FleetConfig.Elector, Keys and Engine are required")
	}
	if cfg.Capacity <= 0 {
		cfg.Capacity = len(cfg.Keys)
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = 5 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Fleet{cfg: cfg, log: log, leading: map[string]Lease{}, changed: make(chan struct{}), campaign: map[string]context.CancelFunc{}}, nil
}

// Leading returns the keys this node leads, with their leases.
func (f *Fleet) Leading() map[string]Lease {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]Lease, len(f.leading))
	for k, l := range f.leading {
		out[k] = l
	}
	return out
}

// Run serves every key until ctx ends, then resigns what it leads and
// returns ctx's error.
func (f *Fleet) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, key := range f.cfg.Keys {
		wg.Go(func() { f.serve(ctx, key) })
	}
	wg.Wait()
	return ctx.Err()
}

// room waits until this node leads fewer engines than its capacity.
func (f *Fleet) room(ctx context.Context) error {
	for {
		f.mu.Lock()
		full, changed := len(f.leading) >= f.cfg.Capacity, f.changed
		f.mu.Unlock()
		if !full {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// take records key as led, unless the node is full; reaching capacity
// stops the other campaigns.
func (f *Fleet) take(key string, l Lease) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.leading) >= f.cfg.Capacity {
		return false
	}
	f.leading[key] = l
	if len(f.leading) >= f.cfg.Capacity {
		for _, cancel := range f.campaign {
			cancel()
		}
	}
	close(f.changed)
	f.changed = make(chan struct{})
	return true
}

func (f *Fleet) drop(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.leading, key)
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *Fleet) wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// serve campaigns for key while the node has room and runs its engine
// while leading.
func (f *Fleet) serve(ctx context.Context, key string) {
	for ctx.Err() == nil {
		if f.room(ctx) != nil {
			return
		}
		cctx, cancel := context.WithCancel(ctx)
		f.mu.Lock()
		f.campaign[key] = cancel
		f.mu.Unlock()
		lease, err := f.cfg.Elector.Campaign(cctx, key)
		f.mu.Lock()
		delete(f.campaign, key)
		f.mu.Unlock()
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, context.Canceled):
			continue // the node filled up: wait for room
		case errors.Is(err, ErrClosed):
			return
		case err != nil:
			f.log.Warn("ha: fleet campaign failed", "key", key, "err", err)
			f.wait(ctx, f.cfg.RetryDelay)
			continue
		}
		if !f.take(key, lease) {
			f.resign(ctx, key, lease)
			continue
		}
		err = f.lead(ctx, key, lease)
		f.drop(key)
		f.resign(ctx, key, lease)
		reason := lease.Err()
		if reason == nil {
			reason = err
		}
		if f.cfg.OnLoss != nil {
			f.cfg.OnLoss(key, lease, reason)
		}
		f.log.Info("ha: fleet engine stopped", "key", key, "term", lease.Term(), "reason", reason)
		if errors.Is(err, errEngine) || errors.Is(err, ErrUnfenced) {
			f.wait(ctx, f.cfg.RetryDelay)
		}
	}
}

func (f *Fleet) lead(ctx context.Context, key string, lease Lease) error {
	if f.cfg.OnLead != nil {
		f.cfg.OnLead(key, lease)
	}
	cfg, err := f.cfg.Engine(ctx, key)
	if err != nil {
		return fmt.Errorf("%w %q: %w", errEngine, key, err)
	}
	r := &Runner{cfg: RunnerConfig{Elector: f.cfg.Elector, Key: key, Engine: cfg, Schedule: f.cfg.Schedule, Unfenced: f.cfg.Unfenced}, log: f.log}
	return r.lead(ctx, lease)
}

func (f *Fleet) resign(ctx context.Context, key string, lease Lease) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := lease.Resign(rctx); err != nil {
		f.log.Warn("ha: resign failed", "key", key, "term", lease.Term(), "err", err)
	}
}
