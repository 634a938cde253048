package idbridge

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/idbridge/idbridge/metaverse"
)

// Hooks receive what the engine does as it does it (Options.Hooks): run
// start and end, progress during a run, object errors as they happen and
// exports as the connected system accepts them. Every field is optional.
//
// Hooks are called synchronously from the goroutine that runs the run
// profile, between units of work and never inside a store transaction: a
// hook that blocks holds up the run, so a hook that does real work (a
// network call, a database write) should hand the event to a goroutine of
// its own. A hook that panics does not corrupt the run: the engine
// recovers the panic, logs it at error level and goes on; the hook is
// called again for later events. Events are values owned by the hook.
type Hooks struct {
	// RunStart is called when a run profile starts, after it got the
	// engine's run lock.
	RunStart func(RunInfo)
	// RunEnd is called when a run profile ends, with its result (nil when
	// it could not start) and its error (nil when it completed), after the
	// run was recorded in the history.
	RunEnd func(RunInfo, *RunResult, error)
	// Progress is called during a run every Options.ProgressEvery objects
	// or Options.ProgressInterval, whichever comes first, and once at the
	// end of the run.
	Progress func(Progress)
	// ObjectError is called for each object error of a run, as it happens.
	ObjectError func(ObjectErrorEvent)
	// ExportConfirmed is called for each change an export run got accepted
	// by the connected system. (A later import confirms that the change
	// holds; RunResult.Confirmed counts those.)
	ExportConfirmed func(ExportEvent)
}

// Defaults of Options.ProgressEvery and ProgressInterval.
const (
	DefaultProgressEvery    = 1000
	DefaultProgressInterval = 10 * time.Second
)

// RunInfo names a run profile being run.
type RunInfo struct {
	Connector string    `json:"connector"`
	Profile   Profile   `json:"profile"`
	Started   time.Time `json:"started"`
}

// Progress is a report on a run in progress.
type Progress struct {
	Connector string  `json:"connector"`
	Profile   Profile `json:"profile"`
	// Done counts the objects the run has processed (read by an import,
	// evaluated by a sync, sent by an export), errors included.
	Done int `json:"done"`
	// Total is the number of objects the run will process, 0 when it is
	// not known (an import cannot tell how many objects its connector will
	// give it).
	Total int `json:"total,omitempty"`
	// Errors counts the object errors so far.
	Errors int `json:"errors"`
	// Elapsed is the time since the run started.
	Elapsed time.Duration `json:"elapsed"`
	// Rate is Done per second of Elapsed.
	Rate float64 `json:"rate"`
	// ETA is the estimated time left, 0 when Total is unknown.
	ETA time.Duration `json:"eta,omitempty"`
	// Final is set on the report at the end of the run.
	Final bool `json:"final,omitempty"`
}

// ObjectErrorEvent is an object error of a run, as it happens.
type ObjectErrorEvent struct {
	Connector string       `json:"connector"`
	Profile   Profile      `json:"profile"`
	Error     *ObjectError `json:"-"`
	// Text is Error's text, for serialisation.
	Text string `json:"error"`
}

// ExportEvent is a change an export run got accepted.
type ExportEvent struct {
	Connector string `json:"connector"`
	ObjectID  string `json:"objectId"`
	DN        string `json:"dn,omitempty"`
	// Kind is the change's kind: "add", "update" or "delete".
	Kind string `json:"kind"`
	// Latency is the duration of the Export call that carried the change.
	Latency time.Duration `json:"latency"`
}

// safeCall calls fn(ev), recovering a panic (logged with the hook's name).
func safeCall[T any](log *slog.Logger, name string, fn func(T), ev T) {
	if fn == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			log.Error("idbridge: hook panicked; the run goes on", "hook", name, "panic", fmt.Sprint(p))
		}
	}()
	fn(ev)
}

// tracker is a run's progress, metrics and hooks: the engine's
// instrumentation of one run profile. Its methods are called from the run
// goroutine only.
type tracker struct {
	e        *Engine
	info     RunInfo
	res      *RunResult
	total    int
	done     int
	nextN    int       // report when done reaches it
	nextT    time.Time // or when the clock passes it
	hasHooks bool
}

// startRun begins tracking res: it calls the RunStart hook and logs the
// start.
func (e *Engine) startRun(res *RunResult) *tracker {
	t := &tracker{e: e, info: RunInfo{Connector: res.Connector, Profile: res.Profile, Started: res.Started}, res: res,
		hasHooks: e.opts.Hooks.Progress != nil}
	t.nextN = e.opts.ProgressEvery
	t.nextT = res.Started.Add(e.opts.ProgressInterval)
	e.log.Debug("idbridge: run started", "connector", res.Connector, "profile", res.Profile)
	safeCall(e.log, "RunStart", e.opts.Hooks.RunStart, t.info)
	return t
}

