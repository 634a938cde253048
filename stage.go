package idbridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// stager is the ImportSink of one import run. It buffers changes and
// stages them a batch per transaction, with the watermark of a checkpoint in
// the same transaction as the last objects it covers.
type stager struct {
	e   *Engine
	c   *conn
	res *RunResult
	gen uint64 // full import generation; 0 for a delta import
	buf []connector.Change
	// failed holds the objects the connector could not read
	// (ImportSink.Error) since the last flush, which marks them seen.
	failed []*ObjectError
	// adds finds the pending adds that an imported object may be the
	// result of (connector.AddMatcher); nil until first needed.
	adds *addIndex
	// dnRefs holds, by object ID, what the pass has to settle at its end
	// (see settleRefs): the objects staged with references by DN alone.
	// staged is the same for the transaction being attempted, merged
	// into dnRefs when it commits, and one for the object being staged,
	// merged into staged when its unit of work commits.
	dnRefs map[string]*dnRefs
	staged map[string]*dnRefs
	one    *dnRefs
	oneID  string
	// unsettled: objects were staged since dnRefs was last settled.
	unsettled bool
}

func (e *Engine) newStager(c *conn, res *RunResult, gen uint64) *stager {
	return &stager{e: e, c: c, res: res, gen: gen, dnRefs: map[string]*dnRefs{}, staged: map[string]*dnRefs{}}
}

func (s *stager) Object(ctx context.Context, ch connector.Change) error {
	s.res.Read++
	s.buf = append(s.buf, ch)
	if len(s.buf) >= s.e.opts.BatchSize {
		return s.flush(ctx, nil, false)
	}
	return nil
}

// Error records an object the connector could not read. The object, when
// the connector space holds it, is kept as it was and marked seen, so that
// a full import does not take it for deleted; see keep.
func (s *stager) Error(ctx context.Context, oe *connector.ObjectError) error {
	s.res.Read++
	ie := &ObjectError{Connector: s.c.name, Anchor: oe.Anchor, DN: oe.DN, Step: "import", Err: oe}
	s.res.addError(s.e.opts.MaxErrors, ie)
	s.failed = append(s.failed, ie)
	if len(s.failed) >= s.e.opts.BatchSize {
		return s.flush(ctx, nil, false)
	}
	return nil
}

func (s *stager) Checkpoint(ctx context.Context, wm []byte) error {
	return s.flush(ctx, wm, true)
}

// flush stages the buffered changes and failures, and the watermark when
// setWM.
func (s *stager) flush(ctx context.Context, wm []byte, setWM bool) error {
	if len(s.buf) == 0 && len(s.failed) == 0 && !setWM {
		return nil
	}
	var counts RunResult
	var errs []*ObjectError
	var skip string
	held := false // the watermark is written by settleRefs
	err := s.e.store.Update(ctx, func(tx metaverse.Tx) error {
		counts, errs, skip, held = RunResult{}, nil, "", false
		clear(s.staged)
		b := &batch{ctx: ctx, tx: tx}
		for i := range s.buf {
			ch := &s.buf[i]
			err := s.stageOne(b.work(), ch, &counts)
			if err == nil {
				continue
			}
			if isFatal(err) {
				return err
			}
			var oe *ObjectError
			if !errors.As(err, &oe) {
				oe = &ObjectError{Connector: s.c.name, Anchor: ch.Anchor, DN: ch.DN, Step: "import", Err: err}
			}
			errs = append(errs, oe)
			why, err := s.keep(b.work(), ch.Anchor, ch.DN, oe)
			if err != nil {
				return err
			}
			skip = cmpOr(skip, why)
		}
		for _, oe := range s.failed {
			why, err := s.keep(b.work(), oe.Anchor, oe.DN, oe)
			if err != nil {
				return err
			}
			skip = cmpOr(skip, why)
		}
		if err := b.finish(); err != nil {
			return err
		}
		held = setWM && (len(s.dnRefs) > 0 || len(s.staged) > 0)
		if setWM && !held {
			return fatal(tx.SetWatermark(ctx, s.c.name, wm))
		}
		return nil
	})
	if err != nil {
		return fatal(err)
	}
	s.res.track.add(len(s.buf) + len(s.failed))
	s.buf, s.failed = s.buf[:0], s.failed[:0]
	mergeRefs(s.dnRefs, s.staged)
	clear(s.staged)
	s.unsettled = s.unsettled || len(s.dnRefs) > 0
	r := s.res
	r.addImportCounts(&counts)
	for _, oe := range errs {
		r.addError(s.e.opts.MaxErrors, oe)
	}
	if skip != "" && s.gen > 0 && r.DeletePassSkipped == "" {
		r.DeletePassSkipped = skip // obsolete logs it
	}
	if held {
		return s.settleRefs(ctx, wm, true)
	}
	if setWM {
		r.Checkpointed = r.Read
	}
	return nil
}

