package idbridge

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// Profile names a run profile.
type Profile string

// Run profiles, as in Entra Connect.
const (
	FullImport  Profile = "FullImport"
	DeltaImport Profile = "DeltaImport"
	FullSync    Profile = "FullSync"
	DeltaSync   Profile = "DeltaSync"
	Export      Profile = "Export"
)

// ObjectError is the failure of one object in a run. The run goes on
// without it; the object keeps its pending state so that a later run
// retries it.
type ObjectError struct {
	Connector string
	ObjectID  string // connector-space object ID; empty when the object was never staged
	Anchor    connector.Anchor
	DN        string
	Step      string // "import", "scope", "join", "flow", "outbound", "export", …
	Err       error
}

func (e *ObjectError) Error() string {
	var b strings.Builder
	b.WriteString("idbridge: ")
	b.WriteString(e.Connector)
	b.WriteString(": ")
	b.WriteString(e.Step)
	switch {
	case e.DN != "":
		b.WriteString(" " + e.DN)
	case e.Anchor != "":
		b.WriteString(" <" + string(e.Anchor) + ">")
	case e.ObjectID != "":
		b.WriteString(" object " + e.ObjectID)
	}
	err := e.Err
	// A connector's own ObjectError about the same object would repeat the
	// step and the DN: keep only where it happened and why.
	if ce, ok := err.(*connector.ObjectError); ok && (ce.DN == "" || ce.DN == e.DN) && ce.Err != nil {
		if ce.Where != "" {
			b.WriteString(" at " + ce.Where)
		}
		err = ce.Err
	}
	if err != nil {
		b.WriteString(": ")
		b.WriteString(err.Error())
	}
	return b.String()
}

func (e *ObjectError) Unwrap() error { return e.Err }

// RunResult is the outcome of one run profile on one connector.
type RunResult struct {
	Connector string
	Profile   Profile
	Started   time.Time
	Ended     time.Time

	// Import (and, for sync, the connector-space changes processed).
	Adds      int // objects new to the connector space
	Updates   int // objects whose attributes changed
	Renames   int // objects whose DN changed (also counted in Updates when attributes changed too)
	Deletes   int // objects gone from the connected system
	Unchanged int // objects a full import saw unchanged
	Confirmed int // pending exports an import confirmed

	// Read counts the objects an import was given by its connector,
	// including those it could not read (reported as errors); Checkpointed
	// counts those of them committed with the last watermark: a delta
	// import after a failed one resumes from there.
	Read         int
	Checkpointed int
	// DeletePassSkipped says why a full import staged no delete for the
	// objects it did not see ("" when it ran its delete pass): an object
	// that could not be read and could not be told apart, a continuation
	// reference not followed, or the shrink guard (ErrImportShrink).
	DeletePassSkipped string

	// Sync.
	Projections      int // metaverse entries created from a connector-space object
	Joins            int // connector-space objects joined to an existing entry
	Disconnects      int // links removed (object deleted or out of scope)
	MetaverseUpdates int // entries whose attributes changed
	MetaverseDeletes int // entries deleted because no authoritative source remained
	Provisions       int // target objects created by outbound rules (pending export add)
	ExportUpdates    int // target objects given a pending export update
	Deprovisions     int // target objects deprovisioned (delete, disconnect or disable)

	// Export.
	Exported     int // changes the connected system accepted
	ExportFailed int // changes it refused (retried later, or parked when refused for good)
	// ExportParked counts the changes left parked by this run: refused for
	// good now or at an earlier export, and not sent until the object
	// changes in sync or RetryExports is called. Each has an error in
	// Errors matching ErrExportParked.
	ExportParked int
	// ExportDeferred counts the changes not sent by this run because they
	// failed recently (see Options.ExportRetryBackoff).
	ExportDeferred int

	// Errors holds per-object errors (at most Options.MaxErrors; ErrorCount
	// counts all).
	Errors     []*ObjectError
	ErrorCount int

	// Warnings holds the notes of changes that were applied with a
	// difference the connected system chose, such as a duplicate
	// userPrincipalName quarantined (connector.ExportResult.Warnings), one
	// per note (at most Options.MaxErrors; WarningCount counts all).
	Warnings     []*ObjectError
	WarningCount int

	// track instruments the run while it runs (nil otherwise).
	track *tracker
}

func (r *RunResult) addError(max int, err *ObjectError) {
	if r.track != nil {
		r.track.objectError(err)
	}
	r.ErrorCount++
	if len(r.Errors) < max {
		r.Errors = append(r.Errors, err)
	}
}

func (r *RunResult) addWarning(max int, w *ObjectError) {
	r.WarningCount++
	if len(r.Warnings) < max {
		r.Warnings = append(r.Warnings, w)
	}
}

// Duration is the run's wall time.
func (r *RunResult) Duration() time.Duration { return r.Ended.Sub(r.Started) }

