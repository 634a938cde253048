package idbridge

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// Export applies a connector's pending exports to its connected system, in
// batches, and records each object's result: accepted changes await
// confirmation by a later import; refused ones are retried at a later
// export (see Options.ExportRetryBackoff) or, when the refusal is permanent,
// parked until the object changes or RetryExports is called.
//
// Before exporting anything it runs the mass-change guard (see
// Options.DeletionThreshold and Options.MassChange) and stops with a
// *MassChangeError when a limit is exceeded. In staging mode it exports
// nothing and returns ErrStagingMode; staging mode switched on while the
// export waits for another run, or during the export, stops it before its
// next batch.
//
// When the store is a metaverse.ExportLocker, the export holds the
// connector's export lock for the run, so that engines sharing the store
// never export the same change twice.
func (e *Engine) Export(ctx context.Context, connectorName string) (*RunResult, error) {
	c, err := e.conn(connectorName)
	if err != nil {
		return nil, err
	}
	if e.Staging() { // do not wait for the run lock only to refuse
		return nil, fmt.Errorf("idbridge: export to %q: %w", connectorName, ErrStagingMode)
	}
	_, end, err := e.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	res := &RunResult{Connector: connectorName, Profile: Export, Started: e.opts.Now()}
	res.track = e.startRun(res)
	err = e.exportLocked(ctx, c, res)
	res.Ended = e.opts.Now()
	e.record(ctx, res, err)
	if err != nil {
		return res, fmt.Errorf("idbridge: export to %q: %w", connectorName, err)
	}
	return res, nil
}

// exportLocked takes the connector's export lock when the store has one
// and exports. Pending exports are read only once the lock is held, so an
// export that waited for another engine's sees what that one recorded.
func (e *Engine) exportLocked(ctx context.Context, c *conn, res *RunResult) error {
	if err := e.mayExport(ctx, c); err != nil {
		return err
	}
	if l, ok := e.store.(metaverse.ExportLocker); ok {
		unlock, err := l.LockExport(ctx, c.name)
		if err != nil {
			return fmt.Errorf("export lock: %w", err)
		}
		defer unlock()
		// The wait may have been long.
		if err := e.mayExport(ctx, c); err != nil {
			return err
		}
	}
	return e.doExport(ctx, c, res)
}

// mayExport is checked before an export starts and before each of its
// batches: it says whether this engine may send changes to c now. Staging
// mode may be switched on at any time. It is the one place for any other
// such condition (an HA lease that must still be held).
func (e *Engine) mayExport(ctx context.Context, c *conn) error {
	if e.Staging() {
		return ErrStagingMode
	}
	return ctx.Err()
}

func (e *Engine) doExport(ctx context.Context, c *conn, res *RunResult) error {
	if err := e.checkMassChange(ctx, c, e.opts.Now()); err != nil {
		return err
	}
	size := e.opts.ExportBatchSize
	if b, ok := c.c.(connector.ExportBatcher); ok && b.ExportBatchSize() > 0 {
		size = b.ExportBatchSize()
	}
	// Pass 1 exports everything pending. Objects whose references named
	// objects not yet created (an add in the same run) are exported again
	// in pass 2, when those have anchors.
	again, err := e.exportPass(ctx, c, res, size, nil)
	if err != nil || len(again) == 0 {
		return err
	}
	_, err = e.exportPass(ctx, c, res, size, again)
	return err
}

// exportItem is one object's change in an export batch.
type exportItem struct {
	id         string
	change     connector.Change
	unresolved bool
}

