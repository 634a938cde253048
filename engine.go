package idbridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/rules"
)

// Errors returned by the engine. Match them with errors.Is.
var (
	// ErrUnknownConnector: a run profile named a connector the engine does
	// not have.
	ErrUnknownConnector = errors.New("idbridge: unknown connector")
	// ErrStagingMode: an export was asked of an engine in staging mode.
	ErrStagingMode = errors.New("idbridge: staging mode: exports are disabled")
	// ErrDeletionThreshold: an export run would delete more objects than the
	// deletion threshold, or a larger share of the connector space than
	// Options.MassChange.DeletePercent, allows; nothing was exported. The
	// error is a *MassChangeError, which also matches ErrMassChange.
	ErrDeletionThreshold = errors.New("idbridge: deletion threshold exceeded")
	// ErrClosed: the engine was closed.
	ErrClosed = errors.New("idbridge: engine closed")
)

// DefaultDeletionThreshold is Entra Connect's default: an export that would
// delete more than 500 objects stops.
const DefaultDeletionThreshold = 500

// Config is what an Engine is built from.
type Config struct {
	// Store keeps the metaverse and connector spaces. Required.
	Store metaverse.Store
	// Connectors by name. Rule files refer to connectors by these names.
	// The engine does not close them; the caller does.
	Connectors map[string]connector.Connector
	// Rules are compiled against the connectors' schemas and the metaverse
	// schema when the engine is built. Required.
	Rules *rules.File
	// Options tune the engine; the zero value is the documented defaults.
	Options Options
}

// Options tune an Engine. The zero value gives the documented defaults.
type Options struct {
	// DeletionThreshold: an export run that would delete more objects than
	// this from one connector stops before exporting anything. 0 means
	// DefaultDeletionThreshold; a negative value disables the check, and
	// the relative limit of deletes with it.
	DeletionThreshold int
	// Staging starts the engine in staging mode: imports and syncs run,
	// exports never do. See SetStaging.
	Staging bool
	// BatchSize is the number of objects staged or synced per store
	// transaction. Default 500.
	BatchSize int
	// LargeObjectValues is the number of attribute values above which an
	// object (a group with many members) is synced in a store transaction
	// of its own rather than with the rest of its batch, so that a batch
	// never holds several large groups in memory at once. Default 20,000.
	LargeObjectValues int
	// ExportBatchSize is the number of changes per Connector.Export call
	// when the connector has no connector.ExportBatcher. Default 100.
	ExportBatchSize int
	// ExportRetryBackoff is how long the engine waits before sending again
	// a change that the connected system refused with an error that may
	// pass (connector.ErrUnavailable, or any error connector.IsPermanent
	// does not recognise). The wait doubles with each further failure of
	// the same change, up to ExportRetryMaxBackoff; exports in between
	// skip the change (RunResult.ExportDeferred). Changes refused for good
	// are parked instead (see RetryExports). Default 1 minute; a negative
	// value retries at every export.
	ExportRetryBackoff time.Duration
	// ExportRetryMaxBackoff caps the wait of ExportRetryBackoff. Default
	// 4 hours.
	ExportRetryMaxBackoff time.Duration
	// MassChange configures the rest of the mass-change guard (with
	// DeletionThreshold): a relative limit of deletes, and limits of
	// disables and of updates of identity attributes. The zero value is
	// the documented defaults.
	MassChange MassChangeOptions
	// MaxErrors bounds the object errors kept in a RunResult and the run
	// history (all are counted). Default 1000.
	MaxErrors int
	// Evaluator compiles rule expressions; nil means CEL.
	Evaluator rules.Evaluator
	// CostLimit is the CEL cost limit of every rule expression; 0 means
	// the rules package default.
	CostLimit uint64
	// Logger receives run summaries and object errors at debug level;
	// nil discards logs.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.DeletionThreshold == 0 {
		o.DeletionThreshold = DefaultDeletionThreshold
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.LargeObjectValues <= 0 {
		o.LargeObjectValues = 20_000
	}
	if o.ExportBatchSize <= 0 {
		o.ExportBatchSize = 100
	}
	if o.MaxErrors <= 0 {
		o.MaxErrors = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Engine runs the sync: import into connector spaces, sync through the
// metaverse with the rules, export to the connected systems.
//
// Run profiles are serialised: an Engine runs one at a time, and a call made
// while another runs waits for it. An Engine is safe for concurrent use.
type Engine struct {
	store   metaverse.Store
	conns   map[string]*conn
	names   []string // connector names, sorted
	opts    Options
	log     *slog.Logger
	staging atomic.Bool
	guard   atomic.Pointer[MassChangeOptions] // Options.MassChange with defaults; see SetMassChange
	thresh  atomic.Int64

	run    sync.Mutex // held for the duration of each run profile
	mu     sync.RWMutex
	rules  *rules.Set
	closed bool
}

// conn is a connector with what the engine learned of it.
type conn struct {
	name   string
	c      connector.Connector
	schema *connector.Schema
	multi  map[string]map[string]bool // type → attribute → multi-valued
	refs   map[string]map[string]bool // type → attribute → reference
}

func (c *conn) isMulti(typ, attr string) bool { return c.multi[typ][attr] }

// New builds an engine: it reads each connector's schema, compiles the rules
// against the schemas (a rule that does not type-check is refused here, with
// its position) and declares the join attributes to the store.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Store == nil {
		return nil, errors.New("idbridge: Config.Store is required")
	}
	if cfg.Rules == nil {
		return nil, errors.New("idbridge: Config.Rules is required")
	}
	opts := cfg.Options
	opts.setDefaults()
	e := &Engine{store: cfg.Store, conns: map[string]*conn{}, opts: opts, log: opts.Logger}
	e.staging.Store(opts.Staging)
	e.thresh.Store(int64(opts.DeletionThreshold))
	e.SetMassChange(opts.MassChange)
	for name, c := range cfg.Connectors {
		if c == nil {
			return nil, fmt.Errorf("idbridge: connector %q is nil", name)
		}
		s, err := c.Schema(ctx)
		if err != nil {
			return nil, fmt.Errorf("idbridge: schema of connector %q: %w", name, err)
		}
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("idbridge: connector %q: %w", name, err)
		}
		e.conns[name] = newConn(name, c, s)
	}
	e.names = slices.Sorted(maps.Keys(e.conns))
	if err := e.SetRules(ctx, cfg.Rules); err != nil {
		return nil, err
	}
	return e, nil
}

