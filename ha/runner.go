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

// RunnerConfig is what a Runner is built from.
type RunnerConfig struct {
	// Elector elects the leader among the nodes. Required.
	Elector Elector
	// Key names the engine among those the elector serves (one key per
	// engine and store). Required.
	Key string
	// Engine is the configuration of the engine to run while leading.
	// Engine.Store is the store every node shares; the Runner gives each
	// term's engine a fenced view of it (metaverse.Fencer) and sets
	// Engine.Options.Lease. When Options.ExportBatchTimeout is zero it
	// becomes half the lease's TTL, so that renewals every TTL/3 keep the
	// lease ahead of every batch.
	Engine idbridge.Config
	// Schedule is passed to Engine.Run.
	Schedule idbridge.Schedule
	// Unfenced lets the Runner use a store that cannot fence (memstore,
	// boltstore: one process owns them anyway). Without it such a store
	// fails Run with ErrUnfenced.
	Unfenced bool
	// Logger receives leadership changes; nil discards them.
	Logger *slog.Logger
	// OnLead, when set, is called when this node starts leading, before
	// its engine is built; OnLoss when that leadership ends, with why
	// (Lease.Err, or the engine's error). For metrics and tests.
	OnLead func(Lease)
	OnLoss func(Lease, error)
	// RetryDelay is how long a node whose engine could not be built (a
	// connector's schema unavailable) waits before campaigning again.
	// Default 5 s.
	RetryDelay time.Duration
}

// Runner runs an engine on the node that leads its key: it campaigns,
// builds the engine for the term (on the store fenced with the term), runs
// Engine.Run until the lease ends or ctx does, closes the engine, and
// campaigns again. Nodes that do not lead wait in Campaign: that is the
// standby. A Runner is safe for concurrent use; Run may be called once.
type Runner struct {
	cfg RunnerConfig
	log *slog.Logger

	mu      sync.Mutex
	current Lease
}

// NewRunner checks cfg and returns a Runner.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	if cfg.Elector == nil || cfg.Key == "" || cfg.Engine.Store == nil {
		return nil, errors.New("ha: RunnerConfig.Elector, Key and Engine.Store are required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, log: log}, nil
}

// Leading returns the lease this node holds, nil when it is a standby.
func (r *Runner) Leading() Lease {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current
}

// Run campaigns and runs the engine while leading, until ctx ends; then it
// resigns, so that a standby takes over at once, and returns ctx's error.
// It returns early only on an error that another campaign cannot fix
// (ErrUnfenced, ErrClosed). An engine that cannot be built resigns and
// campaigns again after RetryDelay.
func (r *Runner) Run(ctx context.Context) error {
	for {
		lease, err := r.cfg.Elector.Campaign(ctx, r.cfg.Key)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("ha: campaign for %q: %w", r.cfg.Key, err)
		}
		err = r.lead(ctx, lease)
		r.mu.Lock()
		r.current = nil
		r.mu.Unlock()
		reason := lease.Err()
		if reason == nil {
			reason = err
		}
		// Resign whatever happened: an engine that failed to start must
		// not keep the key from the standbys.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		rerr := lease.Resign(rctx)
		cancel()
		if rerr != nil {
			r.log.Warn("ha: resign failed", "key", r.cfg.Key, "term", lease.Term(), "err", rerr)
		}
		if r.cfg.OnLoss != nil {
			r.cfg.OnLoss(lease, reason)
		}
		r.log.Info("ha: leadership ended", "key", r.cfg.Key, "term", lease.Term(), "reason", reason)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrUnfenced) {
			return err
		}
		if errors.Is(err, errEngine) {
			// A connector that cannot give its schema yet: let another
			// node try, and try again later.
			r.log.Warn("ha: engine did not start", "key", r.cfg.Key, "err", err)
			t := time.NewTimer(r.retryDelay())
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
}

func (r *Runner) retryDelay() time.Duration {
	if r.cfg.RetryDelay > 0 {
		return r.cfg.RetryDelay
	}
	return 5 * time.Second
}

var errEngine = errors.New("ha: cannot build the engine")

// lead runs the engine under lease until the lease or ctx ends.
func (r *Runner) lead(ctx context.Context, lease Lease) error {
	r.mu.Lock()
	r.current = lease
	r.mu.Unlock()
	r.log.Info("ha: leading", "key", r.cfg.Key, "term", lease.Term())
	if r.cfg.OnLead != nil {
		r.cfg.OnLead(lease)
	}
	cfg := r.cfg.Engine
	store, err := Fence(cfg.Store, lease)
	if errors.Is(err, ErrUnfenced) && r.cfg.Unfenced {
		store, err = cfg.Store, nil
	}
	if err != nil {
		return err
	}
	cfg.Store = store
	cfg.Options.Lease = lease
	if exp := lease.Expires(); cfg.Options.ExportBatchTimeout == 0 && !exp.IsZero() {
		cfg.Options.ExportBatchTimeout = time.Until(exp) / 2
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-lease.Done():
			cancel()
		case <-lctx.Done():
		}
	}()
	eng, err := idbridge.New(lctx, cfg)
	if err != nil {
		if lctx.Err() != nil {
			return lctx.Err()
		}
		return fmt.Errorf("%w: %w", errEngine, err)
	}
	defer eng.Close()
	return eng.Run(lctx, r.cfg.Schedule)
}