// stageOne stages one change in its own unit of work, committed only when
// the change stages without error.
func (s *stager) stageOne(w *work, ch *connector.Change, n *RunResult) error {
	var one RunResult
	s.one = nil
	if err := s.stage(w, ch, &one); err != nil {
		return err
	}
	if err := w.commit(); err != nil {
		return err
	}
	n.addImportCounts(&one)
	if s.one != nil {
		mergeRefs(s.staged, map[string]*dnRefs{s.oneID: s.one})
	}
	return nil
}

// addImportCounts adds the import counts of o to r.
func (r *RunResult) addImportCounts(o *RunResult) {
	r.Adds += o.Adds
	r.Updates += o.Updates
	r.Renames += o.Renames
	r.Deletes += o.Deletes
	r.Unchanged += o.Unchanged
	r.Confirmed += o.Confirmed
}

// keep handles an object that could not be read or staged: the object of
// the connector space it names (by anchor, else by DN) is kept as it was,
// marked seen by a full import and given the error. A failure to read
// never becomes a delete.
//
// keep returns why the full import's delete pass must not run ("" when it
// may): the error wraps connector.ErrReferral (objects behind the referral
// were not read), or it names no anchor and no DN of the connector space,
// so that the object it is about, if held, cannot be told from the others
// (an error with an anchor the connector space does not hold is about a
// new object: anchors never change, so no held object is at risk).
func (s *stager) keep(w *work, a connector.Anchor, dn string, cause *ObjectError) (string, error) {
	var o *metaverse.CSObject
	var err error
	if a != "" {
		if o, err = w.objectByAnchor(s.c.name, a); err != nil {
			return "", err
		}
	}
	if o == nil && dn != "" {
		if o, err = w.objectByDN(s.c.name, dn); err != nil {
			return "", err
		}
		if o != nil && o.Anchor == "" {
			o = nil // provisioned, never exported: not what the connector read
		}
	}
	why := ""
	switch {
	case errors.Is(cause, connector.ErrReferral):
		why = fmt.Sprintf("a continuation reference was not followed (%v)", cause)
	case o == nil && a == "":
		why = fmt.Sprintf("an object that could not be read is not in the connector space under that name (%v)", cause)
	}
	if o == nil {
		return why, nil
	}
	if s.gen > 0 {
		o.Seen = s.gen
	}
	o.Error = cause.Error()
	w.putObject(o)
	return why, w.commit()
}

// importErrorPrefix starts the Error of an object whose last import failed
// (an *ObjectError of step "import"), which the next import that reads the
// object clears.
func (s *stager) importErrorPrefix() string { return "idbridge: " + s.c.name + ": import" }

