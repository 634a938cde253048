package idbridge

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strconv"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// storeError marks a failure of the store: it ends the run (the batch's
// transaction rolls back), unlike an object error.
type storeError struct{ err error }

func (e *storeError) Error() string { return "idbridge: store: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

func fatal(err error) error {
	if err == nil {
		return nil
	}
	var se *storeError
	if errors.As(err, &se) {
		return err
	}
	return &storeError{err}
}

func isFatal(err error) bool {
	var se *storeError
	return errors.As(err, &se) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// batch is one store transaction in which many objects are processed.
type batch struct {
	ctx       context.Context
	tx        metaverse.Tx
	seq       uint64
	seqLoaded bool
	seqDirty  bool
	// touched holds the objects written in this batch, whose copies read
	// before the batch began are stale.
	touched map[objKey]bool
	w       *work
	// refs caches reference resolution across the batches of a sync run
	// (nil outside sync).
	refs *refCache
}

const seqCounter = "idbridge.seq"

// newID returns a new entry or object ID. IDs are sequential, fixed-width
// and so sort in creation order.
func (b *batch) newID() (string, error) {
	if !b.seqLoaded {
		v, err := b.tx.Counter(b.ctx, seqCounter)
		if err != nil {
			return "", fatal(err)
		}
		b.seq, b.seqLoaded = v, true
	}
	b.seq++
	b.seqDirty = true
	return formatID(b.seq), nil
}

// finish writes what the batch keeps outside the objects.
func (b *batch) finish() error {
	if b.seqDirty {
		if err := b.tx.SetCounter(b.ctx, seqCounter, b.seq); err != nil {
			return fatal(err)
		}
		b.seqDirty = false
	}
	return nil
}

type objKey struct{ conn, id string }

type anchorKey struct {
	conn   string
	anchor connector.Anchor
}

// dnKey is a connector and a DN folded by connector.FoldDN.
type dnKey struct{ conn, dn string }

// unitKey names what a unit of work read or wrote: an entry (by ID) or,
// when entry is empty, an object.
type unitKey struct {
	entry string
	obj   objKey
}

func entryKey(id string) unitKey { return unitKey{entry: id} }
func objectKey(k objKey) unitKey { return unitKey{obj: k} }

// work holds the writes made while processing one object. They reach the
// transaction only when the object is processed without error, so that a
// rule error on one object leaves no half-made change and the run goes on.
type work struct {
	*batch
	entries map[string]*metaverse.Entry // nil value: deleted
	objects map[objKey]*metaverse.CSObject
	// anchors indexes objects by connector and anchor: an object with many
	// references (a group of 50,000 members) adopts them all, and a linear
	// search per reference would be quadratic.
	anchors map[anchorKey]*metaverse.CSObject
	// dns indexes objects by connector and folded DN, and dnOf says under
	// which DN each object is indexed: putObject moves an object renamed
	// in the unit of work. Several objects may be under one DN for a
	// while (one renamed into the DN of another not yet renamed away);
	// objectByDN checks which one has it now.
	dns     map[dnKey][]objKey
	dnOf    map[objKey]string
	order   []unitKey // in first-read order
	written map[unitKey]bool
	ops     []func() error // run by commit after the writes (onCommit)
}

// work returns the batch's unit of work, emptied: one object at a time is
// processed in a batch, so its maps are reused rather than reallocated.
func (b *batch) work() *work {
	if b.w == nil {
		b.w = &work{batch: b, entries: map[string]*metaverse.Entry{}, objects: map[objKey]*metaverse.CSObject{},
			anchors: map[anchorKey]*metaverse.CSObject{}, dns: map[dnKey][]objKey{}, dnOf: map[objKey]string{},
			written: map[unitKey]bool{}}
		return b.w
	}
	w := b.w
	clear(w.entries)
	clear(w.objects)
	clear(w.anchors)
	clear(w.dns)
	clear(w.dnOf)
	clear(w.written)
	w.order = w.order[:0]
	w.ops = w.ops[:0]
	return w
}

func (w *work) entry(id string) (*metaverse.Entry, error) {
	if e, ok := w.entries[id]; ok {
		return e, nil
	}
	e, err := w.peekEntry(id)
	if err != nil || e == nil {
		return nil, err
	}
	w.entries[id] = e
	w.order = append(w.order, entryKey(id))
	return e, nil
}

// peekEntry is entry for a read that keeps nothing: the entry as this unit
// of work sees it, not adopted into it (reference resolution reads one
// entry per member of a group, which may have hundreds of thousands).
func (w *work) peekEntry(id string) (*metaverse.Entry, error) {
	if e, ok := w.entries[id]; ok {
		return e, nil
	}
	return found(w.tx.Entry(w.ctx, id))
}

// peekObject is object for a read that keeps nothing (see peekEntry).
func (w *work) peekObject(connName, id string) (*metaverse.CSObject, error) {
	if o, ok := w.objects[objKey{connName, id}]; ok {
		return o, nil
	}
	return found(w.tx.Object(w.ctx, connName, id))
}

// found returns what a store read found: nil and no error when it found
// nothing (metaverse.ErrNotFound), a fatal error when the store failed.
func found[T any](v *T, err error) (*T, error) {
	if errors.Is(err, metaverse.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fatal(err)
	}
	return v, nil
}

// putEntry marks e (already obtained from w, or new) as written.
func (w *work) putEntry(e *metaverse.Entry) {
	if _, ok := w.entries[e.ID]; !ok {
		w.order = append(w.order, entryKey(e.ID))
	}
	w.entries[e.ID] = e
	w.dirty(entryKey(e.ID))
}

func (w *work) deleteEntry(id string) {
	if _, ok := w.entries[id]; !ok {
		w.order = append(w.order, entryKey(id))
	}
	w.entries[id] = nil
	w.dirty(entryKey(id))
}

func (w *work) object(connName, id string) (*metaverse.CSObject, error) {
	k := objKey{connName, id}
	if o, ok := w.objects[k]; ok {
		return o, nil
	}
	o, err := w.peekObject(connName, id)
	if err != nil || o == nil {
		return nil, err
	}
	w.objects[k] = o
	w.index(o)
	w.order = append(w.order, objectKey(k))
	return o, nil
}

// index records o under its anchor and DN, moving it from the DN it was
// indexed under when it was renamed.
func (w *work) index(o *metaverse.CSObject) {
	if o.Anchor != "" {
		w.anchors[anchorKey{o.Connector, o.Anchor}] = o
	}
	k := objKey{o.Connector, o.ID}
	fold := connector.FoldDN(o.DN)
	prev, indexed := w.dnOf[k]
	if indexed && prev == fold {
		return
	}
	if indexed {
		dk := dnKey{o.Connector, prev}
		if ks := slices.DeleteFunc(w.dns[dk], func(x objKey) bool { return x == k }); len(ks) > 0 {
			w.dns[dk] = ks
		} else {
			delete(w.dns, dk)
		}
		delete(w.dnOf, k)
	}
	if fold != "" {
		dk := dnKey{o.Connector, fold}
		w.dns[dk] = append(w.dns[dk], k)
		w.dnOf[k] = fold
	}
}

// adopt makes an object read elsewhere (a page of a listing) part of w.
func (w *work) adopt(o *metaverse.CSObject) *metaverse.CSObject {
	k := objKey{o.Connector, o.ID}
	if cur, ok := w.objects[k]; ok {
		return cur
	}
	w.objects[k] = o
	w.index(o)
	w.order = append(w.order, objectKey(k))
	return o
}

// putObject marks o as written. An object whose DN or anchor changed must
// be put (again) before it is looked up by them.
func (w *work) putObject(o *metaverse.CSObject) {
	k := objKey{o.Connector, o.ID}
	if _, ok := w.objects[k]; !ok {
		w.order = append(w.order, objectKey(k))
	}
	w.objects[k] = o
	w.index(o)
	w.dirty(objectKey(k))
}

func (w *work) deleteObject(o *metaverse.CSObject) {
	k := objKey{o.Connector, o.ID}
	if _, ok := w.objects[k]; !ok {
		w.order = append(w.order, objectKey(k))
	}
	w.objects[k] = nil
	w.dirty(objectKey(k))
}

// dirty records that k was written (not only read).
func (w *work) dirty(k unitKey) { w.written[k] = true }

// writtenObjects yields the objects written (not deleted) in the unit of
// work, in first-read order.
func (w *work) writtenObjects() iter.Seq[*metaverse.CSObject] {
	return func(yield func(*metaverse.CSObject) bool) {
		for _, k := range w.order {
			if k.entry != "" || !w.written[k] {
				continue
			}
			if o := w.objects[k.obj]; o != nil && !yield(o) {
				return
			}
		}
	}
}

// peekByAnchor is objectByAnchor for a read that keeps nothing: the object
// as this unit of work sees it, not adopted into it.
func (w *work) peekByAnchor(connName string, a connector.Anchor) (*metaverse.CSObject, error) {
	if o, ok := w.anchors[anchorKey{connName, a}]; ok && o.Anchor == a && w.objects[objKey{o.Connector, o.ID}] == o {
		return o, nil
	}
	o, err := found(w.tx.ObjectByAnchor(w.ctx, connName, a))
	if err != nil || o == nil {
		return nil, err
	}
	if cur, ok := w.objects[objKey{connName, o.ID}]; ok {
		if cur == nil || cur.Anchor != a {
			return nil, nil // changed or deleted in this unit of work
		}
		return cur, nil
	}
	return o, nil
}

func (w *work) objectByAnchor(connName string, a connector.Anchor) (*metaverse.CSObject, error) {
	o, err := w.peekByAnchor(connName, a)
	if err != nil || o == nil {
		return nil, err
	}
	if w.objects[objKey{o.Connector, o.ID}] == o {
		return o, nil // already in this unit of work
	}
	return w.adopt(o), nil
}

// objectByDN returns the object of a connector with the given DN, as the
// unit of work sees it: one it holds with that DN now (the smallest ID when
// several have it, as the store answers), else the store's, unless the
// unit of work renamed or deleted that one.
func (w *work) objectByDN(connName, dn string) (*metaverse.CSObject, error) {
	fold := connector.FoldDN(dn)
	var best *metaverse.CSObject
	for _, k := range w.dns[dnKey{connName, fold}] {
		if o := w.objects[k]; o != nil && connector.FoldDN(o.DN) == fold && (best == nil || o.ID < best.ID) {
			best = o
		}
	}
	if best != nil {
		return best, nil
	}
	o, err := found(w.tx.ObjectByDN(w.ctx, connName, dn))
	if err != nil || o == nil {
		return nil, err
	}
	if cur, ok := w.objects[objKey{connName, o.ID}]; ok {
		if cur == nil || connector.FoldDN(cur.DN) != fold {
			return nil, nil
		}
		return cur, nil
	}
	return w.adopt(o), nil
}

// findEntries looks up entries by an indexed attribute, seeing the unit of
// work's own changes. fold compares strings case-insensitively (the store
// indexed attr folded; see metaverse.FoldIndexer).
func (w *work) findEntries(typ, attr string, v connector.Value, fold bool) ([]string, error) {
	ids, err := w.tx.FindEntries(w.ctx, typ, attr, v)
	if err != nil {
		return nil, fatal(err)
	}
	want := []connector.Value{v}
	out := ids[:0:0]
	for _, id := range ids {
		if e, ok := w.entries[id]; ok && (e == nil || !anyMatch(e.Attrs[attr], want, fold)) {
			continue
		}
		out = append(out, id)
	}
	for id, e := range w.entries {
		if e != nil && (typ == "" || e.Type == typ) && anyMatch(e.Attrs[attr], want, fold) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// commit writes the unit of work's changes to the transaction, deletions
// first so that an anchor moving between objects does not conflict.
func (w *work) commit() error {
	for pass := 0; pass < 2; pass++ {
		for _, uk := range w.order {
			if !w.written[uk] {
				continue
			}
			var err error
			if id := uk.entry; id != "" {
				e := w.entries[id]
				switch {
				case pass == 0 && e == nil:
					err = w.tx.DeleteEntry(w.ctx, id)
					if errors.Is(err, metaverse.ErrNotFound) {
						err = nil
					}
					w.refs.deleteEntry(id)
				case pass == 1 && e != nil:
					err = w.tx.PutEntry(w.ctx, e)
					w.refs.setEntry(e)
				}
			} else {
				k := uk.obj
				o := w.objects[k]
				switch {
				case pass == 0 && o == nil:
					err = w.tx.DeleteObject(w.ctx, k.conn, k.id)
					if errors.Is(err, metaverse.ErrNotFound) {
						err = nil
					}
					w.refs.deleteObject(k)
				case pass == 1 && o != nil:
					err = w.tx.PutObject(w.ctx, o)
					w.refs.setObject(o)
				}
				if w.touched == nil {
					w.touched = map[objKey]bool{}
				}
				w.touched[k] = true
			}
			if err != nil {
				return fatal(err)
			}
		}
	}
	for _, op := range w.ops {
		if err := op(); err != nil {
			return err
		}
	}
	w.ops = w.ops[:0]
	return nil
}

// formatID renders n in base 36, zero-padded to 16 digits, so that IDs sort
// as numbers.
func formatID(n uint64) string {
	var buf [16]byte
	for i := range buf {
		buf[i] = '0'
	}
	d := strconv.AppendUint(nil, n, 36)
	copy(buf[len(buf)-len(d):], d)
	return string(buf[:])
}
