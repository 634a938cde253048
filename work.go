package idbridge

import (
	"context"
	"errors"
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
	dns     map[anchorKey]*metaverse.CSObject // by connector and folded DN
	order   []any                             // string (entry ID) or objKey, in first-read order
	written map[any]bool
	ops     []func() error // run by commit after the writes (onCommit)
}

// work returns the batch's unit of work, emptied: one object at a time is
// processed in a batch, so its maps are reused rather than reallocated.
func (b *batch) work() *work {
	if b.w == nil {
		b.w = &work{batch: b, entries: map[string]*metaverse.Entry{}, objects: map[objKey]*metaverse.CSObject{},
			anchors: map[anchorKey]*metaverse.CSObject{}, dns: map[anchorKey]*metaverse.CSObject{}, written: map[any]bool{}}
		return b.w
	}
	w := b.w
	clear(w.entries)
	clear(w.objects)
	clear(w.anchors)
	clear(w.dns)
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
	w.order = append(w.order, id)
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
		w.order = append(w.order, e.ID)
	}
	w.entries[e.ID] = e
	w.dirty(e.ID)
}

func (w *work) deleteEntry(id string) {
	if _, ok := w.entries[id]; !ok {
		w.order = append(w.order, id)
	}
	w.entries[id] = nil
	w.dirty(id)
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
	w.order = append(w.order, k)
	return o, nil
}

// index records o under its anchor and DN.
func (w *work) index(o *metaverse.CSObject) {
	if o.Anchor != "" {
		w.anchors[anchorKey{o.Connector, o.Anchor}] = o
	}
	if o.DN != "" {
		w.dns[anchorKey{o.Connector, connector.Anchor(connector.FoldDN(o.DN))}] = o
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
	w.order = append(w.order, k)
	return o
}

func (w *work) putObject(o *metaverse.CSObject) {
	k := objKey{o.Connector, o.ID}
	if _, ok := w.objects[k]; !ok {
		w.order = append(w.order, k)
	}
	w.objects[k] = o
	w.index(o)
	w.dirty(k)
}

func (w *work) deleteObject(o *metaverse.CSObject) {
	k := objKey{o.Connector, o.ID}
	if _, ok := w.objects[k]; !ok {
		w.order = append(w.order, k)
	}
	w.objects[k] = nil
	w.dirty(k)
}

// written tracks which keys were written (not only read).
func (w *work) dirty(k any) {
	if w.written == nil {
		w.written = map[any]bool{}
	}
	w.written[k] = true
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

func (w *work) objectByDN(connName, dn string) (*metaverse.CSObject, error) {
	fold := connector.FoldDN(dn)
	if o, ok := w.dns[anchorKey{connName, connector.Anchor(fold)}]; ok && w.objects[objKey{o.Connector, o.ID}] == o && connector.FoldDN(o.DN) == fold {
		return o, nil
	}
	if len(w.objects) <= 32 {
		// An object renamed in place in this unit of work is under its old
		// DN in the index: a small unit of work is searched whole.
		for _, o := range w.objects {
			if o != nil && o.Connector == connName && connector.FoldDN(o.DN) == fold {
				return o, nil
			}
		}
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
// work's own changes.
func (w *work) findEntries(typ, attr string, v connector.Value) ([]string, error) {
	ids, err := w.tx.FindEntries(w.ctx, typ, attr, v)
	if err != nil {
		return nil, fatal(err)
	}
	out := ids[:0:0]
	for _, id := range ids {
		if e, ok := w.entries[id]; ok && (e == nil || !slices.Contains(e.Attrs[attr], v)) {
			continue
		}
		out = append(out, id)
	}
	for id, e := range w.entries {
		if e != nil && (typ == "" || e.Type == typ) && slices.Contains(e.Attrs[attr], v) && !slices.Contains(out, id) {
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
		for _, k := range w.order {
			if !w.written[k] {
				continue
			}
			var err error
			switch k := k.(type) {
			case string:
				e := w.entries[k]
				switch {
				case pass == 0 && e == nil:
					err = w.tx.DeleteEntry(w.ctx, k)
					if errors.Is(err, metaverse.ErrNotFound) {
						err = nil
					}
					w.refs.deleteEntry(k)
				case pass == 1 && e != nil:
					err = w.tx.PutEntry(w.ctx, e)
					w.refs.setEntry(e)
				}
			case objKey:
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
