package idbridge

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// MeterName is the instrumentation scope of the engine's metrics.
const MeterName = "github.com/idbridge/idbridge"

// Metric names. The engine's instruments, created from
// Options.MeterProvider (none when it is nil):
//
//   - idbridge.run.count{connector,profile,outcome}: run profiles ended,
//     by outcome (an Outcome: success, completed-errors, failed, cancelled).
//   - idbridge.run.duration{connector,profile,outcome} (s, histogram): their
//     wall time.
//   - idbridge.objects{connector,profile,operation}: objects processed, by
//     operation: one per non-zero count of a RunResult (add, update, rename,
//     delete, unchanged, confirm, project, join, disconnect,
//     metaverse_update, metaverse_delete, provision, export_update,
//     deprovision, export, export_failed, export_parked, export_deferred).
//     Added when the run ends, so they equal the RunResult.
//   - idbridge.errors{connector,type}: object errors by the step that failed
//     (import, sync, join, flow, scope, outbound, export, …), counted as they
//     happen, and failed runs (type run).
//   - idbridge.export.latency{connector} (s, histogram): duration of each
//     Connector.Export call (one batch of changes).
//   - idbridge.export.throttled{connector}: requests the connected system
//     throttled (HTTP 429 and the like), and idbridge.export.throttle_wait
//     {connector} (s): the time the connector waited for them, for
//     connectors that implement connector.ThrottleReporter.
//   - idbridge.exports.pending{connector} (gauge): objects with a pending
//     export (any state: pending, unconfirmed, failed, parked), for stores
//     that implement metaverse.Statser, read at most every 15 seconds.
//   - idbridge.cycle.last_success (s, gauge): Unix time of the end of the
//     last cycle that ended without error.
//   - idbridge.quarantined{connector} (gauge): 1 while the connector is in
//     quarantine, else 0.
const (
	MetricRunCount      = "idbridge.run.count"
	MetricRunDuration   = "idbridge.run.duration"
	MetricObjects       = "idbridge.objects"
	MetricErrors        = "idbridge.errors"
	MetricExportLatency = "idbridge.export.latency"
	MetricThrottled     = "idbridge.export.throttled"
	MetricThrottleWait  = "idbridge.export.throttle_wait"
	MetricPending       = "idbridge.exports.pending"
	MetricLastSuccess   = "idbridge.cycle.last_success"
	MetricQuarantined   = "idbridge.quarantined"
)

// pendingRefresh is the least time between two reads of the pending
// exports for the idbridge.exports.pending gauge.
const pendingRefresh = 15 * time.Second

// metrics holds the engine's instruments. With a nil MeterProvider they
// are no-ops and cost a method call each.
type metrics struct {
	e             *Engine
	enabled       bool
	runs          metric.Int64Counter
	duration      metric.Float64Histogram
	objects       metric.Int64Counter
	errors        metric.Int64Counter
	exportLatency metric.Float64Histogram
	reg           metric.Registration

	lastSuccess atomic.Int64 // Unix nanoseconds; 0: none yet

	pendingMu   sync.Mutex
	pendingAt   time.Time
	pendingByCn map[string]int
}

