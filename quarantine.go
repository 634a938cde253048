package idbridge

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// Quarantine follows Cloud Sync's model: a connector that keeps failing is
// set aside, retried after a back-off, and leaves quarantine when a run of
// it succeeds or an operator clears it.
//
// A run of a connector is bad when it stops on an error (not when its
// context was cancelled, nor when a safety guard stopped it: ErrMassChange,
// ErrImportShrink), or when it completed with a high error rate: at least
// QuarantineOptions.MinErrors object errors and an ErrorRate share of the
// objects it read (import) or sent (export; changes parked earlier and not
// sent again are not counted). Sync errors are rule and data problems, not
// the connected system's, and count only when the sync stops.
//
// A connector enters quarantine after QuarantineOptions.Runs bad runs in a
// row of one step (import, sync or export), or at once when a run fails on
// its credentials (connector.ErrAuth, as the run's error or as any object
// error of it). Cycle (and so Run) skips it, import, sync and export, until
// Quarantine.Until; the first cycle after that tries it again. A bad run
// then keeps it in quarantine and doubles the back-off (up to
// QuarantineOptions.MaxBackoff); a good run of the step that put it there
// (of any step when the reason was its credentials) takes it out. The run
// profile methods (FullImport, Export, …) called directly are not held:
// they run, and count as the tries above.
//
// The state is kept in the store (counters named idbridge.quarantine.*,
// and a history record of profile Quarantine or QuarantineCleared at each
// change), so a restarted engine keeps it. The counts of bad runs in a row
// are kept in memory only.

// ErrNotQuarantined: ClearQuarantine of a connector that is not in
// quarantine.
var ErrNotQuarantined = errors.New("idbridge: connector not in quarantine")

// Defaults of QuarantineOptions.
const (
	DefaultQuarantineRuns       = 3
	DefaultQuarantineErrorRate  = 0.5
	DefaultQuarantineMinErrors  = 10
	DefaultQuarantineBackoff    = 10 * time.Minute
	DefaultQuarantineMaxBackoff = 24 * time.Hour
)

// QuarantineOptions configure quarantine (Options.Quarantine). The zero
// value is the documented defaults.
type QuarantineOptions struct {
	// Disabled turns quarantine off: connectors are never quarantined.
	Disabled bool
	// Runs is the number of bad runs in a row of one step that quarantine
	// a connector. Default 3.
	Runs int
	// ErrorRate is the share of objects in error (between 0 and 1) from
	// which a completed import or export counts as bad. Default 0.5.
	ErrorRate float64
	// MinErrors is the fewest object errors for a completed run to count
	// as bad. Default 10.
	MinErrors int
	// Backoff is the first wait before a quarantined connector is tried
	// again; it doubles with each try that fails, up to MaxBackoff.
	// Defaults 10 minutes and 24 hours.
	Backoff    time.Duration
	MaxBackoff time.Duration
}

func (o *QuarantineOptions) setDefaults() {
	if o.Runs <= 0 {
		o.Runs = DefaultQuarantineRuns
	}
	if o.ErrorRate <= 0 {
		o.ErrorRate = DefaultQuarantineErrorRate
	}
	if o.MinErrors <= 0 {
		o.MinErrors = DefaultQuarantineMinErrors
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultQuarantineBackoff
	}
	if o.MaxBackoff < o.Backoff {
		o.MaxBackoff = max(DefaultQuarantineMaxBackoff, o.Backoff)
	}
}

// QuarantineReason says why a connector is in quarantine.
type QuarantineReason string

// Reasons of quarantine.
const (
	// QuarantineAuth: the connected system refused the connector's
	// credentials (connector.ErrAuth).
	QuarantineAuth QuarantineReason = "auth"
	// QuarantineFailures: runs of one step stopped on errors.
	QuarantineFailures QuarantineReason = "failures"
	// QuarantineErrorRate: runs of one step completed with most objects
	// in error.
	QuarantineErrorRate QuarantineReason = "error-rate"
)

