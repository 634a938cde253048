package idbridge

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idbridge/idbridge/metaverse"
)

// ErrBadCursor: a HistoryQuery or ErrorQuery cursor that no page returned,
// or whose record has since left the history.
var ErrBadCursor = errors.New("idbridge: invalid page cursor")

// Defaults of Options.HistoryRetention.
const (
	DefaultHistoryRuns = 10_000
	DefaultHistoryAge  = 30 * 24 * time.Hour
)

// HistoryRetention bounds the run history, enforced each time a run is
// recorded (on stores whose transactions implement metaverse.RunPruner;
// all of this module's do): the oldest records beyond Runs, and records
// that started more than Age ago, are deleted.
type HistoryRetention struct {
	// Runs is the most records kept. 0 means DefaultHistoryRuns; negative,
	// no bound.
	Runs int
	// Age is how long a record is kept. 0 means DefaultHistoryAge;
	// negative, no bound.
	Age time.Duration
}

// Profiles of the run history that are not run profiles: a connector
// entering or leaving quarantine.
const (
	ProfileQuarantine        Profile = "Quarantine"
	ProfileQuarantineCleared Profile = "QuarantineCleared"
)

// RunRecord is one run of the history, as History returns it.
type RunRecord struct {
	ID        string    `json:"id"`
	Connector string    `json:"connector,omitempty"`
	Profile   Profile   `json:"profile"`
	Started   time.Time `json:"started"`
	Ended     time.Time `json:"ended"`
	// Seconds is the run's wall time.
	Seconds float64 `json:"seconds"`
	Outcome Outcome `json:"outcome"`
	// Counts holds the run's non-zero counts by name ("adds", "updates",
	// "exported", "errors", …; the names of RunResult.String).
	Counts map[string]int `json:"counts,omitempty"`
	// Errors holds the first Options.MaxErrors object errors, as text.
	Errors []string `json:"errors,omitempty"`
	// Err is the error that stopped the run, empty when it completed.
	Err string `json:"err,omitempty"`
}

// HistoryQuery selects runs of the history. The zero value selects the
// newest runs of all connectors.
type HistoryQuery struct {
	Connector string  `json:"connector,omitempty"` // "" for all
	Profile   Profile `json:"profile,omitempty"`   // "" for all
	// Outcome selects runs that ended so ("" for all).
	Outcome Outcome `json:"outcome,omitempty"`
	// Since and Until bound the runs' start time: Since <= Started < Until
	// (zero: no bound).
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// Limit is the page size: default 50, at most 1000.
	Limit int `json:"limit,omitempty"`
	// Cursor continues from the page whose Next it is.
	Cursor string `json:"cursor,omitempty"`
}

// HistoryPage is a page of runs, newest first.
type HistoryPage struct {
	Runs []RunRecord `json:"runs"`
	// Next is the cursor of the next page, "" on the last.
	Next string `json:"next,omitempty"`
}

func pageLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 1000:
		return 1000
	}
	return n
}

