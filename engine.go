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

	"go.opentelemetry.io/otel/metric"

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
	// ErrCaseInsensitiveJoin: a join group has only case-insensitive
	// conditions and the store cannot index case-insensitively (it does
	// not implement metaverse.FoldIndexer), so the group could only be
	// evaluated by scanning the metaverse.
	ErrCaseInsensitiveJoin = errors.New("idbridge: case-insensitive join needs a store that implements metaverse.FoldIndexer")
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
	// ImportDeleteShare is the share of a connector space (between 0 and
	// 1) that the delete pass of one full import may remove. A full import
	// that would remove more than this share and more than ImportDeleteMin
	// objects, or that read no object at all and would remove any, stages
	// no delete and fails with an *ImportShrinkError (ErrImportShrink): a
	// source that suddenly looks much smaller was more likely misread (a
	// scope typo, an empty file, a wrong base DN) than emptied. Default 0.2;
	// a negative value disables the guard.
	ImportDeleteShare float64
	// ImportDeleteMin is the number of deletes a full import may always
	// stage, whatever the share (small connector spaces change by more
	// than a fifth in ordinary use). Default 10.
	ImportDeleteMin int
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
	// Logger receives a summary of each run at info level (warn when the
	// run failed), object errors at debug, failed cycles, change
	// notification restarts and run history failures at warn; nil
	// discards logs.
	Logger *slog.Logger
	// Now returns the current time; nil means Clock.Now. For tests.
	Now func() time.Time
	// Clock gives Run its timers (and the time when Now is nil); nil means
	// the system clock. For tests.
	Clock Clock
	// Lease, when set, is the leadership the engine exports under (package
	// ha's Runner sets it): an export batch starts only when the lease is
	// held for more than ExportBatchTimeout, and its Export call ends when
	// the lease does. See ErrLeaseExpiring.
	Lease Lease
	// ExportBatchTimeout bounds each Connector.Export call; 0 means no
	// bound of its own (with a Lease, the lease's expiry bounds it).
	ExportBatchTimeout time.Duration

	// Operations: metrics, hooks, run history and quarantine (see
	// metrics.go, hooks.go, history.go and quarantine.go).

	// MeterProvider receives the engine's OpenTelemetry metrics (the
	// Metric* names); nil means none are recorded.
	MeterProvider metric.MeterProvider
	// Hooks receive run start and end, progress, object errors and
	// accepted exports as they happen; the zero value calls nothing.
	Hooks Hooks
	// ProgressEvery and ProgressInterval say how often Hooks.Progress is
	// called during a run: every ProgressEvery objects or ProgressInterval,
	// whichever comes first. Defaults 1000 objects and 10 seconds.
	ProgressEvery    int
	ProgressInterval time.Duration
	// HistoryRetention bounds the run history; the zero value is the
	// documented defaults (DefaultHistoryRuns, DefaultHistoryAge).
	HistoryRetention HistoryRetention
	// Quarantine configures when a failing connector is set aside; the
	// zero value is the documented defaults.
	Quarantine QuarantineOptions
	// CycleOrder is the order in which Cycle (and WhatIf) runs the
	// connectors: the listed names first, each at most once, then the
	// others in name order. nil means name order. New refuses a name that
	// is not a connector, or a name listed twice (ErrInvalidOptions).
	CycleOrder []string
}

// ErrInvalidOptions: Options or a Schedule with a value the engine cannot
// use (a negative size or duration); New and Run refuse them.
var ErrInvalidOptions = errors.New("idbridge: invalid options")

// Validate reports whether the options are usable: sizes are 0 (the
// default) or positive (DeletionThreshold may be negative: no check), and
// the rules options are valid (rules.Options.Validate). New calls it. The
// errors match ErrInvalidOptions.
func (o *Options) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{
		{"BatchSize", o.BatchSize},
		{"LargeObjectValues", o.LargeObjectValues},
		{"ExportBatchSize", o.ExportBatchSize},
		{"MaxErrors", o.MaxErrors},
		{"ImportDeleteMin", o.ImportDeleteMin},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%w: %s is %d (0 means the default)", ErrInvalidOptions, f.name, f.v))
		}
	}
	errs = append(errs, o.validateOps()...)
	if o.ImportDeleteShare > 1 {
		errs = append(errs, fmt.Errorf("%w: ImportDeleteShare is %g, a share of at most 1 (negative disables the guard)", ErrInvalidOptions, o.ImportDeleteShare))
	}
	if err := (rules.Options{Evaluator: o.Evaluator, CostLimit: o.CostLimit}).Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidOptions, err))
	}
	return errors.Join(errs...)
}

