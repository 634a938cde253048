package memstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/google/btree"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// tx is a transaction: reads go straight to the store's maps (the lock is
// held), writes go to them too and log their undo.
type tx struct {
	s        *Store
	writable bool
	done     bool
	undo     []undo
}

var _ metaverse.Tx = (*tx)(nil)

func (t *tx) check(ctx context.Context) error {
	if t.done {
		return fmt.Errorf("memstore: transaction used after its function returned: %w", metaverse.ErrClosed)
	}
	return ctx.Err()
}

func (t *tx) checkWrite(ctx context.Context) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if !t.writable {
		return metaverse.ErrReadOnly
	}
	return nil
}

func (t *tx) Entry(ctx context.Context, id string) (*metaverse.Entry, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	e := t.s.entries[id]
	if e == nil {
		return nil, fmt.Errorf("memstore: entry %q: %w", id, metaverse.ErrNotFound)
	}
	return e.Clone(), nil
}

func (t *tx) PutEntry(ctx context.Context, e *metaverse.Entry) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	if e.ID == "" {
		return fmt.Errorf("memstore: PutEntry of an entry without an ID")
	}
	t.undo = append(t.undo, undo{kind: undoEntry, key: e.ID, entry: t.s.entries[e.ID]})
	t.s.setEntry(e.ID, e.Clone())
	return nil
}

func (t *tx) DeleteEntry(ctx context.Context, id string) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	prev := t.s.entries[id]
	if prev == nil {
		return fmt.Errorf("memstore: entry %q: %w", id, metaverse.ErrNotFound)
	}
	t.undo = append(t.undo, undo{kind: undoEntry, key: id, entry: prev})
	t.s.setEntry(id, nil)
	return nil
}

func (t *tx) FindEntries(ctx context.Context, typ, attr string, v connector.Value) ([]string, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	var ids []string
	if ix := t.s.attrs[attr]; ix != nil {
		ids = ix.byValue[ix.key(v)].appendTo(nil)
		if typ != "" {
			ids = slices.DeleteFunc(ids, func(id string) bool { return t.s.entries[id].Type != typ })
		}
	} else {
		// Not declared: scan.
		k := keyOf(v)
		for id, e := range t.s.entries {
			if (typ == "" || e.Type == typ) && hasValue(e.Attrs[attr], k) {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) > 1 {
		slices.Sort(ids)
	}
	return ids, nil
}

func (t *tx) Entries(ctx context.Context, after string, limit int) ([]*metaverse.Entry, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	var out []*metaverse.Entry
	if limit > 0 {
		out = make([]*metaverse.Entry, 0, min(limit, len(t.s.entries)))
	}
	page(t.s.entryIDs, after, limit, func(id string) { out = append(out, t.s.entries[id].Clone()) })
	return out, nil
}

func (t *tx) Object(ctx context.Context, conn, id string) (*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	if sp := t.s.spaces[conn]; sp != nil {
		if o := sp.objects[id]; o != nil {
			return o.Clone(), nil
		}
	}
	return nil, fmt.Errorf("memstore: object %q of connector %q: %w", id, conn, metaverse.ErrNotFound)
}

func (t *tx) ObjectByAnchor(ctx context.Context, conn string, a connector.Anchor) (*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	if sp := t.s.spaces[conn]; sp != nil && a != "" {
		if id, ok := sp.anchors[a]; ok {
			return sp.objects[id].Clone(), nil
		}
	}
	return nil, fmt.Errorf("memstore: anchor %q of connector %q: %w", a, conn, metaverse.ErrNotFound)
}

func (t *tx) ObjectByDN(ctx context.Context, conn, dn string) (*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	if sp := t.s.spaces[conn]; sp != nil {
		if ids := sp.dns[connector.FoldDN(dn)]; len(ids) > 0 {
			return sp.objects[ids[0]].Clone(), nil
		}
	}
	return nil, fmt.Errorf("memstore: DN %q of connector %q: %w", dn, conn, metaverse.ErrNotFound)
}

func (t *tx) PutObject(ctx context.Context, o *metaverse.CSObject) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	if o.ID == "" || o.Connector == "" {
		return fmt.Errorf("memstore: PutObject of an object without an ID or a connector (ID %q, connector %q)", o.ID, o.Connector)
	}
	sp := t.s.space(o.Connector, true)
	if o.Anchor != "" {
		if other, ok := sp.anchors[o.Anchor]; ok && other != o.ID {
			return fmt.Errorf("memstore: connector %q: object %q has anchor %q, already held by object %q: %w",
				o.Connector, o.ID, o.Anchor, other, metaverse.ErrConflict)
		}
	}
	t.undo = append(t.undo, undo{kind: undoObject, space: o.Connector, key: o.ID, obj: sp.objects[o.ID]})
	sp.set(o.ID, o.Clone())
	return nil
}

func (t *tx) DeleteObject(ctx context.Context, conn, id string) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	sp := t.s.spaces[conn]
	if sp == nil || sp.objects[id] == nil {
		return fmt.Errorf("memstore: object %q of connector %q: %w", id, conn, metaverse.ErrNotFound)
	}
	t.undo = append(t.undo, undo{kind: undoObject, space: conn, key: id, obj: sp.objects[id]})
	sp.set(id, nil)
	return nil
}

