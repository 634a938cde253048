package admin

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/idbridge/idbridge"
)

// connectorRow is a connector on the dashboard.
type connectorRow struct {
	Name       string
	LastRun    *runRow
	Pending    int
	PendingMax bool // Pending stopped counting at the page size
	Quarantine *idbridge.Quarantine
}

type dashboardData struct {
	Running     []idbridge.Progress // runs in progress (Options.Live)
	Connectors  []connectorRow
	Quarantines []idbridge.Quarantine
	Clear       bool // whether to offer the clear-quarantine action
	Runs        []runRow
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := dashboardData{Quarantines: h.src.Quarantines(), Running: h.opts.Live.running()}
	_, d.Clear = h.src.(QuarantineClearer)
	for _, name := range h.src.Connectors() {
		row := connectorRow{Name: name}
		page, err := h.src.History(ctx, idbridge.HistoryQuery{Connector: name, Limit: 1})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if rows := runRows(page.Runs); len(rows) > 0 {
			row.LastRun = &rows[0]
		}
		pend, err := h.src.PendingExports(ctx, name, h.opts.PageSize+1)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		row.Pending, row.PendingMax = min(len(pend), h.opts.PageSize), len(pend) > h.opts.PageSize
		for i := range d.Quarantines {
			if d.Quarantines[i].Connector == name {
				row.Quarantine = &d.Quarantines[i]
			}
		}
		d.Connectors = append(d.Connectors, row)
	}
	page, err := h.src.History(ctx, idbridge.HistoryQuery{Limit: 10})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Runs = runRows(page.Runs)
	h.render(w, r, http.StatusOK, "dashboard", d)
}

// runRow is a run in a table.
type runRow struct {
	idbridge.RunRecord
	Counts     string   // "adds=3 updates=1", by name
	Failed     bool     // stopped, or completed with object errors
	FirstError []string // the first few object errors
	MoreErrors int      // how many more the run has (its "errors" count)
}

// shownErrors is how many object errors of a run a table shows.
const shownErrors = 3

func runRows(runs []idbridge.RunRecord) []runRow {
	out := make([]runRow, 0, len(runs))
	for _, r := range runs {
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(r.Counts)) {
			if r.Counts[k] == 0 {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s=%d", k, r.Counts[k])
		}
		failed := r.Outcome == idbridge.OutcomeFailed || r.Outcome == idbridge.OutcomeErrors || r.Profile == idbridge.ProfileQuarantine
		row := runRow{RunRecord: r, Counts: b.String(), Failed: failed}
		row.FirstError = r.Errors[:min(len(r.Errors), shownErrors)]
		row.MoreErrors = max(len(r.Errors), r.Counts["errors"]) - len(row.FirstError)
		out = append(out, row)
	}
	return out
}

type runsData struct {
	Connectors []string
	Query      idbridge.HistoryQuery
	Outcomes   []idbridge.Outcome
	Runs       []runRow
	Chart      *chart
	Next       string // the query of the next (older) page; "" on the last
}

// runs is the run history, newest first, a page at a time, with a chart
// of the page's runs.
func (h *Handler) runs(w http.ResponseWriter, r *http.Request) {
	q := idbridge.HistoryQuery{Connector: r.FormValue("connector"), Profile: idbridge.Profile(r.FormValue("profile")),
		Outcome: idbridge.Outcome(r.FormValue("outcome")), Cursor: r.FormValue("cursor"), Limit: h.opts.PageSize}
	if q.Connector != "" && !slices.Contains(h.src.Connectors(), q.Connector) {
		h.fail(w, r, notFound("no connector %q", q.Connector))
		return
	}
	page, err := h.src.History(r.Context(), q)
	if errors.Is(err, idbridge.ErrBadCursor) {
		h.fail(w, r, badRequest("that page of the history is gone; start again from the newest runs"))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := runsData{Connectors: h.src.Connectors(), Query: q, Runs: runRows(page.Runs), Chart: newChart(page.Runs),
		Outcomes: []idbridge.Outcome{idbridge.OutcomeSuccess, idbridge.OutcomeErrors, idbridge.OutcomeFailed, idbridge.OutcomeCancelled}}
	if page.Next != "" {
		d.Next = "runs?" + queryString("connector", q.Connector, "profile", string(q.Profile), "outcome", string(q.Outcome), "cursor", page.Next)
	}
	h.render(w, r, http.StatusOK, "runs", d)
}

type errorsData struct {
	Connectors []string
	Connector  string
	Errors     []idbridge.CurrentError
	Next       string // the query of the next page; "" on the last
}

// objectErrors lists the objects in error now: import and sync errors, and
// exports the connected system refused (failed or parked).
func (h *Handler) objectErrors(w http.ResponseWriter, r *http.Request) {
	q := idbridge.ErrorQuery{Connector: r.FormValue("connector"), Cursor: r.FormValue("cursor"), Limit: h.opts.PageSize}
	if q.Connector != "" && !slices.Contains(h.src.Connectors(), q.Connector) {
		h.fail(w, r, notFound("no connector %q", q.Connector))
		return
	}
	page, err := h.src.ObjectErrors(r.Context(), q)
	if errors.Is(err, idbridge.ErrBadCursor) {
		h.fail(w, r, badRequest("that page of errors is gone; start again from the first"))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := errorsData{Connectors: h.src.Connectors(), Connector: q.Connector, Errors: page.Errors}
	if page.Next != "" {
		d.Next = "errors?" + queryString("connector", q.Connector, "cursor", page.Next)
	}
	h.render(w, r, http.StatusOK, "errors", d)
}

// queryString encodes name, value pairs, leaving out empty values.
func queryString(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v.Encode()
}