func newConn(name string, c connector.Connector, s *connector.Schema) *conn {
	cn := &conn{name: name, c: c, schema: s, multi: map[string]map[string]bool{}, refs: map[string]map[string]bool{}}
	for _, t := range s.Types {
		m, r := map[string]bool{}, map[string]bool{}
		for _, a := range t.Attributes {
			m[a.Name] = a.Multi
			r[a.Name] = a.Type == connector.Reference
		}
		cn.multi[t.Name], cn.refs[t.Name] = m, r
	}
	return cn
}

// SetRules compiles a new rule file and, when it compiles, replaces the
// engine's rules. Run a full sync afterwards so that every object is
// evaluated with the new rules.
func (e *Engine) SetRules(ctx context.Context, f *rules.File) error {
	schemas := rules.Schemas{Metaverse: f.Metaverse, Connectors: map[string]*connector.Schema{}}
	for name, c := range e.conns {
		schemas.Connectors[name] = c.schema
	}
	set, err := rules.Compile(f.Rules, schemas, rules.Options{Evaluator: e.opts.Evaluator, CostLimit: e.opts.CostLimit})
	if err != nil {
		return fmt.Errorf("idbridge: rules: %w", err)
	}
	for _, name := range set.Connectors() {
		if _, ok := e.conns[name]; !ok {
			return fmt.Errorf("idbridge: rules refer to connector %q, which the engine does not have: %w", name, ErrUnknownConnector)
		}
	}
	if attrs := set.JoinAttributes(); len(attrs) > 0 {
		if err := e.store.Index(ctx, attrs...); err != nil {
			return fmt.Errorf("idbridge: indexing join attributes: %w", err)
		}
	}
	e.mu.Lock()
	e.rules = set
	e.mu.Unlock()
	return nil
}

// Rules returns the compiled rules in force.
func (e *Engine) Rules() *rules.Set {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.rules
}

// Connectors returns the connector names, sorted.
func (e *Engine) Connectors() []string { return slices.Clone(e.names) }

// Store returns the engine's store, for queries.
func (e *Engine) Store() metaverse.Store { return e.store }

// SetStaging switches staging mode: on, imports and syncs run but exports
// never do, and PendingExports shows what would be exported.
func (e *Engine) SetStaging(on bool) { e.staging.Store(on) }

// Staging reports whether the engine is in staging mode.
func (e *Engine) Staging() bool { return e.staging.Load() }

// SetDeletionThreshold changes the deletion threshold (see
// Options.DeletionThreshold; a negative value disables it).
func (e *Engine) SetDeletionThreshold(n int) {
	if n == 0 {
		n = DefaultDeletionThreshold
	}
	e.thresh.Store(int64(n))
}

// Close stops the engine: runs in progress finish, later ones fail with
// ErrClosed. It closes neither the store nor the connectors.
func (e *Engine) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	return nil
}

// begin starts a run profile: it waits for any other run, and returns the
// rules to use and the function that ends the run.
func (e *Engine) begin(ctx context.Context) (*rules.Set, func(), error) {
	e.run.Lock()
	e.mu.RLock()
	closed, set := e.closed, e.rules
	e.mu.RUnlock()
	if closed {
		e.run.Unlock()
		return nil, nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		e.run.Unlock()
		return nil, nil, err
	}
	return set, e.run.Unlock, nil
}

func (e *Engine) conn(name string) (*conn, error) {
	c, ok := e.conns[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownConnector, name)
	}
	return c, nil
}
