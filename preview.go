package idbridge

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// Preview is what syncing one object would do, computed without changing
// anything: Entra Connect's single-object sync, for explaining a result or
// trying a rule change (build a second Engine on the same store with the
// new rules and compare previews: a what-if). Explain says, per attribute,
// why.
type Preview struct {
	Object *metaverse.CSObject // the object after sync
	// Before and After are the metaverse entry the object is linked to
	// before and after sync (nil when there is none). After.Sources gives,
	// per attribute, the connector and rule whose flow won.
	Before, After *metaverse.Entry
	// Exports lists the pending exports the sync leaves on the entry's
	// objects in other connector spaces.
	Exports []PendingExport
	// Counts holds what the sync did (Projections, Joins, Provisions, …).
	Counts RunResult
	// Err is the object error the sync would record, nil when it succeeds.
	Err error
}

// errPreview rolls back a preview's transaction.
var errPreview = errors.New("preview")

// Preview syncs the object with the given anchor (its pending import, or a
// full re-evaluation when it has none) inside a transaction that is rolled
// back, and reports what would have changed.
func (e *Engine) Preview(ctx context.Context, connectorName string, anchor connector.Anchor) (*Preview, error) {
	if _, err := e.conn(connectorName); err != nil {
		return nil, err
	}
	var p *Preview
	err := e.dryRun(ctx, false, func(s *syncer, w *work) error {
		p = &Preview{}
		s.res = &p.Counts
		o, err := w.objectByAnchor(connectorName, anchor)
		if err != nil {
			return err
		}
		if o == nil {
			return fmt.Errorf("idbridge: preview: no object with anchor %q in %q: %w", anchor, connectorName, metaverse.ErrNotFound)
		}
		if o.EntryID != "" {
			before, err := w.tx.Entry(w.ctx, o.EntryID)
			if err != nil && !isNotFound(err) {
				return err
			}
			p.Before = before
		}
		if p.Err, err = s.syncObjectDry(w, o); err != nil {
			return err
		}
		p.Object = o
		if o.EntryID != "" {
			if p.After, err = w.peekEntry(o.EntryID); err != nil {
				return err
			}
			p.After = p.After.Clone()
		}
		// Pending exports on the objects this sync wrote.
		p.Exports, err = pendingExportsOf(w, e, func(t *metaverse.CSObject) bool { return t.Connector != connectorName })
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// dryRun runs fn in a store transaction that is always rolled back, with
// a syncer of the engine's current rules and a unit of work of that
// transaction: Preview's and Explain's way of computing what a sync would
// do without doing it; with explain, the syncer records how it decides
// attributes (syncer.explain). The store may run fn more than once (a
// retried transaction); fn must start afresh each time.
func (e *Engine) dryRun(ctx context.Context, explain bool, fn func(s *syncer, w *work) error) error {
	set, end, err := e.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	err = e.store.Update(ctx, func(tx metaverse.Tx) error {
		b := &batch{ctx: ctx, tx: tx}
		s := &syncer{e: e, rules: set, res: &RunResult{}}
		if explain {
			s.explain = newExplainRec(e, set)
		}
		if err := fn(s, b.work()); err != nil {
			return err
		}
		return errPreview
	})
	if errors.Is(err, errPreview) {
		return nil
	}
	return err
}

// syncObjectDry syncs o in a dry run: an object error (a rule failing on
// it) is returned as objErr, to report, and anything else as err.
func (s *syncer) syncObjectDry(w *work, o *metaverse.CSObject) (objErr, err error) {
	if err := s.syncObject(w, o); err != nil {
		if isFatal(err) {
			return nil, err
		}
		return err, nil
	}
	return nil, nil
}

// pendingExportsOf returns the pending exports of the objects written in
// the unit of work that keep selects, in connector and object ID order.
func pendingExportsOf(w *work, e *Engine, keep func(*metaverse.CSObject) bool) ([]PendingExport, error) {
	var out []PendingExport
	for t := range w.writtenObjects() {
		if t.Export == nil || !keep(t) {
			continue
		}
		pe, err := pendingExportOf(w, e.conns[t.Connector], t)
		if err != nil {
			return nil, err
		}
		out = append(out, pe)
	}
	slices.SortFunc(out, func(a, b PendingExport) int {
		if a.Connector != b.Connector {
			return compareStr(a.Connector, b.Connector)
		}
		return compareStr(a.ObjectID, b.ObjectID)
	})
	return out, nil
}

// pendingExportOf describes t's pending export (t.Export is set).
func pendingExportOf(w *work, c *conn, t *metaverse.CSObject) (PendingExport, error) {
	it, _, err := buildChange(w, c, t)
	if err != nil {
		return PendingExport{}, err
	}
	return PendingExport{Connector: t.Connector, ObjectID: t.ID, EntryID: t.EntryID, State: t.Export.State, Change: it.change}, nil
}

func compareStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