// exportPass exports the pending exports of a connector (only the objects
// in only when it is not nil) and returns the IDs of objects to export
// again.
func (e *Engine) exportPass(ctx context.Context, c *conn, res *RunResult, size int, only []string) ([]string, error) {
	var again []string
	after := ""
	now := e.opts.Now()
	for {
		var items []exportItem
		var held RunResult // parked and deferred changes met
		err := e.store.View(ctx, func(tx metaverse.Tx) error {
			items, held = items[:0], RunResult{}
			b := &batch{ctx: ctx, tx: tx, refs: newRefCache()} // a read-only view: nothing it caches goes stale
			for len(items) < size {
				var page []*metaverse.CSObject
				if only != nil {
					for len(only) > 0 && len(page) < size {
						o, err := tx.Object(ctx, c.name, only[0])
						if err != nil && !isNotFound(err) {
							return err
						}
						if o != nil && o.Export != nil {
							page = append(page, o)
						}
						only = only[1:]
					}
				} else {
					var err error
					if page, err = tx.PendingExports(ctx, c.name, after, size); err != nil {
						return err
					}
				}
				if len(page) == 0 {
					return nil
				}
				after = page[len(page)-1].ID
				for _, o := range page {
					switch e.hold(o.Export, now) {
					case holdUnconfirmed:
						continue
					case holdDeferred:
						held.ExportDeferred++
						continue
					case holdParked:
						held.ExportParked++
						held.addError(e.opts.MaxErrors, parkedObjectError(c.name, o))
						continue
					}
					it, ok, err := buildChange(b.work(), c, o)
					if err != nil {
						return err
					}
					if ok {
						items = append(items, it)
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, fatal(err)
		}
		res.merge(e.opts.MaxErrors, &held)
		if len(items) == 0 {
			return again, nil
		}
		if err := e.mayExport(ctx, c); err != nil {
			return nil, err
		}
		more, err := e.exportBatch(ctx, c, res, items)
		if err != nil {
			return nil, err
		}
		again = append(again, more...)
	}
}

func isNotFound(err error) bool { return errors.Is(err, metaverse.ErrNotFound) }

// buildChange computes the change that brings an object from its imported
// state to what its pending export wants. ok is false when there is
// nothing to send.
func buildChange(w *work, c *conn, o *metaverse.CSObject) (exportItem, bool, error) {
	x := o.Export
	it := exportItem{id: o.ID}
	switch {
	case x.Kind == connector.Delete:
		it.change = connector.Change{Kind: connector.Delete, Anchor: o.Anchor, Type: o.Type, DN: o.DN}
		return it, true, nil
	case o.Anchor == "" && x.Kind == connector.Add:
		want, unresolved, err := resolveDesired(w, c.name, x.Attrs)
		if err != nil {
			return it, false, err
		}
		attrs := connector.Attributes{}
		for k, v := range want {
			if len(v) > 0 {
				attrs[k] = v
			}
		}
		it.change = connector.Change{Kind: connector.Add, Type: o.Type, DN: x.DN, Attrs: attrs}
		it.unresolved = unresolved
		return it, true, nil
	}
	want, unresolved, err := resolveDesired(w, c.name, x.Attrs)
	if err != nil {
		return it, false, err
	}
	ch := connector.Change{Kind: connector.Update, Anchor: o.Anchor, Type: o.Type, DN: o.DN}
	if x.DN != "" && connector.FoldDN(x.DN) != connector.FoldDN(o.DN) {
		ch.DN, ch.OldDN = x.DN, o.DN
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		have, vals := o.Attrs[name], want[name]
		if valuesMatch(have, vals) {
			continue
		}
		switch {
		case len(vals) == 0:
			ch.Mods = append(ch.Mods, connector.Mod{Name: name, Op: connector.ModRemove})
		case c.isMulti(o.Type, name) && len(have) > 0:
			var add, remove []connector.Value
			if vals[0].Type() == connector.Reference {
				add, remove = refDelta(have, vals)
			} else {
				d := connector.Diff(connector.Attributes{name: have}, connector.Attributes{name: vals}, []string{name}, func(string) bool { return true })
				for _, m := range d {
					if m.Op == connector.ModAdd {
						add = m.Values
					} else if m.Op == connector.ModRemove {
						remove = m.Values
					}
				}
			}
			if len(add) > 0 {
				ch.Mods = append(ch.Mods, connector.Mod{Name: name, Op: connector.ModAdd, Values: add})
			}
			if len(remove) > 0 {
				ch.Mods = append(ch.Mods, connector.Mod{Name: name, Op: connector.ModRemove, Values: remove})
			}
		default:
			ch.Mods = append(ch.Mods, connector.Mod{Name: name, Op: connector.ModReplace, Values: vals})
		}
	}
	it.change, it.unresolved = ch, unresolved
	return it, len(ch.Mods) > 0 || ch.OldDN != "", nil
}

// exportBatch sends one batch and records the results in one transaction.
func (e *Engine) exportBatch(ctx context.Context, c *conn, res *RunResult, items []exportItem) ([]string, error) {
	changes := make([]connector.Change, len(items))
	for i := range items {
		changes[i] = items[i].change
	}
	called := e.opts.Now()
	results, callErr := e.exportCall(ctx, c, changes)
	latency := e.opts.Now().Sub(called)
	e.metrics.exportCall(c.name, latency)
	if callErr == nil && len(results) != len(changes) {
		callErr = fmt.Errorf("connector %q returned %d export results for %d changes", c.name, len(results), len(changes))
	}
	if callErr != nil {
		if isFatal(callErr) {
			return nil, callErr
		}
		// The whole call failed: every change counts as not applied.
		results = make([]connector.ExportResult, len(changes))
		for i := range results {
			results[i].Err = callErr
		}
	}
	var again []string
	var counts RunResult
	var accepted []ExportEvent // for Hooks.ExportConfirmed
	now := e.opts.Now()
	err := e.store.Update(context.WithoutCancel(ctx), func(tx metaverse.Tx) error {
		again, counts, accepted = nil, RunResult{}, accepted[:0]
		for i, it := range items {
			o, err := tx.Object(ctx, c.name, it.id)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			r := results[i]
			if o.Export == nil {
				continue
			}
			var merged string
			if r.Err == nil && it.change.Kind == connector.Add && r.Anchor != "" {
				note, refusal, err := takeOver(ctx, tx, o, &it.change, r)
				if err != nil {
					return err
				}
				r.Err, merged = refusal, note
			}
			switch {
			case merged != "":
				counts.Exported++
				counts.addWarning(e.opts.MaxErrors, &ObjectError{Connector: c.name, ObjectID: o.ID, Anchor: o.Anchor, DN: o.DN, Step: "export add", Err: errors.New(merged)})
				if o.Export != nil {
					again = append(again, o.ID) // send what the target lacks in this run
				}
			case r.Err != nil:
				err := refused(o.Export, r.Err, now)
				counts.ExportFailed++
				if o.Export.State == metaverse.ExportParked {
					counts.ExportParked++
				}
				counts.addError(e.opts.MaxErrors, &ObjectError{Connector: c.name, ObjectID: o.ID, Anchor: o.Anchor, DN: cmpOr(it.change.DN, o.DN), Step: "export " + it.change.Kind.String(), Err: err})
			default:
				applyExported(o, &it.change, r)
				counts.Exported++
				if res.track.wantsExports() {
					accepted = append(accepted, ExportEvent{Connector: c.name, ObjectID: o.ID, DN: o.DN, Kind: it.change.Kind.String(), Latency: latency})
				}
				for _, w := range r.Warnings {
					counts.addWarning(e.opts.MaxErrors, &ObjectError{Connector: c.name, ObjectID: o.ID, Anchor: o.Anchor, DN: o.DN, Step: "export " + it.change.Kind.String(), Err: errors.New(w)})
				}
				if it.unresolved {
					o.Export.State = metaverse.ExportPending
					again = append(again, o.ID)
				}
			}
			if err := tx.PutObject(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fatal(err)
	}
	res.merge(e.opts.MaxErrors, &counts)
	res.track.exported(accepted)
	res.track.add(len(items))
	for _, w := range counts.Warnings {
		e.log.Warn("idbridge: export warning", "connector", c.name, "dn", w.DN, "warning", w.Err)
	}
	return again, nil
}

// merge adds the export counts, errors and warnings of part, a part of the
// same export run computed in a store transaction, to r.
func (r *RunResult) merge(max int, part *RunResult) {
	r.Exported += part.Exported
	r.ExportFailed += part.ExportFailed
	r.ExportParked += part.ExportParked
	r.ExportDeferred += part.ExportDeferred
	for _, oe := range part.Errors {
		r.addError(max, oe)
	}
	r.ErrorCount += part.ErrorCount - len(part.Errors)
	for _, w := range part.Warnings {
		r.addWarning(max, w)
	}
	r.WarningCount += part.WarningCount - len(part.Warnings)
}

// applyExported records an accepted change: the object holds the exported
// values until an import confirms them (or shows they did not stick, and
// the change is sent again).
func applyExported(o *metaverse.CSObject, ch *connector.Change, r connector.ExportResult) {
	x := o.Export
	x.State = metaverse.ExportUnconfirmed
	x.Attempts, x.LastError = 0, ""
	switch ch.Kind {
	case connector.Add:
		if r.Anchor != "" {
			o.Anchor = r.Anchor
		}
		o.DN = cmpOr(r.DN, ch.DN)
		o.Attrs = ch.Attrs.Clone()
		x.Kind = connector.Update
	case connector.Update:
		if o.Attrs == nil {
			o.Attrs = connector.Attributes{}
		}
		o.Attrs.Apply(ch.Mods)
		o.DN = cmpOr(r.DN, ch.DN)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