// Quarantine is the quarantine state of a connector.
type Quarantine struct {
	Connector string           `json:"connector"`
	Reason    QuarantineReason `json:"reason"`
	// Step is the step whose runs failed: "import", "sync" or "export".
	Step string `json:"step"`
	// Detail is the last bad run's error, or its error count and rate.
	Detail string `json:"detail,omitempty"`
	// Since is when the connector entered quarantine.
	Since time.Time `json:"since"`
	// Until is when the next cycle tries it again.
	Until time.Time `json:"until"`
	// Retries counts the tries since it entered quarantine that failed.
	Retries int `json:"retries"`
}

// quarantines is the engine's quarantine state.
type quarantines struct {
	opts    QuarantineOptions
	mu      sync.Mutex
	q       map[string]*Quarantine    // by connector
	strikes map[string]map[string]int // connector → step → bad runs in a row
}

func newQuarantines(o QuarantineOptions) *quarantines {
	o.setDefaults()
	return &quarantines{opts: o, q: map[string]*Quarantine{}, strikes: map[string]map[string]int{}}
}

// Quarantines lists the connectors in quarantine, by name.
func (e *Engine) Quarantines() []Quarantine {
	qs := e.quar
	qs.mu.Lock()
	defer qs.mu.Unlock()
	out := make([]Quarantine, 0, len(qs.q))
	for _, name := range slices.Sorted(maps.Keys(qs.q)) {
		out = append(out, *qs.q[name])
	}
	return out
}

// quarantined reports whether a connector is in quarantine.
func (e *Engine) quarantined(name string) bool {
	e.quar.mu.Lock()
	defer e.quar.mu.Unlock()
	return e.quar.q[name] != nil
}

// held reports whether Cycle skips the connector now: it is in quarantine
// and its back-off has not passed.
func (e *Engine) held(name string) (Quarantine, bool) {
	qs := e.quar
	qs.mu.Lock()
	defer qs.mu.Unlock()
	q := qs.q[name]
	if q == nil || !e.opts.Now().Before(q.Until) {
		return Quarantine{}, false
	}
	return *q, true
}

// ClearQuarantine takes a connector out of quarantine (an operator fixed
// what was wrong): the next cycle runs it. The change is recorded in the
// store and the run history. It waits for the run in progress, if any (as
// a run profile does), so that the run's own verdict cannot undo it. It
// returns ErrNotQuarantined when the connector is not in quarantine.
func (e *Engine) ClearQuarantine(ctx context.Context, name string) error {
	if _, err := e.conn(name); err != nil {
		return err
	}
	_, end, err := e.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	qs := e.quar
	qs.mu.Lock()
	defer qs.mu.Unlock()
	q := qs.q[name]
	if q == nil {
		return fmt.Errorf("idbridge: clear quarantine of %q: %w", name, ErrNotQuarantined)
	}
	now := e.opts.Now()
	rec := &metaverse.RunRecord{Connector: name, Profile: string(ProfileQuarantineCleared), Started: now, Ended: now, Err: "cleared by an operator"}
	if err := e.store.Update(ctx, func(tx metaverse.Tx) error {
		if err := writeQuarantine(ctx, tx, name, nil); err != nil {
			return err
		}
		return tx.AddRun(ctx, rec)
	}); err != nil {
		return fmt.Errorf("idbridge: clear quarantine of %q: %w", name, err)
	}
	delete(qs.q, name)
	delete(qs.strikes, name)
	e.log.Info("idbridge: quarantine cleared by an operator", "connector", name)
	return nil
}

// stepOf is the quarantine step of a run profile.
func stepOf(p Profile) string {
	switch p {
	case FullImport, DeltaImport:
		return "import"
	case FullSync, DeltaSync:
		return "sync"
	}
	return "export"
}