// History returns a page of the run history, newest first. It reads the
// store in a read-only transaction: the store itself is not handed out.
func (e *Engine) History(ctx context.Context, q HistoryQuery) (*HistoryPage, error) {
	limit := pageLimit(q.Limit)
	page := &HistoryPage{Runs: []RunRecord{}}
	err := e.store.View(ctx, func(tx metaverse.Tx) error {
		rs, err := tx.Runs(ctx, q.Connector, 0)
		if err != nil {
			return err
		}
		start := 0
		if q.Cursor != "" {
			i := slices.IndexFunc(rs, func(r *metaverse.RunRecord) bool { return r.ID == q.Cursor })
			if i < 0 {
				return fmt.Errorf("%w: %q", ErrBadCursor, q.Cursor)
			}
			start = i + 1
		}
		for _, r := range rs[start:] {
			rec := toRunRecord(r)
			if !q.match(&rec) {
				continue
			}
			if len(page.Runs) == limit {
				page.Next = page.Runs[len(page.Runs)-1].ID
				return nil
			}
			page.Runs = append(page.Runs, rec)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("idbridge: run history: %w", err)
	}
	return page, nil
}

func (q *HistoryQuery) match(r *RunRecord) bool {
	return (q.Profile == "" || r.Profile == q.Profile) &&
		(q.Outcome == "" || r.Outcome == q.Outcome) &&
		(q.Since.IsZero() || !r.Started.Before(q.Since)) &&
		(q.Until.IsZero() || r.Started.Before(q.Until))
}

func toRunRecord(r *metaverse.RunRecord) RunRecord {
	rec := RunRecord{ID: r.ID, Connector: r.Connector, Profile: Profile(r.Profile), Started: r.Started, Ended: r.Ended,
		Seconds: r.Ended.Sub(r.Started).Seconds(), Counts: r.Counts, Errors: r.Errors, Err: r.Err}
	switch {
	case rec.Profile == ProfileQuarantine || rec.Profile == ProfileQuarantineCleared:
		rec.Outcome = ""
	case r.Err != "" && (strings.Contains(r.Err, context.Canceled.Error()) || strings.Contains(r.Err, ErrClosed.Error()) ||
		strings.Contains(r.Err, context.DeadlineExceeded.Error())):
		rec.Outcome = OutcomeCancelled
	case r.Err != "":
		rec.Outcome = OutcomeFailed
	case r.Counts["errors"] > 0:
		rec.Outcome = OutcomeErrors
	default:
		rec.Outcome = OutcomeSuccess
	}
	return rec
}

// ErrorQuery selects current per-object errors. The zero value selects the
// first of all connectors.
type ErrorQuery struct {
	Connector string `json:"connector,omitempty"` // "" for all
	// Limit is the page size: default 50, at most 1000.
	Limit int `json:"limit,omitempty"`
	// Cursor continues from the page whose Next it is (URL-safe text).
	Cursor string `json:"cursor,omitempty"`
}

// CurrentError is an object that is in error now: its last import or sync
// failed (Step "import", "sync", …), or its pending export was refused
// (Step "export"; Parked when refused for good). It stays until a run
// succeeds with the object, or, for a parked export, until RetryExports or
// a change in sync.
type CurrentError struct {
	Connector string `json:"connector"`
	ObjectID  string `json:"objectId"`
	Anchor    string `json:"anchor,omitempty"`
	DN        string `json:"dn,omitempty"`
	Type      string `json:"type,omitempty"`
	// Step is "export" for an export refused, else the step of the error
	// text ("import", "sync", "join", "flow", …).
	Step  string `json:"step"`
	Error string `json:"error"`
	// Attempts counts the failed exports of the pending change.
	Attempts int `json:"attempts,omitempty"`
	// Parked is set for an export refused for good.
	Parked bool `json:"parked,omitempty"`
	// Since is when the error was recorded, when known (exports).
	Since time.Time `json:"since,omitzero"`
}

// ErrorPage is a page of current errors, by connector and object ID.
type ErrorPage struct {
	Errors []CurrentError `json:"errors"`
	// Next is the cursor of the next page, "" on the last.
	Next string `json:"next,omitempty"`
}

// ObjectErrors returns a page of the objects in error now, in order of
// connector name and object ID: import and sync errors kept on the
// connector-space objects, and export errors kept on their pending
// exports. An object with both appears once per error. It scans the
// connector spaces (object errors are not indexed), one page at a time,
// each in a read-only transaction of its own.
func (e *Engine) ObjectErrors(ctx context.Context, q ErrorQuery) (*ErrorPage, error) {
	limit := pageLimit(q.Limit)
	names := e.names
	if q.Connector != "" {
		if _, err := e.conn(q.Connector); err != nil {
			return nil, err
		}
		names = []string{q.Connector}
	}
	startConn, after := "", ""
	if q.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		var ok bool
		startConn, after, ok = strings.Cut(string(raw), "\x00")
		if err != nil || !ok || !slices.Contains(names, startConn) {
			return nil, fmt.Errorf("%w: %q", ErrBadCursor, q.Cursor)
		}
	}
	page := &ErrorPage{Errors: []CurrentError{}}
	for _, name := range names {
		if startConn != "" && name < startConn {
			continue
		}
		from := ""
		if name == startConn {
			from = after
		}
		for {
			var objs []*metaverse.CSObject
			if err := e.store.View(ctx, func(tx metaverse.Tx) error {
				var err error
				objs, err = tx.Objects(ctx, name, from, e.opts.BatchSize)
				return err
			}); err != nil {
				return nil, fmt.Errorf("idbridge: object errors of %q: %w", name, err)
			}
			if len(objs) == 0 {
				break
			}
			for _, o := range objs {
				errs := currentErrors(o)
				if len(errs) == 0 {
					continue
				}
				if len(page.Errors) > 0 && len(page.Errors)+len(errs) > limit {
					page.Next = base64.RawURLEncoding.EncodeToString([]byte(name + "\x00" + from))
					return page, nil
				}
				page.Errors = append(page.Errors, errs...)
				from = o.ID
			}
			from = objs[len(objs)-1].ID
		}
	}
	return page, nil
}

func currentErrors(o *metaverse.CSObject) []CurrentError {
	var out []CurrentError
	base := CurrentError{Connector: o.Connector, ObjectID: o.ID, Anchor: string(o.Anchor), DN: o.DN, Type: o.Type}
	if o.Error != "" {
		ce := base
		ce.Error = o.Error
		ce.Step = errorStep(o.Connector, o.Error)
		out = append(out, ce)
	}
	if x := o.Export; x != nil && x.LastError != "" && (x.State == metaverse.ExportFailed || x.State == metaverse.ExportParked) {
		ce := base
		ce.Step, ce.Error, ce.Attempts, ce.Parked, ce.Since = "export", x.LastError, x.Attempts, x.State == metaverse.ExportParked, x.Updated
		if x.DN != "" {
			ce.DN = x.DN
		}
		out = append(out, ce)
	}
	return out
}

// errorStep reads the step from an ObjectError's text:
// "idbridge: <connector>: <step> …".
func errorStep(connName, text string) string {
	rest, ok := strings.CutPrefix(text, "idbridge: "+connName+": ")
	if !ok {
		return "sync"
	}
	step, _, _ := strings.Cut(rest, " ")
	return strings.TrimSuffix(step, ":")
}

// prune enforces Options.HistoryRetention in tx, after a run was recorded.
func (e *Engine) prune(ctx context.Context, tx metaverse.Tx) error {
	p, ok := tx.(metaverse.RunPruner)
	if !ok {
		return nil
	}
	ret := e.opts.HistoryRetention
	keep := max(ret.Runs, -1)
	var before time.Time
	if ret.Age > 0 {
		before = e.opts.Now().Add(-ret.Age)
	}
	if keep < 0 && before.IsZero() {
		return nil
	}
	_, err := p.PruneRuns(ctx, keep, before)
	return err
}
