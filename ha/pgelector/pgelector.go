package pgelector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idbridge/idbridge/ha"
	"github.com/idbridge/idbridge/metaverse/pgstore"
)

// Options tune an Elector. The zero value (or nil) is the default.
type Options struct {
	// Schema holds the table ha_leases, created when missing. Default
	// "idbridge", pgstore's default schema, so that the leases live next
	// to the store they guard.
	Schema string `json:"schema,omitempty" yaml:"schema,omitempty"`
	// TTL is how long a lease lives without renewal. Default ha.DefaultTTL.
	TTL time.Duration `json:"ttl,omitempty" yaml:"ttl,omitempty"`
	// RenewEvery is the interval between renewals. Default TTL/3.
	RenewEvery time.Duration `json:"renewEvery,omitempty" yaml:"renewEvery,omitempty"`
	// PollEvery is how often a standby looks whether the lease has
	// expired. Default TTL/20, at most 500 ms.
	PollEvery time.Duration `json:"pollEvery,omitempty" yaml:"pollEvery,omitempty"`
	// Holder names this node in the lease table (and pg_stat_activity).
	// Default: host name, process id and a random suffix; it must be unique
	// among the nodes.
	Holder string `json:"holder,omitempty" yaml:"holder,omitempty"`
	// Logger receives lease changes at info level; nil discards them.
	Logger *slog.Logger `json:"-" yaml:"-"`
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Validate reports invalid options.
func (o *Options) Validate() error {
	if o == nil {
		return nil
	}
	if o.Schema != "" && !schemaName.MatchString(o.Schema) {
		return fmt.Errorf("pgelector: Options.Schema %q: want lower-case letters, digits and _, at most 63", o.Schema)
	}
	if o.TTL < 0 || o.RenewEvery < 0 || o.PollEvery < 0 {
		return errors.New("pgelector: Options.TTL, RenewEvery and PollEvery must not be negative")
	}
	if o.TTL > 0 && o.TTL < 100*time.Millisecond {
		return fmt.Errorf("pgelector: Options.TTL %v is under 100ms", o.TTL)
	}
	ttl := o.TTL
	if ttl == 0 {
		ttl = ha.DefaultTTL
	}
	if o.RenewEvery >= ttl {
		return fmt.Errorf("pgelector: Options.RenewEvery %v must be shorter than the TTL %v", o.RenewEvery, ttl)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Schema == "" {
		o.Schema = "idbridge"
	}
	if o.TTL == 0 {
		o.TTL = ha.DefaultTTL
	}
	if o.RenewEvery == 0 {
		o.RenewEvery = o.TTL / 3
	}
	if o.PollEvery == 0 {
		o.PollEvery = min(o.TTL/20, 500*time.Millisecond)
	}
	if o.Holder == "" {
		o.Holder = ha.DefaultHolder()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Elector is an ha.Elector on PostgreSQL. It is safe for concurrent use.
type Elector struct {
	pool *pgxpool.Pool
	opts Options
	log  *slog.Logger

	ctx    context.Context // ends on Close: stops renewals
	cancel context.CancelFunc
	wg     sync.WaitGroup

	held ha.Held
}

var _ ha.Elector = (*Elector)(nil)

// Open connects to the database at dsn and creates the lease table when
// missing. The elector has a small pool of its own (so that a store's busy
// pool never delays a renewal).
func Open(ctx context.Context, dsn string, opts *Options) (*Elector, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	o = o.withDefaults()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("pgelector: cannot parse the DSN") // it may hold a password
	}
	// The same rule as the store's: no unverified connection to a remote
	// host (the lease decides who may write).
	if err := pgstore.CheckTransport(&cfg.ConnConfig.Config); err != nil {
		return nil, err
	}
	cfg.MaxConns = 4
	cfg.ConnConfig.RuntimeParams["search_path"] = o.Schema
	cfg.ConnConfig.RuntimeParams["application_name"] = "idbridge-ha " + o.Holder
	// A renewal must not wait on a dead server longer than the lease lasts.
	cfg.ConnConfig.ConnectTimeout = o.TTL / 3
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgelector: %w", err)
	}
	e := &Elector{pool: pool, opts: o, log: o.Logger}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if err := e.createTable(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return e, nil
}

func (e *Elector) createTable(ctx context.Context) error {
	return pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('idbridge.pgelector.' || $1))`, e.opts.Schema); err != nil {
			return fmt.Errorf("pgelector: locking the schema: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{e.opts.Schema}.Sanitize()); err != nil {
			return fmt.Errorf("pgelector: creating schema %s: %w", e.opts.Schema, err)
		}
		// Rows are never deleted: the term of a key only grows.
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS ha_leases (
	key        text COLLATE "C" PRIMARY KEY,
	holder     text NOT NULL,
	term       bigint NOT NULL,
	expires_at timestamptz NOT NULL
)`); err != nil {
			return fmt.Errorf("pgelector: creating ha_leases: %w", err)
		}
		return nil
	})
}