// syncTotal sets the total of a sync's progress reports from the store's
// counts (metaverse.Statser), when a Progress hook wants them: the
// connector space for a full sync, its pending imports for a delta sync.
func (t *tracker) syncTotal(ctx context.Context, connName string, full bool) {
	if t == nil || !t.hasHooks {
		return
	}
	st, ok := t.e.store.(metaverse.Statser)
	if !ok {
		return
	}
	s, err := st.Stats(ctx)
	if err != nil {
		return // progress without a total
	}
	if full {
		t.total = s.Objects[connName]
	} else {
		t.total = s.PendingImports[connName]
	}
}

// add counts n objects processed and reports progress when due.
func (t *tracker) add(n int) {
	if t == nil {
		return
	}
	t.done += n
	if !t.hasHooks {
		return
	}
	if t.done >= t.nextN || !t.e.opts.Now().Before(t.nextT) {
		t.report(false)
	}
}

func (t *tracker) report(final bool) {
	now := t.e.opts.Now()
	t.nextN = t.done + t.e.opts.ProgressEvery
	t.nextT = now.Add(t.e.opts.ProgressInterval)
	p := Progress{Connector: t.res.Connector, Profile: t.res.Profile, Done: t.done, Total: t.total,
		Errors: t.res.ErrorCount, Elapsed: now.Sub(t.info.Started), Final: final}
	if p.Elapsed > 0 {
		p.Rate = float64(p.Done) / p.Elapsed.Seconds()
	}
	if p.Total > p.Done && p.Rate > 0 {
		p.ETA = time.Duration(float64(p.Total-p.Done) / p.Rate * float64(time.Second))
	}
	safeCall(t.e.log, "Progress", t.e.opts.Hooks.Progress, p)
}

// objectError reports an object error as it happens.
func (t *tracker) objectError(oe *ObjectError) {
	t.e.metrics.objectError(oe)
	t.e.log.Debug("idbridge: object error", "connector", oe.Connector, "profile", t.res.Profile, "step", oe.Step,
		"objectId", oe.ObjectID, "anchor", string(oe.Anchor), "dn", oe.DN, "err", oe.Err)
	if t.e.opts.Hooks.ObjectError != nil {
		safeCall(t.e.log, "ObjectError", t.e.opts.Hooks.ObjectError,
			ObjectErrorEvent{Connector: t.res.Connector, Profile: t.res.Profile, Error: oe, Text: oe.Error()})
	}
}

// wantsExports reports whether the ExportConfirmed hook is set.
func (t *tracker) wantsExports() bool { return t != nil && t.e.opts.Hooks.ExportConfirmed != nil }

// exported reports changes accepted by the connected system.
func (t *tracker) exported(evs []ExportEvent) {
	if t == nil {
		return
	}
	for _, ev := range evs {
		safeCall(t.e.log, "ExportConfirmed", t.e.opts.Hooks.ExportConfirmed, ev)
	}
}

// end finishes tracking: final progress, metrics, the RunEnd hook. It is
// called after the run was recorded.
func (t *tracker) end(err error) {
	t.info.Profile = t.res.Profile // an import may have turned full
	if t.hasHooks {
		t.report(true)
	}
	t.e.metrics.run(t.res, err)
	safeCall3(t.e.log, t.e.opts.Hooks.RunEnd, t.info, t.res, err)
}

func safeCall3(log *slog.Logger, fn func(RunInfo, *RunResult, error), info RunInfo, r *RunResult, err error) {
	if fn == nil {
		return
	}
	safeCall(log, "RunEnd", func(struct{}) { fn(info, r, err) }, struct{}{})
}

// validateOps checks the options of operations (hooks, history,
// quarantine); Options.Validate calls it.
func (o *Options) validateOps() []error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{
		{"ProgressEvery", o.ProgressEvery},
		{"Quarantine.Runs", o.Quarantine.Runs},
		{"Quarantine.MinErrors", o.Quarantine.MinErrors},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%w: %s is %d (0 means the default)", ErrInvalidOptions, f.name, f.v))
		}
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"ProgressInterval", o.ProgressInterval},
		{"Quarantine.Backoff", o.Quarantine.Backoff},
		{"Quarantine.MaxBackoff", o.Quarantine.MaxBackoff},
	} {
		if f.d < 0 {
			errs = append(errs, fmt.Errorf("%w: %s is %v (0 means the default)", ErrInvalidOptions, f.name, f.d))
		}
	}
	if r := o.Quarantine.ErrorRate; r < 0 || r > 1 {
		errs = append(errs, fmt.Errorf("%w: Quarantine.ErrorRate is %g, a share between 0 and 1 (0 means the default)", ErrInvalidOptions, r))
	}
	return errs
}

// setOpsDefaults sets the defaults of the options of operations.
func (o *Options) setOpsDefaults() {
	if o.ProgressEvery == 0 {
		o.ProgressEvery = DefaultProgressEvery
	}
	if o.ProgressInterval == 0 {
		o.ProgressInterval = DefaultProgressInterval
	}
	if o.HistoryRetention.Runs == 0 {
		o.HistoryRetention.Runs = DefaultHistoryRuns
	}
	if o.HistoryRetention.Age == 0 {
		o.HistoryRetention.Age = DefaultHistoryAge
	}
}