// stage applies one imported change to the connector space.
func (s *stager) stage(w *work, ch *connector.Change, n *RunResult) error {
	if err := s.check(ch); err != nil {
		return err
	}
	o, err := s.find(w, ch)
	if err != nil {
		return err
	}
	if ch.Kind == connector.Delete {
		if o != nil && s.noted(o.ID) {
			s.noteRefs(o.ID).reset = true
		}
		s.stageDelete(w, o, n)
		return nil
	}
	isNew := o == nil
	adopted := !isNew && o.Anchor == ""
	if adopted {
		o.Anchor = ch.Anchor
	}
	if isNew {
		if o, err = s.newObject(w, ch); err != nil {
			return err
		}
	}
	if o.Pending == metaverse.ImportDelete {
		// Deleted and back (a delete-add): process as an update.
		o.Pending = metaverse.ImportUpdate
	}
	old, oldDN := o.Attrs, o.DN
	if ch.Kind == connector.Update {
		// Values added or removed by DN (DirSync's incremental member
		// values) take the anchor of the object they name, so that they
		// match the stored values, held by anchor, whatever DN those were
		// read with.
		if err := s.resolveModRefs(w, o.ID, cmpOr(ch.Type, o.Type), ch.Mods); err != nil {
			return err
		}
	} else if s.noted(o.ID) {
		s.noteRefs(o.ID).reset = true // read whole: earlier removals are void
	}
	attrs := imported(o, ch)
	if ch.Type != "" {
		o.Type = ch.Type
	}
	dnOnly, err := s.resolveRefs(w, o.Type, attrs)
	if err != nil {
		return err
	}
	if dnOnly > 0 {
		s.noteRefs(o.ID) // anchored at the end of the pass, if possible
	}
	renamed := !isNew && ch.DN != "" && connector.FoldDN(ch.DN) != connector.FoldDN(oldDN)
	// References are compared by anchor when both have one: a reference
	// read with a newer DN than the stored one names the same object (the
	// newer DN is written, but is no update).
	exact := attrs.Equal(old)
	changed := !exact && !sameImported(attrs, old)
	if ch.DN != "" {
		o.DN = ch.DN
	}
	o.Attrs = attrs
	if s.gen > 0 {
		o.Seen = s.gen
	}
	hadError := strings.HasPrefix(o.Error, s.importErrorPrefix())
	if hadError {
		o.Error = ""
	}
	confirmed, err := s.confirmExport(w, o)
	if err != nil {
		return err
	}
	if confirmed || (adopted && o.Export == nil) {
		n.Confirmed++ // an adopted add that the import shows complete is confirmed too
	}
	counted := s.count(o, isNew, changed, renamed, n)
	if s.one != nil {
		s.one.counted = s.one.counted || isNew || changed
	}
	if !counted && s.gen == 0 && !confirmed && !hadError && exact {
		return nil // a delta import reporting nothing new: no write
	}
	w.putObject(o)
	if renamed {
		return s.cascade(w, o, oldDN, n)
	}
	return nil
}

// check refuses a change the engine cannot stage.
func (s *stager) check(ch *connector.Change) error {
	if ch.Anchor == "" {
		return fmt.Errorf("%s of %s has no anchor: %w", ch.Kind, ch.DN, connector.ErrInvalidObject)
	}
	switch ch.Kind {
	case connector.Delete:
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
	return nil
}

// find returns the connector-space object a change is about: the one with
// its anchor, else (not for a delete) a provisioned object whose add this
// import shows was applied although its result was not recorded (a crash
// between the two, a lost response), found by DN or by the connector's
// identifying attributes (connector.AddMatcher): it has no anchor yet, and
// stage gives it the imported one. nil when there is none.
func (s *stager) find(w *work, ch *connector.Change) (*metaverse.CSObject, error) {
	o, err := w.objectByAnchor(s.c.name, ch.Anchor)
	if o != nil || err != nil || ch.Kind == connector.Delete {
		return o, err
	}
	if ch.DN != "" {
		p, err := w.objectByDN(s.c.name, ch.DN)
		if err != nil {
			return nil, err
		}
		if pendingAdd(p) {
			return p, nil
		}
	}
	return s.adoptByMatch(w, ch)
}

// stageDelete stages a delete reported by the connector.
func (s *stager) stageDelete(w *work, o *metaverse.CSObject, n *RunResult) {
	if o == nil || o.Pending == metaverse.ImportDelete {
		return
	}
	n.Deletes++
	if o.EntryID == "" && o.Pending == metaverse.ImportAdd {
		w.deleteObject(o)
		return
	}
	o.Pending = metaverse.ImportDelete
	o.Imported = s.e.opts.Now()
	w.putObject(o)
}

func (s *stager) newObject(w *work, ch *connector.Change) (*metaverse.CSObject, error) {
	id, err := w.newID()
	if err != nil {
		return nil, err
	}
	return &metaverse.CSObject{ID: id, Connector: s.c.name, Anchor: ch.Anchor, Type: ch.Type, Attrs: connector.Attributes{}, Pending: metaverse.ImportAdd}, nil
}

// imported returns o's attributes after ch: an Add's as reported, an
// Update's applied to what o had.
func imported(o *metaverse.CSObject, ch *connector.Change) connector.Attributes {
	var attrs connector.Attributes
	if ch.Kind == connector.Add {
		attrs = ch.Attrs.Clone()
	} else {
		attrs = o.Attrs.Clone()
		if attrs == nil {
			attrs = connector.Attributes{}
		}
		attrs.Apply(ch.Mods)
	}
	if attrs == nil {
		attrs = connector.Attributes{}
	}
	return attrs
}

// count counts a staged change and makes o pending when it changed. It
// reports whether o must be written.
func (s *stager) count(o *metaverse.CSObject, isNew, changed, renamed bool, n *RunResult) bool {
	now := s.e.opts.Now()
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
		return false
	}
	return true
}