// Holder returns the name of this node in the lease table.
func (e *Elector) Holder() string { return e.opts.Holder }

// TTL returns the lease time to live.
func (e *Elector) TTL() time.Duration { return e.opts.TTL }

// Campaign implements ha.Elector. It takes the key's lease when there is
// none or it has expired on the server's clock, with the key's term plus
// one, and polls every Options.PollEvery otherwise.
func (e *Elector) Campaign(ctx context.Context, key string) (ha.Lease, error) {
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-e.ctx.Done():
			return nil, ha.ErrClosed
		case <-poll.C:
		}
		start := time.Now()
		term, ok, err := e.acquire(ctx, key)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			e.log.Warn("pgelector: campaign failed; trying again", "key", key, "err", err)
		case ok:
			return e.lead(key, term, start)
		}
		poll.Reset(e.opts.PollEvery)
	}
}

func (e *Elector) acquire(ctx context.Context, key string) (uint64, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.TTL)
	defer cancel()
	var term int64
	err := e.pool.QueryRow(ctx, `INSERT INTO ha_leases AS l (key, holder, term, expires_at)
VALUES ($1, $2, 1, clock_timestamp() + $3 * interval '1 microsecond')
ON CONFLICT (key) DO UPDATE SET holder = EXCLUDED.holder, term = l.term + 1, expires_at = EXCLUDED.expires_at
WHERE l.expires_at < clock_timestamp()
RETURNING term`, key, e.opts.Holder, e.opts.TTL.Microseconds()).Scan(&term)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("pgelector: taking the lease of %q: %w", key, err)
	}
	return uint64(term), true, nil
}

func (e *Elector) lead(key string, term uint64, start time.Time) (ha.Lease, error) {
	ctx, stop := context.WithCancel(e.ctx)
	l := ha.NewBaseLease(key, term, start.Add(e.opts.TTL), func(ctx context.Context) error {
		stop()
		return e.release(ctx, key, term)
	})
	if !e.held.Add(l, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), e.opts.TTL/3)
		defer cancel()
		return e.release(ctx, key, term)
	}) {
		stop()
		_ = e.release(context.Background(), key, term)
		return nil, ha.ErrClosed
	}
	e.log.Info("pgelector: leading", "key", key, "term", term, "holder", e.opts.Holder)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		l.Keep(ctx, e.opts.RenewEvery, func(ctx context.Context) (time.Duration, error) {
			if held, err := e.extend(ctx, key, term); !held || err != nil {
				return 0, err
			}
			return e.opts.TTL, nil
		}, func(err error) {
			e.log.Warn("pgelector: renewal failed", "key", key, "term", term, "err", err)
		})
		if e.ctx.Err() != nil {
			l.End(ha.ErrClosed)
		} else if err := l.Err(); errors.Is(err, ha.ErrLeaseLost) {
			e.log.Warn("pgelector: lease lost", "key", key, "term", term, "err", err)
		}
		e.held.Remove(l)
	}()
	return l, nil
}

func (e *Elector) extend(ctx context.Context, key string, term uint64) (bool, error) {
	tag, err := e.pool.Exec(ctx, `UPDATE ha_leases SET expires_at = clock_timestamp() + $4 * interval '1 microsecond'
WHERE key = $1 AND holder = $2 AND term = $3 AND expires_at >= clock_timestamp()`, key, e.opts.Holder, int64(term), e.opts.TTL.Microseconds())
	if err != nil {
		return false, fmt.Errorf("pgelector: renewing the lease of %q: %w", key, err)
	}
	return tag.RowsAffected() == 1, nil
}

// release expires the lease on the server so that a standby takes over at
// its next poll.
func (e *Elector) release(ctx context.Context, key string, term uint64) error {
	_, err := e.pool.Exec(ctx, `UPDATE ha_leases SET expires_at = '-infinity' WHERE key = $1 AND holder = $2 AND term = $3`,
		key, e.opts.Holder, int64(term))
	if err != nil {
		return fmt.Errorf("pgelector: resigning the lease of %q: %w", key, err)
	}
	e.log.Info("pgelector: resigned", "key", key, "term", term)
	return nil
}

// Close implements ha.Elector: held leases end with ha.ErrClosed and are
// released on the server, waiting campaigns return ha.ErrClosed, and the
// pool is closed.
func (e *Elector) Close() error {
	first, err := e.held.Close()
	if !first {
		return nil
	}
	e.cancel()
	e.wg.Wait()
	e.pool.Close()
	return err
}