// String is a one-line summary of the non-zero counts.
func (r *RunResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s:", r.Connector, r.Profile)
	n := 0
	for _, c := range r.counts() {
		if c.n != 0 {
			fmt.Fprintf(&b, " %s=%d", c.name, c.n)
			n++
		}
	}
	if r.ErrorCount > 0 {
		fmt.Fprintf(&b, " errors=%d", r.ErrorCount)
		n++
	}
	if r.WarningCount > 0 {
		fmt.Fprintf(&b, " warnings=%d", r.WarningCount)
		n++
	}
	if n == 0 {
		b.WriteString(" no changes")
	}
	if r.DeletePassSkipped != "" {
		b.WriteString("; delete pass skipped: " + r.DeletePassSkipped)
	}
	return b.String()
}

type count struct {
	name string
	n    int
}

func (r *RunResult) counts() []count {
	return []count{
		{"adds", r.Adds}, {"updates", r.Updates}, {"renames", r.Renames}, {"deletes", r.Deletes},
		{"unchanged", r.Unchanged}, {"confirmed", r.Confirmed},
		{"projections", r.Projections}, {"joins", r.Joins}, {"disconnects", r.Disconnects},
		{"mvUpdates", r.MetaverseUpdates}, {"mvDeletes", r.MetaverseDeletes},
		{"provisions", r.Provisions}, {"exportUpdates", r.ExportUpdates}, {"deprovisions", r.Deprovisions},
		{"exported", r.Exported}, {"exportFailed", r.ExportFailed},
		{"exportParked", r.ExportParked}, {"exportDeferred", r.ExportDeferred},
	}
}

// record writes the run to the store's run history. Error texts come from
// connectors and rules, which never put secrets in errors.
func (e *Engine) record(ctx context.Context, r *RunResult, runErr error) {
	rec := &metaverse.RunRecord{Connector: r.Connector, Profile: string(r.Profile), Started: r.Started, Ended: r.Ended, Counts: map[string]int{}}
	for _, c := range r.counts() {
		if c.n != 0 {
			rec.Counts[c.name] = c.n
		}
	}
	if r.ErrorCount > 0 {
		rec.Counts["errors"] = r.ErrorCount
	}
	if r.Profile == FullImport || r.Profile == DeltaImport {
		rec.Counts["read"], rec.Counts["checkpointed"] = r.Read, r.Checkpointed
	}
	for _, oe := range r.Errors {
		rec.Errors = append(rec.Errors, oe.Error())
	}
	if r.DeletePassSkipped != "" {
		rec.Errors = append(rec.Errors, "delete pass skipped: "+r.DeletePassSkipped)
	}
	if runErr != nil {
		rec.Err = runErr.Error()
	}
	// The run history must not fail the run, nor be lost because the run's
	// context was cancelled.
	ctx = context.WithoutCancel(ctx)
	qc := e.observe(r, runErr)
	if err := e.store.Update(ctx, func(tx metaverse.Tx) error {
		if err := tx.AddRun(ctx, rec); err != nil {
			return err
		}
		if qc != nil {
			if err := writeQuarantine(ctx, tx, r.Connector, qc.q); err != nil {
				return err
			}
			if err := tx.AddRun(ctx, qc.record); err != nil {
				return err
			}
		}
		return e.prune(ctx, tx)
	}); err != nil {
		e.log.Warn("idbridge: recording run history", "connector", r.Connector, "profile", r.Profile, "err", err)
	}
	level := slog.LevelInfo
	if runErr != nil {
		level = slog.LevelWarn
	}
	if e.log.Enabled(ctx, level) {
		attrs := []slog.Attr{slog.String("connector", r.Connector), slog.String("profile", string(r.Profile)),
			slog.String("outcome", string(RunOutcome(r, runErr))), slog.Duration("duration", r.Duration())}
		for _, c := range r.counts() {
			if c.n != 0 {
				attrs = append(attrs, slog.Int(c.name, c.n))
			}
		}
		if r.ErrorCount > 0 {
			attrs = append(attrs, slog.Int("errors", r.ErrorCount))
		}
		if r.WarningCount > 0 {
			attrs = append(attrs, slog.Int("warnings", r.WarningCount))
		}
		if r.DeletePassSkipped != "" {
			attrs = append(attrs, slog.String("deletePassSkipped", r.DeletePassSkipped))
		}
		if runErr != nil {
			attrs = append(attrs, slog.Any("err", runErr))
		}
		e.log.LogAttrs(ctx, level, "idbridge: run", attrs...)
	}
	if qc != nil {
		if qc.q != nil {
			e.log.Warn("idbridge: connector in quarantine", "connector", r.Connector, "reason", qc.q.Reason, "step", qc.q.Step,
				"detail", qc.q.Detail, "until", qc.q.Until, "retries", qc.q.Retries)
		} else {
			e.log.Info("idbridge: connector left quarantine", "connector", r.Connector, "profile", r.Profile)
		}
	}
	if r.track != nil {
		r.track.end(runErr)
		r.track = nil
	}
}
