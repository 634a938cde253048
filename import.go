package idbridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// FullImport reads every object of a connector into its connector space.
// Objects the connector no longer reports are staged as deletes, objects
// that changed as updates; the next sync processes them. The watermark the
// connector returns is kept for the next DeltaImport.
func (e *Engine) FullImport(ctx context.Context, connectorName string) (*RunResult, error) {
	return e.runImport(ctx, connectorName, false)
}

// DeltaImport reads what changed in a connector since the last import. A
// connector without connector.DeltaImporter, one never imported before, or
// one whose watermark expired gets a full import instead.
func (e *Engine) DeltaImport(ctx context.Context, connectorName string) (*RunResult, error) {
	return e.runImport(ctx, connectorName, true)
}

func (e *Engine) runImport(ctx context.Context, name string, delta bool) (*RunResult, error) {
	c, err := e.conn(name)
	if err != nil {
		return nil, err
	}
	_, end, err := e.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	res := &RunResult{Connector: name, Profile: FullImport, Started: e.opts.Now()}
	err = e.doImport(ctx, c, delta, res)
	res.Ended = e.opts.Now()
	e.record(ctx, res, err)
	if err != nil {
		return res, fmt.Errorf("idbridge: %s of %q: %w", res.Profile, name, err)
	}
	return res, nil
}

