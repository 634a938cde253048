package memstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/google/btree"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

type tx struct {
	s        *Store
	writable bool
	done     bool
	undo     []func()
}

var _ metaverse.Tx = (*tx)(nil)

func (t *tx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.undo = nil
}

func (t *tx) check(ctx context.Context, write bool) error {
	if t.done {
		return fmt.Errorf("memstore: transaction used after it ended: %w", metaverse.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if write && !t.writable {
		return metaverse.ErrReadOnly
	}
	return nil
}

func (t *tx) Entry(ctx context.Context, id string) (*metaverse.Entry, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	e := t.s.entries[id]
	if e == nil {
		return nil, fmt.Errorf("memstore: entry %q: %w", id, metaverse.ErrNotFound)
	}
	return e.Clone(), nil
}

func (t *tx) PutEntry(ctx context.Context, e *metaverse.Entry) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if e.ID == "" {
		return fmt.Errorf("memstore: entry without ID")
	}
	prev := t.s.entries[e.ID]
	id := e.ID
	t.undo = append(t.undo, func() { t.s.setEntry(id, prev) })
	t.s.setEntry(id, e.Clone())
	return nil
}

func (t *tx) DeleteEntry(ctx context.Context, id string) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	prev := t.s.entries[id]
	if prev == nil {
		return fmt.Errorf("memstore: entry %q: %w", id, metaverse.ErrNotFound)
	}
	t.undo = append(t.undo, func() { t.s.setEntry(id, prev) })
	t.s.setEntry(id, nil)
	return nil
}