// objects pages through one of a connector space's ID trees.
func (t *tx) objects(ctx context.Context, conn, after string, limit int, tree func(*space) *btree.BTreeG[string]) ([]*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	sp := t.s.spaces[conn]
	if sp == nil {
		return nil, nil
	}
	ids := tree(sp)
	var out []*metaverse.CSObject
	if limit > 0 {
		out = make([]*metaverse.CSObject, 0, min(limit, ids.Len()))
	}
	page(ids, after, limit, func(id string) { out = append(out, sp.objects[id].Clone()) })
	return out, nil
}

func (t *tx) Objects(ctx context.Context, conn, after string, limit int) ([]*metaverse.CSObject, error) {
	return t.objects(ctx, conn, after, limit, func(sp *space) *btree.BTreeG[string] { return sp.ids })
}

func (t *tx) PendingImports(ctx context.Context, conn, after string, limit int) ([]*metaverse.CSObject, error) {
	return t.objects(ctx, conn, after, limit, func(sp *space) *btree.BTreeG[string] { return sp.imports })
}

func (t *tx) PendingExports(ctx context.Context, conn, after string, limit int) ([]*metaverse.CSObject, error) {
	return t.objects(ctx, conn, after, limit, func(sp *space) *btree.BTreeG[string] { return sp.exports })
}

func (t *tx) Watermark(ctx context.Context, conn string) ([]byte, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	return slices.Clone(t.s.watermarks[conn]), nil // nil stays nil, empty stays empty
}

func (t *tx) SetWatermark(ctx context.Context, conn string, wm []byte) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	prev, had := t.s.watermarks[conn]
	t.undo = append(t.undo, undo{kind: undoWatermark, key: conn, had: had, wm: prev})
	if wm == nil {
		delete(t.s.watermarks, conn)
	} else {
		t.s.watermarks[conn] = append([]byte{}, wm...)
	}
	return nil
}

func (t *tx) Counter(ctx context.Context, name string) (uint64, error) {
	if err := t.check(ctx); err != nil {
		return 0, err
	}
	return t.s.counters[name], nil
}

func (t *tx) SetCounter(ctx context.Context, name string, v uint64) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	prev, had := t.s.counters[name]
	t.undo = append(t.undo, undo{kind: undoCounter, key: name, had: had, n: prev})
	t.s.counters[name] = v
	return nil
}

func cloneRun(r *metaverse.RunRecord) *metaverse.RunRecord {
	c := *r
	c.Counts = maps.Clone(r.Counts)
	c.Errors = slices.Clone(r.Errors)
	return &c
}

func (t *tx) AddRun(ctx context.Context, r *metaverse.RunRecord) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	s := t.s
	t.undo = append(t.undo, undo{kind: undoRun, runs: len(s.runs), n: s.runSeq})
	s.runSeq++
	if r.ID == "" {
		// Fixed width, so that IDs sort in order of addition.
		r.ID = fmt.Sprintf("run-%012s", strconv.FormatUint(s.runSeq, 36))
	}
	s.runs = append(s.runs, cloneRun(r))
	return nil
}

func (t *tx) Runs(ctx context.Context, conn string, limit int) ([]*metaverse.RunRecord, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	var out []*metaverse.RunRecord
	for i := len(t.s.runs) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
		if r := t.s.runs[i]; conn == "" || r.Connector == conn {
			out = append(out, cloneRun(r))
		}
	}
	return out, nil
}