// verdict judges a run: bad, and why.
func (qs *quarantines) verdict(r *RunResult, err error) (bad bool, reason QuarantineReason, detail string) {
	if err != nil && (errors.Is(err, connector.ErrAuth)) {
		return true, QuarantineAuth, err.Error()
	}
	for _, oe := range r.Errors {
		if errors.Is(oe, connector.ErrAuth) {
			return true, QuarantineAuth, oe.Error()
		}
	}
	switch RunOutcome(r, err) {
	case OutcomeCancelled, OutcomeSkipped:
		return false, "", ""
	case OutcomeFailed:
		if errors.Is(err, ErrMassChange) || errors.Is(err, ErrImportShrink) || errors.Is(err, ErrStagingMode) || errors.Is(err, ErrLeaseExpiring) {
			return false, "", ""
		}
		return true, QuarantineFailures, err.Error()
	}
	var failed, total int
	switch stepOf(r.Profile) {
	case "import":
		failed, total = r.ErrorCount, max(r.Read, r.Adds+r.Updates+r.Deletes+r.Unchanged+r.ErrorCount)
	case "export":
		failed, total = r.ExportFailed, r.Exported+r.ExportFailed
	default:
		return false, "", ""
	}
	if failed >= qs.opts.MinErrors && total > 0 && float64(failed)/float64(total) >= qs.opts.ErrorRate {
		return true, QuarantineErrorRate, fmt.Sprintf("%d of %d objects in error", failed, total)
	}
	return false, "", ""
}

// quarantineChange is a change of a connector's quarantine state to
// record with its run: q nil means it left quarantine.
type quarantineChange struct {
	q      *Quarantine
	record *metaverse.RunRecord
}

// observe updates the quarantine state with an ended run, and returns the
// change to record with the run (nil when none). It is called with the
// engine's run lock held.
func (e *Engine) observe(r *RunResult, err error) *quarantineChange {
	qs := e.quar
	if qs.opts.Disabled || r == nil {
		return nil
	}
	bad, reason, detail := qs.verdict(r, err)
	if !bad && RunOutcome(r, err) == OutcomeCancelled {
		return nil
	}
	step := stepOf(r.Profile)
	now := e.opts.Now()
	qs.mu.Lock()
	defer qs.mu.Unlock()
	name := r.Connector
	q := qs.q[name]
	if q != nil {
		if bad {
			q.Retries++
			q.Reason, q.Step, q.Detail = reason, step, detail
			q.Until = now.Add(qs.backoff(q.Retries))
			return &quarantineChange{q: q, record: quarantineRecord(q, now)}
		}
		if step == q.Step || q.Reason == QuarantineAuth {
			delete(qs.q, name)
			delete(qs.strikes, name)
			return &quarantineChange{record: &metaverse.RunRecord{Connector: name, Profile: string(ProfileQuarantineCleared),
				Started: now, Ended: now, Err: fmt.Sprintf("a %s run succeeded", r.Profile)}}
		}
		return nil
	}
	if qs.strikes[name] == nil {
		qs.strikes[name] = map[string]int{}
	}
	if !bad {
		if r.ErrorCount == 0 {
			qs.strikes[name][step] = 0
		}
		return nil
	}
	qs.strikes[name][step]++
	if reason != QuarantineAuth && qs.strikes[name][step] < qs.opts.Runs {
		return nil
	}
	q = &Quarantine{Connector: name, Reason: reason, Step: step, Detail: detail, Since: now, Until: now.Add(qs.backoff(0))}
	qs.q[name] = q
	delete(qs.strikes, name)
	return &quarantineChange{q: q, record: quarantineRecord(q, now)}
}

func quarantineRecord(q *Quarantine, now time.Time) *metaverse.RunRecord {
	return &metaverse.RunRecord{Connector: q.Connector, Profile: string(ProfileQuarantine), Started: now, Ended: now,
		Counts: map[string]int{"retries": q.Retries},
		Err:    fmt.Sprintf("%s (%s): %s; next try after %s", q.Reason, q.Step, q.Detail, q.Until.UTC().Format(time.RFC3339))}
}

// backoff is the wait after retries failed tries.
func (qs *quarantines) backoff(retries int) time.Duration {
	d := qs.opts.Backoff
	for i := 0; i < retries && d < qs.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, qs.opts.MaxBackoff)
}

