package idbridge

import (
	"context"
	"errors"
	"fmt"
	"slices"

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
	if delta {
		res.Profile = DeltaImport // as asked; doImport says what it ran
	}
	res.track = e.startRun(res)
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
		if err == nil {
			err = s.settleRefs(ctx, nil, false)
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
		res.DeletePassSkipped = "the import failed: " + err.Error()
		if ferr := s.flush(context.WithoutCancel(ctx), nil, false); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	if err := s.flush(ctx, nil, false); err != nil {
		return err
	}
	if err := s.settleRefs(ctx, nil, false); err != nil {
		return err
	}
	return e.obsolete(ctx, c, gen, res)
}

func genCounter(connName string) string { return "idbridge.fullimport." + connName }

// obsolete ends a full import: unless something read could not be told
// apart (RunResult.DeletePassSkipped) or the shrink guard trips, it stages
// a delete for every object the import did not see; then it records the
// import's generation.
func (e *Engine) obsolete(ctx context.Context, c *conn, gen uint64, res *RunResult) error {
	var guard error // the shrink guard tripped: reported after the generation is recorded
	if res.DeletePassSkipped == "" {
		guard = e.deletePass(ctx, c, gen, res)
		if isFatal(guard) {
			return guard
		}
	}
	if res.DeletePassSkipped != "" {
		e.log.Warn("idbridge: full import staged no delete", "connector", c.name, "reason", res.DeletePassSkipped)
	}
	if err := e.store.Update(ctx, func(tx metaverse.Tx) error {
		return tx.SetCounter(ctx, genCounter(c.name), gen)
	}); err != nil {
		return fatal(err)
	}
	return guard
}

// deletePass stages a delete for every object of generation older than
// gen, after checking the shrink guard.
func (e *Engine) deletePass(ctx context.Context, c *conn, gen uint64, res *RunResult) error {
	stale := func(o *metaverse.CSObject) bool {
		return o.Seen < gen && o.Anchor != "" && o.Pending != metaverse.ImportDelete
	}
	size, n := 0, 0
	if err := e.scanObjects(ctx, c.name, func(page []*metaverse.CSObject) error {
		for _, o := range page {
			if o.Anchor != "" {
				size++
			}
			if stale(o) {
				n++
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if e.opts.shrinks(n, size, res.Read) {
		err := &ImportShrinkError{Connector: c.name, Deletes: n, Size: size, Read: res.Read}
		res.DeletePassSkipped = err.Error()
		return err
	}
	return e.scanObjects(ctx, c.name, func(page []*metaverse.CSObject) error {
		page = slices.DeleteFunc(page, func(o *metaverse.CSObject) bool { return !stale(o) })
		if len(page) == 0 {
			return nil
		}
		if err := e.store.Update(ctx, func(tx metaverse.Tx) error {
			for _, o := range page {
				if err := stageDelete(ctx, tx, o); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fatal(err)
		}
		res.Deletes += len(page)
		return nil
	})
}

// scanObjects calls fn with each page of a connector space, read in a
// transaction of its own.
func (e *Engine) scanObjects(ctx context.Context, connName string, fn func(page []*metaverse.CSObject) error) error {
	after := ""
	for {
		var page []*metaverse.CSObject
		if err := e.store.View(ctx, func(tx metaverse.Tx) error {
			var err error
			page, err = tx.Objects(ctx, connName, after, e.opts.BatchSize)
			return err
		}); err != nil {
			return fatal(err)
		}
		if len(page) == 0 {
			return nil
		}
		after = page[len(page)-1].ID
		if err := fn(page); err != nil {
			return err
		}
	}
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
