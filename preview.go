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
// new rules and compare previews: a what-if).
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
	set, end, err := e.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	var p *Preview
	err = e.store.Update(ctx, func(tx metaverse.Tx) error {
		p = &Preview{}
		b := &batch{ctx: ctx, tx: tx}
		w := b.work()
		o, err := w.objectByAnchor(connectorName, anchor)
		if err != nil {
			return err
		}
		if o == nil {
			return fmt.Errorf("idbridge: preview: no object with anchor %q in %q: %w", anchor, connectorName, metaverse.ErrNotFound)
		}
		if o.EntryID != "" {
			before, err := tx.Entry(ctx, o.EntryID)
			if err != nil && !isNotFound(err) {
				return err
			}
			p.Before = before
		}
		s := &syncer{e: e, rules: set, res: &p.Counts}
		if err := s.syncObject(w, o); err != nil {
			if isFatal(err) {
				return err
			}
			p.Err = err
		}
		p.Object = o
		if o.EntryID != "" {
			if ent, ok := w.entries[o.EntryID]; ok {
				p.After = ent.Clone()
			} else if p.After, err = tx.Entry(ctx, o.EntryID); err != nil && !isNotFound(err) {
				return err
			}
		}
		// Pending exports on the objects this sync wrote.
		for t := range w.writtenObjects() {
			if t.Connector == connectorName || t.Export == nil {
				continue
			}
			c := e.conns[t.Connector]
			it, _, err := buildChange(w, c, t)
			if err != nil {
				return err
			}
			p.Exports = append(p.Exports, PendingExport{Connector: t.Connector, ObjectID: t.ID, EntryID: t.EntryID, State: t.Export.State, Change: it.change})
		}
		slices.SortFunc(p.Exports, func(a, b PendingExport) int {
			if a.Connector != b.Connector {
				return compareStr(a.Connector, b.Connector)
			}
			return compareStr(a.ObjectID, b.ObjectID)
		})
		return errPreview
	})
	if errors.Is(err, errPreview) {
		return p, nil
	}
	return nil, err
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