func (e *Engine) doImport(ctx context.Context, c *conn, delta bool, res *RunResult) error {
	var wm []byte
	if err := e.store.View(ctx, func(tx metaverse.Tx) error {
		var err error
		wm, err = tx.Watermark(ctx, c.name)
		return err
	}); err != nil {
		return fatal(err)
	}
	if di, ok := c.c.(connector.DeltaImporter); ok && delta && wm != nil {
		res.Profile = DeltaImport
		s := e.newStager(c, res, 0)
		err := di.DeltaImport(ctx, wm, s)
		if err == nil {
			err = s.flush(ctx, nil, false)
		}
		if !errors.Is(err, connector.ErrWatermarkExpired) {
			return err
		}
		// Keep what was staged; the full import below covers the rest.
		e.log.Info("idbridge: delta watermark no longer usable, running a full import", "connector", c.name, "err", err)
	}
	res.Profile = FullImport
	var gen uint64
	if err := e.store.View(ctx, func(tx metaverse.Tx) error {
		var err error
		gen, err = tx.Counter(ctx, genCounter(c.name))
		return err
	}); err != nil {
		return fatal(err)
	}
	gen++
	s := e.newStager(c, res, gen)
	if err := c.c.Import(ctx, s); err != nil {
		if ferr := s.flush(context.WithoutCancel(ctx), nil, false); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	if err := s.flush(ctx, nil, false); err != nil {
		return err
	}
	return e.obsolete(ctx, c, gen, res)
}

func genCounter(connName string) string { return "idbridge.fullimport." + connName }

// obsolete stages a delete for every object a full import did not see,
// then records the import's generation.
func (e *Engine) obsolete(ctx context.Context, c *conn, gen uint64, res *RunResult) error {
	after := ""
	for {
		var page []*metaverse.CSObject
		if err := e.store.View(ctx, func(tx metaverse.Tx) error {
			var err error
			page, err = tx.Objects(ctx, c.name, after, e.opts.BatchSize)
			return err
		}); err != nil {
			return fatal(err)
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].ID
		var stale []*metaverse.CSObject
		for _, o := range page {
			if o.Seen < gen && o.Anchor != "" && o.Pending != metaverse.ImportDelete {
				stale = append(stale, o)
			}
		}
		if len(stale) == 0 {
			continue
		}
		if err := e.store.Update(ctx, func(tx metaverse.Tx) error {
			for _, o := range stale {
				if err := stageDelete(ctx, tx, o); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fatal(err)
		}
		res.Deletes += len(stale)
	}
	return fatal(e.store.Update(ctx, func(tx metaverse.Tx) error {
		return tx.SetCounter(ctx, genCounter(c.name), gen)
	}))
}

// stageDelete records that an object is gone from its connected system.
func stageDelete(ctx context.Context, tx metaverse.Tx, o *metaverse.CSObject) error {
	if o.EntryID == "" && o.Pending == metaverse.ImportAdd {
		// Never synced, linked to nothing: nothing to undo.
		return tx.DeleteObject(ctx, o.Connector, o.ID)
	}
	o.Pending = metaverse.ImportDelete
	return tx.PutObject(ctx, o)
}

// stager is the ImportSink of one import run. It buffers changes and
// stages them a batch per transaction, with the watermark of a checkpoint in
// the same transaction as the last objects it covers.
type stager struct {
	e   *Engine
	c   *conn
	res *RunResult
	gen uint64 // full import generation; 0 for a delta import
	buf []connector.Change
}

func (e *Engine) newStager(c *conn, res *RunResult, gen uint64) *stager {
	return &stager{e: e, c: c, res: res, gen: gen}
}

func (s *stager) Object(ctx context.Context, ch connector.Change) error {
	s.buf = append(s.buf, ch)
	if len(s.buf) >= s.e.opts.BatchSize {
		return s.flush(ctx, nil, false)
	}
	return nil
}

func (s *stager) Error(ctx context.Context, oe *connector.ObjectError) error {
	s.res.addError(s.e.opts.MaxErrors, &ObjectError{Connector: s.c.name, Anchor: oe.Anchor, DN: oe.DN, Step: "import", Err: oe})
	s.e.log.Debug("idbridge: import error", "connector", s.c.name, "err", oe)
	return nil
}

func (s *stager) Checkpoint(ctx context.Context, wm []byte) error {
	return s.flush(ctx, wm, true)
}

// flush stages the buffered changes, and the watermark when setWM.
func (s *stager) flush(ctx context.Context, wm []byte, setWM bool) error {
	if len(s.buf) == 0 && !setWM {
		return nil
	}
	var counts RunResult
	var errs []*ObjectError
	err := s.e.store.Update(ctx, func(tx metaverse.Tx) error {
		counts, errs = RunResult{}, nil
		b := &batch{ctx: ctx, tx: tx}
		for i := range s.buf {
			w := b.work()
			if err := s.stage(w, &s.buf[i], &counts); err != nil {
				if isFatal(err) {
					return err
				}
				var oe *ObjectError
				if !errors.As(err, &oe) {
					oe = &ObjectError{Connector: s.c.name, Anchor: s.buf[i].Anchor, DN: s.buf[i].DN, Step: "import", Err: err}
				}
				errs = append(errs, oe)
				continue
			}
			if err := w.commit(); err != nil {
				return err
			}
		}
		if err := b.finish(); err != nil {
			return err
		}
		if setWM {
			return fatal(tx.SetWatermark(ctx, s.c.name, wm))
		}
		return nil
	})
	if err != nil {
		return fatal(err)
	}
	s.buf = s.buf[:0]
	r := s.res
	r.Adds += counts.Adds
	r.Updates += counts.Updates
	r.Renames += counts.Renames
	r.Deletes += counts.Deletes
	r.Unchanged += counts.Unchanged
	r.Confirmed += counts.Confirmed
	for _, oe := range errs {
		r.addError(s.e.opts.MaxErrors, oe)
	}
	return nil
}

// stage applies one imported change to the connector space.
func (s *stager) stage(w *work, ch *connector.Change, n *RunResult) error {
	if ch.Anchor == "" {
		return fmt.Errorf("%s of %s has no anchor: %w", ch.Kind, ch.DN, connector.ErrInvalidObject)
	}
	o, err := w.objectByAnchor(s.c.name, ch.Anchor)
	if err != nil {
		return err
	}
	now := s.e.opts.Now()
	switch ch.Kind {
	case connector.Delete:
		if o == nil || o.Pending == metaverse.ImportDelete {
			return nil
		}
		n.Deletes++
		if o.EntryID == "" && o.Pending == metaverse.ImportAdd {
			w.deleteObject(o)
			return nil
		}
		o.Pending = metaverse.ImportDelete
		o.Imported = now
		w.putObject(o)
		return nil
	case connector.Add, connector.Update:
	default:
		return fmt.Errorf("unknown change kind %v: %w", ch.Kind, connector.ErrInvalidObject)
	}
	if ch.Type != "" {
		if _, ok := s.c.schema.Type(ch.Type); !ok {
			return fmt.Errorf("object type %q is not in the connector's schema: %w", ch.Type, connector.ErrInvalidObject)
		}
	}
	if o == nil && ch.DN != "" {
		// An object this engine provisioned and exported, whose export
		// result was not recorded (a crash between the two): adopt it by DN
		// rather than stage a duplicate.
		p, err := w.objectByDN(s.c.name, ch.DN)
		if err != nil {
			return err
		}
		if p != nil && p.Anchor == "" && p.Export != nil && p.Export.Kind == connector.Add {
			p.Anchor = ch.Anchor
			o = p
		}
	}
	isNew := o == nil
	if isNew {
		id, err := w.newID()
		if err != nil {
			return err
		}
		o = &metaverse.CSObject{ID: id, Connector: s.c.name, Anchor: ch.Anchor, Type: ch.Type, Attrs: connector.Attributes{}, Pending: metaverse.ImportAdd}
	}
	if o.Pending == metaverse.ImportDelete {
		// Deleted and back (a delete-add): process as an update.
		o.Pending = metaverse.ImportUpdate
	}
	old := o.Attrs
	var attrs connector.Attributes
	if ch.Kind == connector.Add {
		attrs = ch.Attrs.Clone()
	} else {
		attrs = old.Clone()
		if attrs == nil {
			attrs = connector.Attributes{}
		}
		attrs.Apply(ch.Mods)
	}
	if attrs == nil {
		attrs = connector.Attributes{}
	}
	if ch.Type != "" {
		o.Type = ch.Type
	}
	if err := s.resolveRefs(w, o.Type, attrs); err != nil {
		return err
	}
	renamed := ch.DN != "" && connector.FoldDN(ch.DN) != connector.FoldDN(o.DN)
	changed := !attrs.Equal(old)
	if ch.DN != "" {
		o.DN = ch.DN
	}
	o.Attrs = attrs
	if s.gen > 0 {
		o.Seen = s.gen
	}
	confirmed, err := s.confirmExport(w, o)
	if err != nil {
		return err
	}
	if confirmed {
		n.Confirmed++
	}
	switch {
	case isNew:
		n.Adds++
		o.Imported = now
	case changed || renamed:
		if changed {
			n.Updates++
		}
		if renamed {
			n.Renames++
		}
		if o.Pending == metaverse.ImportNone {
			o.Pending = metaverse.ImportUpdate
		}
		o.Imported = now
	default:
		n.Unchanged++
		if s.gen == 0 && !confirmed {
			return nil // a delta import reporting nothing new: no write
		}
	}
	w.putObject(o)
	return nil
}

// resolveRefs gives DN-only references the anchor of the object they name
// when that object is already in the connector space, so that they survive
// a rename of their target.
func (s *stager) resolveRefs(w *work, typ string, attrs connector.Attributes) error {
	refs := s.c.refs[typ]
	for name, vs := range attrs {
		if !refs[name] {
			continue
		}
		for i, v := range vs {
			a, dn := v.Ref()
			if a != "" || dn == "" {
				continue
			}
			t, err := w.objectByDN(s.c.name, dn)
			if err != nil {
				return err
			}
			if t != nil && t.Anchor != "" {
				vs[i] = connector.RefValue(t.Anchor, dn)
			}
		}
	}
	return nil
}

// confirmExport settles an exported change against what the import shows:
// when the object now has what the export wanted, the export is confirmed
// and cleared; when an exported change is not there, it is sent again.
func (s *stager) confirmExport(w *work, o *metaverse.CSObject) (bool, error) {
	x := o.Export
	if x == nil {
		return false, nil
	}
	if x.Kind == connector.Delete {
		// Still there: a delete that was exported did not happen.
		if x.State == metaverse.ExportUnconfirmed {
			x.State = metaverse.ExportPending
		}
		return false, nil
	}
	want, _, err := resolveDesired(w, s.c.name, x.Attrs)
	if err != nil {
		return false, err
	}
	matches := attrsMatch(o.Attrs, want) && (x.DN == "" || connector.FoldDN(x.DN) == connector.FoldDN(o.DN))
	switch {
	case matches:
		o.Export = nil
		return x.State == metaverse.ExportUnconfirmed, nil
	case x.State == metaverse.ExportUnconfirmed:
		x.State = metaverse.ExportPending
	}
	return false, nil
}