func newMetrics(e *Engine, mp metric.MeterProvider) (*metrics, error) {
	m := &metrics{e: e, enabled: mp != nil}
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	meter := mp.Meter(MeterName)
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	m.runs, err = meter.Int64Counter(MetricRunCount, metric.WithUnit("{run}"),
		metric.WithDescription("Run profiles ended, by connector, profile and outcome."))
	check(err)
	m.duration, err = meter.Float64Histogram(MetricRunDuration, metric.WithUnit("s"),
		metric.WithDescription("Wall time of run profiles."),
		metric.WithExplicitBucketBoundaries(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200))
	check(err)
	m.objects, err = meter.Int64Counter(MetricObjects, metric.WithUnit("{object}"),
		metric.WithDescription("Objects processed by run profiles, by operation."))
	check(err)
	m.errors, err = meter.Int64Counter(MetricErrors, metric.WithUnit("{error}"),
		metric.WithDescription("Object errors by the step that failed, and failed runs (type run)."))
	check(err)
	m.exportLatency, err = meter.Float64Histogram(MetricExportLatency, metric.WithUnit("s"),
		metric.WithDescription("Duration of each export call to a connected system (one batch)."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
	check(err)
	throttled, err := meter.Int64ObservableCounter(MetricThrottled, metric.WithUnit("{request}"),
		metric.WithDescription("Requests the connected system throttled (HTTP 429 and the like)."))
	check(err)
	throttleWait, err := meter.Float64ObservableCounter(MetricThrottleWait, metric.WithUnit("s"),
		metric.WithDescription("Time connectors waited because the connected system throttled them."))
	check(err)
	pending, err := meter.Int64ObservableGauge(MetricPending, metric.WithUnit("{object}"),
		metric.WithDescription("Objects with a pending export, by connector."))
	check(err)
	last, err := meter.Float64ObservableGauge(MetricLastSuccess, metric.WithUnit("s"),
		metric.WithDescription("Unix time of the end of the last cycle that ended without error."))
	check(err)
	quarantined, err := meter.Int64ObservableGauge(MetricQuarantined, metric.WithUnit("1"),
		metric.WithDescription("1 while the connector is in quarantine, else 0."))
	check(err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if !m.enabled {
		return m, nil
	}
	m.reg, err = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		for _, name := range e.names {
			set := metric.WithAttributeSet(attribute.NewSet(attribute.String("connector", name)))
			if tr, ok := e.conns[name].c.(connector.ThrottleReporter); ok {
				st := tr.ThrottleStats()
				o.ObserveInt64(throttled, st.Throttled, set)
				o.ObserveFloat64(throttleWait, st.Waited.Seconds(), set)
			}
			q := int64(0)
			if e.quarantined(name) {
				q = 1
			}
			o.ObserveInt64(quarantined, q, set)
		}
		if counts := m.pendingCounts(ctx); counts != nil {
			for _, name := range e.names {
				o.ObserveInt64(pending, int64(counts[name]), metric.WithAttributeSet(attribute.NewSet(attribute.String("connector", name))))
			}
		}
		if t := m.lastSuccess.Load(); t != 0 {
			o.ObserveFloat64(last, float64(t)/1e9)
		}
		return nil
	}, throttled, throttleWait, pending, last, quarantined)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// pendingCounts returns the pending exports by connector, read from the
// store at most every pendingRefresh; nil when the store cannot count.
func (m *metrics) pendingCounts(ctx context.Context) map[string]int {
	st, ok := m.e.store.(metaverse.Statser)
	if !ok {
		return nil
	}
	m.pendingMu.Lock()
	defer m.pendingMu.Unlock()
	now := m.e.opts.Now()
	if m.pendingByCn != nil && now.Sub(m.pendingAt) < pendingRefresh && !now.Before(m.pendingAt) {
		return m.pendingByCn
	}
	s, err := st.Stats(ctx)
	if err != nil {
		m.e.log.Warn("idbridge: metrics: counting pending exports", "err", err)
		return m.pendingByCn
	}
	m.pendingByCn, m.pendingAt = s.PendingExports, now
	return m.pendingByCn
}

// stop unregisters the observable instruments' callback.
func (m *metrics) stop() {
	if m.reg != nil {
		_ = m.reg.Unregister()
	}
}

// Outcome is how a run profile ended.
type Outcome string

// Outcomes of a run profile.
const (
	// OutcomeSuccess: the run completed without an object error.
	OutcomeSuccess Outcome = "success"
	// OutcomeErrors: the run completed, with object errors (Entra Connect's
	// completed-sync-errors, completed-export-errors).
	OutcomeErrors Outcome = "completed-errors"
	// OutcomeFailed: the run stopped on an error.
	OutcomeFailed Outcome = "failed"
	// OutcomeCancelled: the run's context ended or the engine closed.
	OutcomeCancelled Outcome = "cancelled"
	// OutcomeSkipped: the run was not started (its connector is in
	// quarantine). Only cycles report it.
	OutcomeSkipped Outcome = "skipped"
)

// RunOutcome classifies a run's end: its result and the error the run
// profile returned.
func RunOutcome(r *RunResult, err error) Outcome {
	switch {
	case err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrClosed)):
		return OutcomeCancelled
	case err != nil:
		return OutcomeFailed
	case r != nil && r.ErrorCount > 0:
		return OutcomeErrors
	}
	return OutcomeSuccess
}

// operation names of RunResult counts in idbridge.objects.
var operations = map[string]string{
	"adds": "add", "updates": "update", "renames": "rename", "deletes": "delete",
	"unchanged": "unchanged", "confirmed": "confirm",
	"projections": "project", "joins": "join", "disconnects": "disconnect",
	"mvUpdates": "metaverse_update", "mvDeletes": "metaverse_delete",
	"provisions": "provision", "exportUpdates": "export_update", "deprovisions": "deprovision",
	"exported": "export", "exportFailed": "export_failed",
	"exportParked": "export_parked", "exportDeferred": "export_deferred",
}

// run records an ended run.
func (m *metrics) run(r *RunResult, err error) {
	if !m.enabled {
		return
	}
	ctx := context.Background()
	out := RunOutcome(r, err)
	cn, pr := attribute.String("connector", r.Connector), attribute.String("profile", string(r.Profile))
	set := metric.WithAttributeSet(attribute.NewSet(cn, pr, attribute.String("outcome", string(out))))
	m.runs.Add(ctx, 1, set)
	m.duration.Record(ctx, r.Duration().Seconds(), set)
	for _, c := range r.counts() {
		if c.n != 0 {
			m.objects.Add(ctx, int64(c.n), metric.WithAttributeSet(attribute.NewSet(cn, pr, attribute.String("operation", operations[c.name]))))
		}
	}
	if out == OutcomeFailed {
		m.errors.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(cn, attribute.String("type", "run"))))
	}
}

// objectError counts an object error as it happens.
func (m *metrics) objectError(oe *ObjectError) {
	if !m.enabled {
		return
	}
	typ, _, _ := strings.Cut(oe.Step, " ") // "export add" is an export error
	if typ == "" {
		typ = "unknown"
	}
	m.errors.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(
		attribute.String("connector", oe.Connector), attribute.String("type", typ))))
}

// exportCall records the latency of one export call.
func (m *metrics) exportCall(connName string, d time.Duration) {
	if !m.enabled {
		return
	}
	m.exportLatency.Record(context.Background(), d.Seconds(), metric.WithAttributeSet(attribute.NewSet(attribute.String("connector", connName))))
}

// cycleSucceeded records the end of a cycle without error.
func (m *metrics) cycleSucceeded(t time.Time) { m.lastSuccess.Store(t.UnixNano()) }