// Counter names of the persisted state.
func quarantineCounter(name, field string) string { return "idbridge.quarantine." + name + "." + field }

var (
	reasonCodes = []QuarantineReason{"", QuarantineAuth, QuarantineFailures, QuarantineErrorRate}
	stepCodes   = []string{"", "import", "sync", "export"}
)

// writeQuarantine persists a connector's quarantine state (nil: none).
func writeQuarantine(ctx context.Context, tx metaverse.Tx, name string, q *Quarantine) error {
	vals := map[string]uint64{"since": 0, "until": 0, "retries": 0, "reason": 0, "step": 0}
	if q != nil {
		vals["since"], vals["until"] = uint64(q.Since.UnixNano()), uint64(q.Until.UnixNano())
		vals["retries"] = uint64(q.Retries)
		vals["reason"] = uint64(slices.Index(reasonCodes, q.Reason))
		vals["step"] = uint64(slices.Index(stepCodes, q.Step))
	}
	for _, f := range slices.Sorted(maps.Keys(vals)) {
		if err := tx.SetCounter(ctx, quarantineCounter(name, f), vals[f]); err != nil {
			return err
		}
	}
	return nil
}

// loadQuarantines reads the persisted quarantine state of the connectors.
func (e *Engine) loadQuarantines(ctx context.Context) error {
	qs := e.quar
	return e.store.View(ctx, func(tx metaverse.Tx) error {
		for _, name := range e.names {
			vals := map[string]uint64{}
			for _, f := range []string{"since", "until", "retries", "reason", "step"} {
				v, err := tx.Counter(ctx, quarantineCounter(name, f))
				if err != nil {
					return err
				}
				vals[f] = v
			}
			if vals["until"] == 0 {
				continue
			}
			q := &Quarantine{Connector: name, Since: time.Unix(0, int64(vals["since"])).UTC(), Until: time.Unix(0, int64(vals["until"])).UTC(),
				Retries: int(vals["retries"])}
			if i := int(vals["reason"]); i < len(reasonCodes) {
				q.Reason = reasonCodes[i]
			}
			if i := int(vals["step"]); i < len(stepCodes) {
				q.Step = stepCodes[i]
			}
			// The detail is in the newest Quarantine record of the history.
			rs, err := tx.Runs(ctx, name, 100)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if r.Profile == string(ProfileQuarantine) {
					q.Detail = quarantineDetail(r.Err)
					break
				}
			}
			qs.q[name] = q
		}
		return nil
	})
}

// quarantineDetail takes the detail back out of a Quarantine record's Err.
func quarantineDetail(s string) string {
	if _, rest, ok := strings.Cut(s, "): "); ok {
		if i := strings.LastIndex(rest, "; next try after "); i >= 0 {
			return rest[:i]
		}
		return rest
	}
	return s
}

// cycleConnectors returns the connectors a cycle runs: all but those held
// in quarantine, which it lists in cr.Skipped.
func (e *Engine) cycleConnectors(cr *CycleResult) []string {
	names := make([]string, 0, len(e.order))
	for _, name := range e.order {
		if q, ok := e.held(name); ok {
			cr.Skipped = append(cr.Skipped, q)
			e.log.Warn("idbridge: connector in quarantine: skipped by the cycle", "connector", name,
				"reason", q.Reason, "step", q.Step, "until", q.Until)
			continue
		}
		names = append(names, name)
	}
	return names
}

// skipped reports whether a connector entered quarantine earlier in the
// cycle cr (a bad import): the cycle skips its later steps, and lists it
// in cr.Skipped.
func (e *Engine) skipped(cr *CycleResult, name string) bool {
	q, ok := e.held(name)
	if !ok {
		return false
	}
	if !slices.ContainsFunc(cr.Skipped, func(s Quarantine) bool { return s.Connector == name }) {
		cr.Skipped = append(cr.Skipped, q)
	}
	return true
}
