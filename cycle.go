package idbridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// CycleMode says how much a cycle re-reads and re-evaluates.
type CycleMode uint8

// Cycle modes, as Entra Connect's Start-ADSyncSyncCycle -PolicyType.
const (
	// Delta: delta import (full where a connector cannot do delta), delta
	// sync, export. The usual scheduled cycle.
	Delta CycleMode = iota
	// Initial: full import, full sync, export. After rule changes or when
	// connector spaces may have drifted.
	Initial
)

func (m CycleMode) String() string {
	if m == Initial {
		return "Initial"
	}
	return "Delta"
}

// CycleResult holds the runs of one cycle, in order.
type CycleResult struct {
	Mode    CycleMode
	Started time.Time
	Ended   time.Time
	Runs    []*RunResult
	// Skipped lists the connectors in quarantine that the cycle did not
	// run (see Quarantine), with their state.
	Skipped []Quarantine
}

// Errors returns every object error of every run.
func (c *CycleResult) Errors() []*ObjectError {
	var out []*ObjectError
	for _, r := range c.Runs {
		out = append(out, r.Errors...)
	}
	return out
}

// Cycle runs a whole sync cycle: import every connector, sync every
// connector, then export each connector that has something to export.
// Each step takes the connectors in cycle order: Options.CycleOrder, then
// the connectors it does not list in name order (by default all in name
// order; see CycleOrder). The export step skips every connector in
// staging mode, and a connector whose pending exports are all unconfirmed
// (sent, waiting for an import to confirm them) or that has none: it has
// no Export run in the CycleResult. A connector whose import or export
// fails does not stop the others: the cycle goes on and returns the
// failures joined. A deletion threshold stop skips that connector's
// export only. When ctx ends, the cycle stops after the run in progress.
func (e *Engine) Cycle(ctx context.Context, mode CycleMode) (*CycleResult, error) {
	cr := &CycleResult{Mode: mode, Started: e.opts.Now()}
	var errs []error
	step := func(r *RunResult, err error) {
		if r != nil {
			cr.Runs = append(cr.Runs, r)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	names := e.cycleConnectors(cr)
	for _, name := range names {
		if mode == Initial {
			step(e.FullImport(ctx, name))
		} else {
			step(e.DeltaImport(ctx, name))
		}
		if err := ctx.Err(); err != nil {
			return cr, err
		}
	}
	for _, name := range names {
		if e.skipped(cr, name) {
			continue
		}
		if mode == Initial {
			step(e.FullSync(ctx, name))
		} else {
			step(e.DeltaSync(ctx, name))
		}
		if err := ctx.Err(); err != nil {
			return cr, err
		}
	}
	if !e.Staging() {
		for _, name := range names {
			if e.skipped(cr, name) {
				continue
			}
			pending, err := e.hasPendingExports(ctx, name)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if pending {
				step(e.Export(ctx, name))
			}
			if err := ctx.Err(); err != nil {
				return cr, err
			}
		}
	}
	cr.Ended = e.opts.Now()
	if len(errs) > 0 {
		return cr, fmt.Errorf("idbridge: %s cycle: %w", mode, errors.Join(errs...))
	}
	e.metrics.cycleSucceeded(cr.Ended)
	return cr, nil
}

// CycleOrder returns the order in which Cycle runs the connectors: each
// of its import, sync and export steps goes through them in this order.
func (e *Engine) CycleOrder() []string { return slices.Clone(e.order) }

// cycleOrder validates Options.CycleOrder against the connector names
// (sorted) and returns the full order: the listed names, then the others
// in name order.
func cycleOrder(want, names []string) ([]string, error) {
	order := make([]string, 0, len(names))
	seen := map[string]bool{}
	var errs []error
	for _, n := range want {
		switch {
		case !slices.Contains(names, n):
			errs = append(errs, fmt.Errorf("%w: CycleOrder names %q, which is not a connector (%w)", ErrInvalidOptions, n, ErrUnknownConnector))
		case seen[n]:
			errs = append(errs, fmt.Errorf("%w: CycleOrder names %q twice", ErrInvalidOptions, n))
		default:
			seen[n] = true
			order = append(order, n)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, n := range names {
		if !seen[n] {
			order = append(order, n)
		}
	}
	return order, nil
}

func (e *Engine) hasPendingExports(ctx context.Context, name string) (bool, error) {
	var found bool
	err := e.store.View(ctx, func(tx metaverse.Tx) error {
		after := ""
		for {
			page, err := tx.PendingExports(ctx, name, after, 100)
			if err != nil || len(page) == 0 {
				return err
			}
			for _, o := range page {
				if o.Export.State != metaverse.ExportUnconfirmed {
					found = true
					return nil
				}
			}
			after = page[len(page)-1].ID
		}
	})
	return found, err
}

// PendingExport is a change waiting in a connector space: what an export
// would send now, or what was sent and awaits confirmation by an import.
type PendingExport struct {
	Connector string
	ObjectID  string
	EntryID   string
	State     metaverse.ExportState
	Attempts  int
	LastError string
	// Change is what an export would send now (for an unconfirmed export,
	// what remains different from the imported object).
	Change connector.Change
}

// PendingExports lists a connector's pending exports, in object ID order:
// what staging mode holds back, or what the deletion threshold stopped.
// limit bounds the list (0: no limit).
func (e *Engine) PendingExports(ctx context.Context, connectorName string, limit int) ([]PendingExport, error) {
	c, err := e.conn(connectorName)
	if err != nil {
		return nil, err
	}
	var out []PendingExport
	err = e.store.View(ctx, func(tx metaverse.Tx) error {
		b := &batch{ctx: ctx, tx: tx}
		after := ""
		for {
			page, err := tx.PendingExports(ctx, connectorName, after, 500)
			if err != nil || len(page) == 0 {
				return err
			}
			after = page[len(page)-1].ID
			for _, o := range page {
				it, _, err := buildChange(b.work(), c, o)
				if err != nil {
					return err
				}
				out = append(out, PendingExport{Connector: connectorName, ObjectID: o.ID, EntryID: o.EntryID, State: o.Export.State, Attempts: o.Export.Attempts, LastError: o.Export.LastError, Change: it.change})
				if limit > 0 && len(out) >= limit {
					return nil
				}
			}
		}
	})
	return out, err
}