func (o *Options) setDefaults() {
	if o.DeletionThreshold == 0 {
		o.DeletionThreshold = DefaultDeletionThreshold
	}
	if o.ImportDeleteShare == 0 {
		o.ImportDeleteShare = DefaultImportDeleteShare
	}
	if o.ImportDeleteMin == 0 {
		o.ImportDeleteMin = DefaultImportDeleteMin
	}
	if o.BatchSize == 0 {
		o.BatchSize = 500
	}
	if o.LargeObjectValues == 0 {
		o.LargeObjectValues = 20_000
	}
	if o.ExportBatchSize == 0 {
		o.ExportBatchSize = 100
	}
	if o.MaxErrors == 0 {
		o.MaxErrors = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Now == nil {
		o.Now = o.Clock.Now
	}
	o.setOpsDefaults()
}

// Engine runs the sync: import into connector spaces, sync through the
// metaverse with the rules, export to the connected systems.
//
// Run profiles are serialised: an Engine runs one at a time, and a call made
// while another runs waits for it, as long as its context allows (a call
// whose context ends while it waits returns the context's error without
// running). An Engine is safe for concurrent use.
type Engine struct {
	store   metaverse.Store
	conns   map[string]*conn
	names   []string // connector names, sorted
	order   []string // connector names in cycle order (Options.CycleOrder)
	opts    Options
	log     *slog.Logger
	staging atomic.Bool
	guard   atomic.Pointer[MassChangeOptions] // Options.MassChange with defaults; see SetMassChange
	thresh  atomic.Int64

	// run is the run lock, a semaphore of one that waiting can give up
	// on: a run profile holds it (a value sent) for its duration.
	run chan struct{}
	// closing is closed by Close: waiting runs and Run stop.
	closing   chan struct{}
	closeOnce sync.Once
	mu        sync.RWMutex
	rules     *rules.Set

	metrics *metrics     // see metrics.go
	quar    *quarantines // see quarantine.go
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
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.setDefaults()
	e := &Engine{store: cfg.Store, conns: map[string]*conn{}, opts: opts, log: opts.Logger,
		run: make(chan struct{}, 1), closing: make(chan struct{})}
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
	order, err := cycleOrder(opts.CycleOrder, e.names)
	if err != nil {
		return nil, err
	}
	e.order = order
	if err := e.SetRules(ctx, cfg.Rules); err != nil {
		return nil, err
	}
	e.quar = newQuarantines(opts.Quarantine)
	if err := e.loadQuarantines(ctx); err != nil {
		return nil, fmt.Errorf("idbridge: reading quarantine state: %w", err)
	}
	m, err := newMetrics(e, opts.MeterProvider)
	if err != nil {
		return nil, fmt.Errorf("idbridge: metrics: %w", err)
	}
	e.metrics = m
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
	if err := e.indexJoins(ctx, set); err != nil {
		return err
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

// Close stops the engine: runs in progress finish; runs waiting for them
// and later ones fail with ErrClosed; Run cancels its cycle in progress and
// returns ErrClosed. Close does not wait for them. It closes neither the
// store nor the connectors; it unregisters the engine's observable metrics
// (Options.MeterProvider). Calling it again does nothing.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		close(e.closing)
		e.metrics.stop()
	})
	return nil
}

// isClosed reports whether Close was called.
func (e *Engine) isClosed() bool {
	select {
	case <-e.closing:
		return true
	default:
		return false
	}
}

// begin starts a run profile: it waits for any other run (giving up when
// ctx ends or the engine closes), and returns the rules to use and the
// function that ends the run.
func (e *Engine) begin(ctx context.Context) (*rules.Set, func(), error) {
	if e.isClosed() {
		return nil, nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	select {
	case e.run <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	case <-e.closing:
		return nil, nil, ErrClosed
	}
	end := func() { <-e.run }
	// Both may have happened while it waited; select picks at random.
	if e.isClosed() {
		end()
		return nil, nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		end()
		return nil, nil, err
	}
	return e.Rules(), end, nil
}

func (e *Engine) conn(name string) (*conn, error) {
	c, ok := e.conns[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownConnector, name)
	}
	return c, nil
}
