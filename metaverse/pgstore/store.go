package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idbridge/idbridge/metaverse"
)

// ErrUnavailable is metaverse.ErrUnavailable, returned (wrapped) when the
// connection to PostgreSQL fails, for example because the server went away
// in the middle of a transaction. That transaction was not committed,
// unless the error says the outcome of the commit is unknown; what was
// committed before is kept by PostgreSQL.
//
// Deprecated: match metaverse.ErrUnavailable, which every store uses.
var ErrUnavailable = metaverse.ErrUnavailable

// Options tunes a Store. The zero value (or nil) is the default.
type Options struct {
	// Schema is the PostgreSQL schema that holds the store's tables,
	// created when missing. Default "idbridge". Several stores may share a
	// database with different schemas.
	Schema string `json:"schema,omitempty" yaml:"schema,omitempty"`
	// MaxConns caps the connection pool. Default 10.
	MaxConns int32 `json:"maxConns,omitempty" yaml:"maxConns,omitempty"`
	// MinConns keeps this many connections open. Default 0.
	MinConns int32 `json:"minConns,omitempty" yaml:"minConns,omitempty"`
	// MaxConnLifetime closes connections older than this. Default 1h.
	MaxConnLifetime time.Duration `json:"maxConnLifetime,omitempty" yaml:"maxConnLifetime,omitempty"`
	// MaxConnIdleTime closes connections idle for longer. Default 30m.
	MaxConnIdleTime time.Duration `json:"maxConnIdleTime,omitempty" yaml:"maxConnIdleTime,omitempty"`
	// ApplicationName is shown in pg_stat_activity for the store's
	// connections. Default "idbridge".
	ApplicationName string `json:"applicationName,omitempty" yaml:"applicationName,omitempty"`
	// MaxRetries is how many times Update runs its function again after a
	// serialization failure or a deadlock before it gives up with
	// metaverse.ErrConflict. Default 20.
	MaxRetries int `json:"maxRetries,omitempty" yaml:"maxRetries,omitempty"`
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Validate reports invalid options.
func (o *Options) Validate() error {
	if o == nil {
		return nil
	}
	if o.Schema != "" && !schemaName.MatchString(o.Schema) {
		return fmt.Errorf("pgstore: Options.Schema %q: want lower-case letters, digits and _, at most 63", o.Schema)
	}
	if o.MaxConns < 0 || o.MinConns < 0 || o.MaxRetries < 0 {
		return errors.New("pgstore: Options.MaxConns, MinConns and MaxRetries must not be negative")
	}
	if o.MaxConns > 0 && o.MinConns > o.MaxConns {
		return fmt.Errorf("pgstore: Options.MinConns %d is more than MaxConns %d", o.MinConns, o.MaxConns)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Schema == "" {
		o.Schema = "idbridge"
	}
	if o.MaxConns == 0 {
		o.MaxConns = 10
	}
	if o.MaxConnLifetime == 0 {
		o.MaxConnLifetime = time.Hour
	}
	if o.MaxConnIdleTime == 0 {
		o.MaxConnIdleTime = 30 * time.Minute
	}
	if o.ApplicationName == "" {
		o.ApplicationName = "idbridge"
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 20
	}
	return o
}

// Store is a metaverse.Store in PostgreSQL. It is safe for concurrent use,
// and several Stores (in several processes) may share one schema:
// transactions are SERIALIZABLE.
type Store struct {
	pool   *pgxpool.Pool
	opts   Options
	closed atomic.Bool
	fences atomic.Bool // the fences table exists (fence.go)
}

var _ metaverse.Store = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL or a key=value
// string), creates the store's schema and tables or migrates them, and
// refuses a schema written by a newer version with
// metaverse.ErrIncompatible. A DSN that would reach a remote host without
// verifying its certificate (sslmode other than verify-full or verify-ca,
// or require without sslrootcert) is refused with ErrInsecureTransport
// before connecting; loopback hosts and Unix sockets are exempt.
func Open(ctx context.Context, dsn string, opts *Options) (*Store, error) {
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
		// The DSN may hold a password: do not repeat it.
		return nil, errors.New("pgstore: cannot parse the DSN")
	}
	if err := CheckTransport(&cfg.ConnConfig.Config); err != nil {
		return nil, err
	}
	cfg.MaxConns = o.MaxConns
	cfg.MinConns = o.MinConns
	cfg.MaxConnLifetime = o.MaxConnLifetime
	cfg.MaxConnIdleTime = o.MaxConnIdleTime
	cfg.ConnConfig.RuntimeParams["search_path"] = o.Schema
	cfg.ConnConfig.RuntimeParams["application_name"] = o.ApplicationName
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s := &Store{pool: pool, opts: o}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w: cannot connect to %s:%d: %w", ErrUnavailable, cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Schema returns the PostgreSQL schema of the store.
func (s *Store) Schema() string { return s.opts.Schema }

// Close implements metaverse.Store. It waits for transactions running in
// other goroutines, which fail with metaverse.ErrClosed at their next
// call.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.pool.Close()
	return nil
}

func (s *Store) ready(ctx context.Context) error {
	if s.closed.Load() {
		return metaverse.ErrClosed
	}
	return ctx.Err()
}

// View implements metaverse.Store: fn runs in a SERIALIZABLE READ ONLY
// transaction, run again in the rare case PostgreSQL reports a
// serialization failure.
func (s *Store) View(ctx context.Context, fn func(tx metaverse.Tx) error) error {
	return s.run(ctx, false, nil, fn)
}

// Update implements metaverse.Store: fn runs in a SERIALIZABLE
// transaction, and runs again (up to Options.MaxRetries times) when
// PostgreSQL reports a serialization failure or a deadlock.
func (s *Store) Update(ctx context.Context, fn func(tx metaverse.Tx) error) error {
	return s.run(ctx, true, nil, fn)
}

// run runs fn in a transaction, again after retryable failures. A write
// transaction with a fence commits only under it (fence.go).
func (s *Store) run(ctx context.Context, write bool, f *fence, fn func(tx metaverse.Tx) error) error {
	backoff := time.Millisecond
	for attempt := 0; ; attempt++ {
		if err := s.ready(ctx); err != nil {
			return err
		}
		err := s.attempt(ctx, write, f, fn)
		var r *retryable
		if !errors.As(err, &r) {
			return err
		}
		if attempt >= s.opts.MaxRetries {
			return fmt.Errorf("pgstore: gave up after %d attempts: %w: %w", attempt+1, metaverse.ErrConflict, r.err)
		}
		d := backoff/2 + rand.N(backoff)
		backoff = min(2*backoff, 200*time.Millisecond)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// retryable marks a transaction that failed on a serialization failure, a
// deadlock or a unique violation caused by a concurrent transaction.
type retryable struct{ err error }

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

func (s *Store) attempt(ctx context.Context, write bool, f *fence, fn func(tx metaverse.Tx) error) (err error) {
	mode := pgx.ReadOnly
	if write {
		mode = pgx.ReadWrite
	}
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable, AccessMode: mode})
	if err != nil {
		if s.closed.Load() {
			return metaverse.ErrClosed
		}
		return s.connErr("begin", err)
	}
	t := &tx{s: s, ptx: ptx, write: write}
	committed := false
	if f != nil {
		t.queued.Queue(`SET LOCAL idle_in_transaction_session_timeout = '` + fenceIdleTimeout + `'`)
	}
	defer func() {
		// Also when fn panics or calls runtime.Goexit (t.FailNow), so that
		// the connection returns to the pool. Rollback of a broken
		// connection fails too; nothing to add.
		if !committed {
			_ = ptx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	ferr := fn(t)
	if t.retry != nil {
		return &retryable{t.retry}
	}
	if ferr != nil {
		return ferr
	}
	if err := t.flush(ctx); err != nil {
		if t.retry != nil {
			return &retryable{t.retry}
		}
		return err
	}
	if f != nil {
		if err := t.checkFence(ctx, f); err != nil {
			if t.retry != nil {
				return &retryable{t.retry}
			}
			return err
		}
	}
	committed = true // whatever Commit returns, there is nothing to roll back
	if err := ptx.Commit(ctx); err != nil {
		if isRetryable(err) {
			return &retryable{err}
		}
		if isConnErr(err) {
			return fmt.Errorf("%w: the connection failed during commit, so whether the transaction was committed is unknown: %w", ErrUnavailable, err)
		}
		return fmt.Errorf("pgstore: commit: %w", err)
	}
	return nil
}

// connErr describes a failure outside a transaction's statements.
func (s *Store) connErr(op string, err error) error {
	if isConnErr(err) {
		return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// isRetryable: serialization_failure, deadlock_detected, and
// unique_violation (in a SERIALIZABLE transaction, a concurrent insert of
// the same key).
func isRetryable(err error) bool {
	switch pgCode(err) {
	case "40001", "40P01", "23505":
		return true
	}
	return false
}

// isConnErr reports a failure of the connection rather than of a
// statement: the server went away, was shut down or killed the backend.
func isConnErr(err error) bool {
	switch c := pgCode(err); {
	case c == "57P01", c == "57P02", c == "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
		return true
	case len(c) == 2+3 && c[:2] == "08": // connection_exception class
		return true
	case c != "":
		return false
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.As(err, &ne) || errors.As(err, &ce) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "conn closed")
}
