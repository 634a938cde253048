package idbridge

import (
	"context"
	"maps"
	"slices"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// References by DN alone.
//
// A directory names a reference's target by DN (an LDAP member or
// manager). The stager gives such a value the anchor of the object with
// that DN when the connector space holds it (stager.resolveRefs), so that
// the value keeps naming its target when the target's DN changes (a
// rename, an OU rename cascaded to the objects under it), and so that
// changes of the value by DN match it whatever DN it was read with.
//
// A value whose target the import has not read yet — Active Directory
// returns groups and users interleaved, so a group often comes before its
// members — stays DN-only when staged. Left so, it goes stale when its
// target is renamed: a sync would drop the member, and a removal by the
// new DN would not find it. So the stager remembers the objects it staged
// with DN-only values, and at each checkpoint and at the end of the
// import pass (settleRefs), when what was read is staged and its renames
// cascaded, gives those values their anchors. It does the same for a removal by DN (DirSync's
// incremental member values) that named no object when staged because the
// rename that gives its DN came later in the pass: the removal is applied
// then, by the anchor of the object that now has that DN.
//
// Only what the pass staged is settled, read back by ID in batches, each
// value looked up through the store's DN index: the cost is that of
// staging the values again, not of a scan. A value whose target is not in
// the connector space at all (outside the connector's containers) stays
// DN-only, matched by DN.
//
// Once anchored, a reference is the same reference whatever DN it carries:
// the engine compares references by anchor when both have one
// (valuesMatch, connector.SameReference, sameImported). An import that
// reads a reference with a newer DN than the stored one counts no update
// for it; a full import writes the newer DN.

// dnRefs is what an import pass has to settle for one object: its
// DN-only reference values (always, the object being listed) and its
// removals by DN that named no object when staged.
type dnRefs struct {
	// reset: the object was read whole (an Add) or deleted after the
	// removals recorded before; they are void.
	reset bool
	// removals are ModRemoves whose values are DN-only and named no
	// object when staged.
	removals []connector.Mod
	// adds and replaced are the values added by DN and the attributes
	// replaced by a later change: they void earlier removals of the same
	// values.
	adds     []connector.Mod
	replaced []string
	// counted: the pass counted the object as added or updated.
	counted bool
}

// then merges next, recorded after d, into d.
func (d *dnRefs) then(next *dnRefs) {
	if next.reset {
		*d = *next
		return
	}
	for i := range d.removals {
		m := &d.removals[i]
		if slices.Contains(next.replaced, m.Name) {
			m.Values = nil
			continue
		}
		m.Values = slices.DeleteFunc(slices.Clone(m.Values), func(v connector.Value) bool {
			return slices.ContainsFunc(next.adds, func(a connector.Mod) bool {
				return a.Name == m.Name && slices.ContainsFunc(a.Values, func(w connector.Value) bool { return connector.SameReference(v, w) })
			})
		})
	}
	d.removals = slices.DeleteFunc(d.removals, func(m connector.Mod) bool { return len(m.Values) == 0 })
	d.removals = append(d.removals, next.removals...)
	d.adds = append(d.adds, next.adds...)
	d.replaced = append(d.replaced, next.replaced...)
	d.counted = d.counted || next.counted
}

// noteRefs returns the record of what the object being staged, id, leaves
// to settle, made on first use.
func (s *stager) noteRefs(id string) *dnRefs {
	if s.one == nil {
		s.one, s.oneID = &dnRefs{}, id
	}
	return s.one
}

// noted reports whether the pass has noted object id before.
func (s *stager) noted(id string) bool {
	return s.dnRefs[id] != nil || s.staged[id] != nil || s.one != nil && s.oneID == id
}

// mergeRefs merges the records of src, made after those of dst, into dst.
func mergeRefs(dst, src map[string]*dnRefs) {
	for id, d := range src {
		if cur := dst[id]; cur != nil {
			cur.then(d)
		} else {
			dst[id] = d
		}
	}
}

// settleBudget bounds the reference values settled per transaction: a
// batch of large groups would otherwise hold millions of values in one.
const settleBudget = 50_000

// settleRefs settles the objects noted so far (see dnRefs), in
// transactions of at most BatchSize objects and about settleBudget values,
// and, when setWM, writes the watermark wm with the last of them: a
// checkpoint covers the settling of what it covers, so that a removal by
// DN left to apply is not lost to a crash after the watermark moved on.
// An object whose references are all anchored and removals all applied is
// forgotten; the others stay noted for the next checkpoint and the end of
// the pass, after which what is left DN-only names no object of the
// connector space and is matched by DN.
func (s *stager) settleRefs(ctx context.Context, wm []byte, setWM bool) error {
	if (len(s.dnRefs) == 0 || !s.unsettled) && !setWM {
		return nil
	}
	var ids []string
	if s.unsettled {
		// Else nothing was staged since the last settling: what is still
		// noted names no object that was not there then.
		ids = slices.Sorted(maps.Keys(s.dnRefs))
	}
	for start := 0; start < len(ids) || start == 0 && setWM; {
		next := start
		var updated []string                // counted updated now
		var left map[string][]connector.Mod // still to settle, by ID
		err := s.e.store.Update(ctx, func(tx metaverse.Tx) error {
			next, updated, left = start, nil, map[string][]connector.Mod{}
			b := &batch{ctx: ctx, tx: tx}
			values := 0
			for next < len(ids) && next-start < s.e.opts.BatchSize && values < settleBudget {
				id := ids[next]
				next++
				r, err := s.settle(b.work(), id, s.dnRefs[id])
				if err != nil {
					return err
				}
				values += r.values
				if r.updated {
					updated = append(updated, id)
				}
				if r.dnOnly > 0 || len(r.removals) > 0 {
					left[id] = r.removals
				}
			}
			if err := b.finish(); err != nil {
				return err
			}
			if setWM && next == len(ids) {
				return fatal(tx.SetWatermark(ctx, s.c.name, wm))
			}
			return nil
		})
		if err != nil {
			return fatal(err)
		}
		for _, id := range updated {
			s.dnRefs[id].counted = true
		}
		for _, id := range ids[start:next] {
			if rs, ok := left[id]; ok {
				d := s.dnRefs[id]
				d.removals, d.adds, d.replaced = rs, nil, nil
			} else {
				delete(s.dnRefs, id)
			}
		}
		// Counted unchanged when staged, updated by a removal applied now.
		s.res.Updates += len(updated)
		s.res.Unchanged = max(s.res.Unchanged-len(updated), 0)
		if next == start {
			break // nothing to settle: the watermark alone was written
		}
		start = next
	}
	s.unsettled = false
	if setWM {
		s.res.Checkpointed = s.res.Read
	}
	return nil
}

// settled is what settle did to one object.
type settled struct {
	values   int             // reference values looked at
	dnOnly   int             // values left DN-only
	removals []connector.Mod // removals by DN that still name no object
	updated  bool            // a removal applied made an update of an object the pass counted unchanged
}

// settle settles object id of the connector space. An object that is
// gone or deleted is left alone. Anchors given and duplicates dropped
// change what the object names in no way: the object is rewritten, not
// made pending; a removal applied makes it a pending update.
func (s *stager) settle(w *work, id string, d *dnRefs) (settled, error) {
	var r settled
	o, err := w.object(s.c.name, id)
	if err != nil || o == nil || o.Pending == metaverse.ImportDelete {
		return r, err
	}
	refs := s.c.refs[o.Type]
	attrs := o.Attrs.Clone()
	for name, ref := range refs {
		if ref {
			r.values += len(attrs[name])
		}
	}
	removed := false
	for _, m := range d.removals {
		if !refs[m.Name] {
			continue
		}
		vs := slices.Clone(m.Values)
		n, err := s.resolveRefs(w, o.Type, connector.Attributes{m.Name: vs})
		if err != nil {
			return r, err
		}
		if n > 0 {
			r.removals = append(r.removals, connector.Mod{Name: m.Name, Op: connector.ModRemove,
				Values: slices.DeleteFunc(slices.Clone(vs), func(v connector.Value) bool { a, _ := v.Ref(); return a != "" })})
		}
		before := len(attrs[m.Name])
		attrs.Apply([]connector.Mod{{Name: m.Name, Op: connector.ModRemove, Values: vs}})
		removed = removed || len(attrs[m.Name]) != before
	}
	if r.dnOnly, err = s.resolveRefs(w, o.Type, attrs); err != nil {
		return r, err
	}
	for name, ref := range refs {
		if vs := dedupRefs(attrs[name]); ref && len(vs) != len(attrs[name]) {
			attrs.Set(name, vs...)
		}
	}
	if attrs.Equal(o.Attrs) {
		return r, nil
	}
	o.Attrs = attrs
	if removed {
		if o.Pending == metaverse.ImportNone {
			o.Pending = metaverse.ImportUpdate
		}
		o.Imported = s.e.opts.Now()
		r.updated = !d.counted
	}
	w.putObject(o)
	return r, w.commit()
}

// dedupRefs drops the references that name the same object as an earlier
// one (by anchor when both have one, else by DN), keeping the first: a
// value added by DN before its anchor was known may repeat one held by
// anchor.
func dedupRefs(vs []connector.Value) []connector.Value {
	if len(vs) < 2 {
		return vs
	}
	anchors := make(map[connector.Anchor]bool, len(vs))
	dns := make(map[string]bool, len(vs))
	out := vs[:0:0]
	for _, v := range vs {
		a, dn := v.Ref()
		if a != "" && anchors[a] || a == "" && dn != "" && dns[connector.FoldDN(dn)] {
			continue
		}
		if a != "" {
			anchors[a] = true
		} else {
			dns[connector.FoldDN(dn)] = true
		}
		out = append(out, v)
	}
	if len(out) == len(vs) {
		return vs
	}
	return out
}