// resolveModRefs is resolveRefs for the values of modifications of
// object id. What the end of the pass must settle is noted: removals by
// DN that name no object yet (their target may be renamed later in the
// pass), and, for an object with removals noted before, the values added
// and the attributes replaced, which void them.
func (s *stager) resolveModRefs(w *work, id, typ string, mods []connector.Mod) error {
	earlier := s.noted(id)
	for _, m := range mods {
		if !s.c.refs[typ][m.Name] {
			continue
		}
		if len(m.Values) == 0 || m.Op == connector.ModReplace {
			if earlier {
				d := s.noteRefs(id)
				d.replaced = append(d.replaced, m.Name)
			}
			if len(m.Values) == 0 {
				continue
			}
		}
		dnOnly, err := s.resolveRefs(w, typ, connector.Attributes{m.Name: m.Values})
		if err != nil {
			return err
		}
		switch {
		case m.Op == connector.ModRemove && dnOnly > 0:
			var vs []connector.Value
			for _, v := range m.Values {
				if a, dn := v.Ref(); a == "" && dn != "" {
					vs = append(vs, v)
				}
			}
			d := s.noteRefs(id)
			d.removals = append(d.removals, connector.Mod{Name: m.Name, Op: connector.ModRemove, Values: vs})
		case m.Op == connector.ModAdd && earlier:
			d := s.noteRefs(id)
			d.adds = append(d.adds, connector.Mod{Name: m.Name, Op: connector.ModAdd, Values: slices.Clone(m.Values)})
		}
	}
	return nil
}

// resolveRefs gives DN-only references the anchor of the object they name
// when that object is already in the connector space, so that they survive
// a rename of their target. It returns the number of values left DN-only.
func (s *stager) resolveRefs(w *work, typ string, attrs connector.Attributes) (int, error) {
	refs := s.c.refs[typ]
	left := 0
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
				return 0, err
			}
			if t != nil && t.Anchor != "" {
				vs[i] = connector.RefValue(t.Anchor, dn)
			} else {
				left++
			}
		}
	}
	return left, nil
}

// sameImported reports whether two sets of imported attributes have the
// same values, references compared by Key: by anchor when they have one
// (whatever DN they carry), else by DN. (Not as valuesMatch, which takes
// two references with different anchors and one DN for one: an object
// deleted and another created under its DN are two references.)
func sameImported(a, b connector.Attributes) bool {
	for name, vs := range a {
		if !sameKeys(vs, b[name]) {
			return false
		}
	}
	for name, vs := range b {
		if _, ok := a[name]; !ok && len(vs) > 0 {
			return false
		}
	}
	return true
}

// sameKeys compares value sets by Value.Key and type.
func sameKeys(a, b []connector.Value) bool {
	if len(a) != len(b) {
		return false
	}
	type key struct {
		t connector.AttrType
		k string
	}
	n := make(map[key]int, len(a))
	for _, v := range a {
		n[key{v.Type(), v.Key()}]++
	}
	for _, v := range b {
		k := key{v.Type(), v.Key()}
		if n[k] == 0 {
			return false
		}
		n[k]--
	}
	return true
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