func (t *tx) FindEntries(ctx context.Context, typ, attr string, v connector.Value) ([]string, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	var out []string
	match := func(e *metaverse.Entry) bool {
		if typ != "" && e.Type != typ {
			return false
		}
		for _, w := range e.Attrs[attr] {
			if w.Type() == v.Type() && w.Key() == v.Key() {
				return true
			}
		}
		return false
	}
	if t.s.indexed[attr] {
		for id := range t.s.index[attr][valueKey(v)] {
			if match(t.s.entries[id]) {
				out = append(out, id)
			}
		}
	} else {
		for id, e := range t.s.entries {
			if match(e) {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func (t *tx) Entries(ctx context.Context, after string, limit int) ([]*metaverse.Entry, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	var out []*metaverse.Entry
	page(t.s.entryIDs, after, limit, func(id string) { out = append(out, t.s.entries[id].Clone()) })
	return out, nil
}

func (t *tx) Object(ctx context.Context, conn, id string) (*metaverse.CSObject, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	if sp := t.s.space(conn, false); sp != nil {
		if o := sp.objects[id]; o != nil {
			return o.Clone(), nil
		}
	}
	return nil, fmt.Errorf("memstore: object %q of %q: %w", id, conn, metaverse.ErrNotFound)
}

func (t *tx) ObjectByAnchor(ctx context.Context, conn string, a connector.Anchor) (*metaverse.CSObject, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	if sp := t.s.space(conn, false); sp != nil && a != "" {
		if id, ok := sp.anchors[a]; ok {
			return sp.objects[id].Clone(), nil
		}
	}
	return nil, fmt.Errorf("memstore: anchor %q of %q: %w", a, conn, metaverse.ErrNotFound)
}

func (t *tx) ObjectByDN(ctx context.Context, conn, dn string) (*metaverse.CSObject, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	if sp := t.s.space(conn, false); sp != nil {
		if ids := sp.dns[connector.FoldDN(dn)]; len(ids) > 0 {
			return sp.objects[ids[0]].Clone(), nil
		}
	}
	return nil, fmt.Errorf("memstore: DN %q of %q: %w", dn, conn, metaverse.ErrNotFound)
}

func (t *tx) PutObject(ctx context.Context, o *metaverse.CSObject) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	if o.ID == "" || o.Connector == "" {
		return fmt.Errorf("memstore: object without ID or connector")
	}
	sp := t.s.space(o.Connector, true)
	if o.Anchor != "" {
		if other, ok := sp.anchors[o.Anchor]; ok && other != o.ID {
			return fmt.Errorf("memstore: anchor %q of %q is held by object %s: %w", o.Anchor, o.Connector, other, metaverse.ErrConflict)
		}
	}
	prev := sp.objects[o.ID]
	conn, id := o.Connector, o.ID
	t.undo = append(t.undo, func() { t.s.setObject(conn, id, prev) })
	t.s.setObject(conn, id, o.Clone())
	return nil
}

func (t *tx) DeleteObject(ctx context.Context, conn, id string) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	sp := t.s.space(conn, false)
	if sp == nil || sp.objects[id] == nil {
		return fmt.Errorf("memstore: object %q of %q: %w", id, conn, metaverse.ErrNotFound)
	}
	prev := sp.objects[id]
	t.undo = append(t.undo, func() { t.s.setObject(conn, id, prev) })
	t.s.setObject(conn, id, nil)
	return nil
}

func (t *tx) objects(ctx context.Context, conn, after string, limit int, pick func(*space) *btree.BTreeG[string]) ([]*metaverse.CSObject, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	sp := t.s.space(conn, false)
	if sp == nil {
		return nil, nil
	}
	var out []*metaverse.CSObject
	page(pick(sp), after, limit, func(id string) { out = append(out, sp.objects[id].Clone()) })
	return out, nil
}

func (t *tx) Objects(ctx context.Context, conn, after string, limit int) ([]*metaverse.CSObject, error) {
	return t.objects(ctx, conn, after, limit, func(sp *space) *btree.BTreeG[string] { return sp.ids })
}

func (t *tx) PendingImports(ctx context.Context, conn, after string, limit int) ([]*metaverse.CSObject, error) {
	return t.objects(ctx, conn, after, limit, func(sp *space) *btree.BTreeG[string] { return sp.pendingIm })
}

func (t *tx) PendingExports(ctx context.Context, conn, after string, limit int) ([]*metaverse.CSObject, error) {
	return t.objects(ctx, conn, after, limit, func(sp *space) *btree.BTreeG[string] { return sp.pendingEx })
}

func (t *tx) Watermark(ctx context.Context, conn string) ([]byte, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	return slices.Clone(t.s.watermarks[conn]), nil
}

func (t *tx) SetWatermark(ctx context.Context, conn string, wm []byte) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	prev, had := t.s.watermarks[conn]
	t.undo = append(t.undo, func() {
		if had {
			t.s.watermarks[conn] = prev
		} else {
			delete(t.s.watermarks, conn)
		}
	})
	if wm == nil {
		delete(t.s.watermarks, conn)
	} else {
		t.s.watermarks[conn] = slices.Clone(wm)
	}
	return nil
}

func (t *tx) Counter(ctx context.Context, name string) (uint64, error) {
	if err := t.check(ctx, false); err != nil {
		return 0, err
	}
	return t.s.counters[name], nil
}

func (t *tx) SetCounter(ctx context.Context, name string, v uint64) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	prev, had := t.s.counters[name]
	t.undo = append(t.undo, func() {
		if had {
			t.s.counters[name] = prev
		} else {
			delete(t.s.counters, name)
		}
	})
	t.s.counters[name] = v
	return nil
}

func (t *tx) AddRun(ctx context.Context, r *metaverse.RunRecord) error {
	if err := t.check(ctx, true); err != nil {
		return err
	}
	c := *r
	c.Counts = make(map[string]int, len(r.Counts))
	for k, v := range r.Counts {
		c.Counts[k] = v
	}
	c.Errors = slices.Clone(r.Errors)
	seq := t.s.runSeq
	t.s.runSeq++
	if c.ID == "" {
		c.ID = fmt.Sprintf("%016s", strconv.FormatUint(t.s.runSeq, 36))
		r.ID = c.ID
	}
	n := len(t.s.runs)
	t.undo = append(t.undo, func() { t.s.runs = t.s.runs[:n]; t.s.runSeq = seq })
	t.s.runs = append(t.s.runs, &c)
	return nil
}

func (t *tx) Runs(ctx context.Context, conn string, limit int) ([]*metaverse.RunRecord, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	var out []*metaverse.RunRecord
	for i := len(t.s.runs) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
		r := t.s.runs[i]
		if conn != "" && r.Connector != conn {
			continue
		}
		c := *r
		c.Counts = make(map[string]int, len(r.Counts))
		for k, v := range r.Counts {
			c.Counts[k] = v
		}
		c.Errors = slices.Clone(r.Errors)
		out = append(out, &c)
	}
	return out, nil
}
