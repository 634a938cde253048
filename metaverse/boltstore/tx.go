package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/internal/codec"
)

// tx is a metaverse.Tx over one bbolt transaction.
type tx struct {
	s       *Store
	btx     *bolt.Tx
	write   bool
	indexed map[string]indexMode // declared indexes, loaded on first use
	// scratch is where records are encoded before they are copied into a
	// slice of their own (see own).
	scratch []byte
}

// own returns an exactly sized copy of the record encoded in t.scratch:
// bbolt keeps a value until commit, so each needs a slice of its own, and
// encoding straight into a new slice grew it a dozen times per record.
func (t *tx) own(encoded []byte) []byte {
	t.scratch = encoded[:0]
	return bytes.Clone(encoded)
}

var _ metaverse.Tx = (*tx)(nil)

func (t *tx) check(ctx context.Context) error {
	if t.s.closed.Load() {
		return metaverse.ErrClosed
	}
	return ctx.Err()
}

func (t *tx) checkWrite(ctx context.Context) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if !t.write {
		return metaverse.ErrReadOnly
	}
	return nil
}

func (t *tx) bucket(name []byte) *bolt.Bucket {
	b := t.btx.Bucket(name)
	if b == nil {
		// Open created every bucket: a missing one means damage.
		panic(missingBucket(name))
	}
	return b
}

// indexMode says how a declared attribute is indexed.
type indexMode uint8

const (
	exactIndex  indexMode = iota + 1 // mvindexes value empty
	foldedIndex                      // mvindexes value "f": strings by metaverse.FoldString
)

var foldedMark = []byte("f")

// declared returns the declared metaverse attribute indexes.
func (t *tx) declared() map[string]indexMode {
	if t.indexed == nil {
		t.indexed = map[string]indexMode{}
		t.bucket(bIndexes).ForEach(func(k, v []byte) error {
			t.indexed[string(k)] = exactIndex
			if bytes.Equal(v, foldedMark) {
				t.indexed[string(k)] = foldedIndex
			}
			return nil
		})
	}
	return t.indexed
}

// indexKey returns the key under which attr indexes v.
func (t *tx) indexKey(attr string, v connector.Value) string {
	if t.declared()[attr] == foldedIndex {
		v = metaverse.FoldValue(v)
	}
	return codec.ValueKey(v)
}

// missingBucket is the panic of a file whose buckets were damaged; guard
// turns it into ErrCorrupt.
type missingBucket string

func (m missingBucket) String() string { return fmt.Sprintf("bucket %q missing", string(m)) }

func corrupt(what, key string, err error) error {
	if errors.Is(err, metaverse.ErrIncompatible) {
		return fmt.Errorf("boltstore: %s %q: %w", what, key, err)
	}
	return fmt.Errorf("%w: %s %q: %w", ErrCorrupt, what, key, err)
}

// appendFill is the fill percent of the buckets keyed by entry or object
// ID. The engine's IDs are sequential, so new keys go at the end of the
// B+tree; bbolt's default of 50% would leave every page half empty.
const appendFill = 0.9

// ---- metaverse entries

func (t *tx) Entry(ctx context.Context, id string) (*metaverse.Entry, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	v := t.bucket(bEntries).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("boltstore: entry %q: %w", id, metaverse.ErrNotFound)
	}
	e, err := codec.DecodeEntry(v)
	if err != nil {
		return nil, corrupt("entry", id, err)
	}
	return e, nil
}

// entryIndexKeys returns the index keys of e for the declared attributes.
func (t *tx) entryIndexKeys(e *metaverse.Entry) [][]byte {
	var keys [][]byte
	for attr := range t.declared() {
		for _, v := range e.Attrs[attr] {
			k := codec.AppendLP(nil, attr)
			k = codec.AppendLP(k, t.indexKey(attr, v))
			k = codec.AppendLP(k, e.Type)
			keys = append(keys, append(k, e.ID...))
		}
	}
	return keys
}

func (t *tx) PutEntry(ctx context.Context, e *metaverse.Entry) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	if e == nil || e.ID == "" {
		return errors.New("boltstore: PutEntry: entry has no ID")
	}
	entries, idx := t.bucket(bEntries), t.bucket(bEntryIdx)
	entries.FillPercent = appendFill
	if old := entries.Get([]byte(e.ID)); old != nil && len(t.declared()) > 0 {
		oe, err := codec.DecodeEntry(old)
		if err != nil {
			return corrupt("entry", e.ID, err)
		}
		for _, k := range t.entryIndexKeys(oe) {
			if err := idx.Delete(k); err != nil {
				return err
			}
		}
	}
	buf := t.own(codec.AppendEntry(t.scratch[:0], e))
	if err := entries.Put([]byte(e.ID), buf); err != nil {
		return err
	}
	for _, k := range t.entryIndexKeys(e) {
		if err := idx.Put(k, nil); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) DeleteEntry(ctx context.Context, id string) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	entries, idx := t.bucket(bEntries), t.bucket(bEntryIdx)
	old := entries.Get([]byte(id))
	if old == nil {
		return fmt.Errorf("boltstore: entry %q: %w", id, metaverse.ErrNotFound)
	}
	if len(t.declared()) > 0 {
		oe, err := codec.DecodeEntry(old)
		if err != nil {
			return corrupt("entry", id, err)
		}
		for _, k := range t.entryIndexKeys(oe) {
			if err := idx.Delete(k); err != nil {
				return err
			}
		}
	}
	return entries.Delete([]byte(id))
}

func (t *tx) FindEntries(ctx context.Context, entryType, attr string, v connector.Value) ([]string, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	var ids []string
	if t.declared()[attr] != 0 {
		prefix := codec.AppendLP(nil, attr)
		prefix = codec.AppendLP(prefix, t.indexKey(attr, v))
		if entryType != "" {
			prefix = codec.AppendLP(prefix, entryType)
		}
		c := t.bucket(bEntryIdx).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			rest := k[len(prefix):]
			if entryType == "" {
				n, w := binary.Uvarint(rest)
				if w <= 0 || uint64(len(rest)-w) < n {
					return nil, fmt.Errorf("%w: bad index key %q", ErrCorrupt, k)
				}
				rest = rest[w+int(n):]
			}
			ids = append(ids, string(rest))
		}
		if entryType == "" {
			slices.Sort(ids)
		}
		return ids, nil
	}
	// Not declared: scan.
	key := codec.ValueKey(v)
	err := t.bucket(bEntries).ForEach(func(k, val []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := codec.DecodeEntry(val)
		if err != nil {
			return corrupt("entry", string(k), err)
		}
		if entryType != "" && e.Type != entryType {
			return nil
		}
		for _, w := range e.Attrs[attr] {
			if codec.ValueKey(w) == key {
				ids = append(ids, e.ID)
				break
			}
		}
		return nil
	})
	return ids, err
}

func (t *tx) Entries(ctx context.Context, after string, limit int) ([]*metaverse.Entry, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	var out []*metaverse.Entry
	err := page(t.bucket(bEntries), after, limit, func(k, v []byte) error {
		e, err := codec.DecodeEntry(v)
		if err != nil {
			return corrupt("entry", string(k), err)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// page calls fn for up to limit keys of b greater than after, in order
// (limit <= 0: no limit).
func page(b *bolt.Bucket, after string, limit int, fn func(k, v []byte) error) error {
	c := b.Cursor()
	var k, v []byte
	if after == "" {
		k, v = c.First()
	} else {
		k, v = c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
	}
	for n := 0; k != nil && (limit <= 0 || n < limit); n++ {
		if err := fn(k, v); err != nil {
			return err
		}
		k, v = c.Next()
	}
	return nil
}

// ---- connector spaces

// cs returns the bucket of a connector space; nil when it does not exist
// and create is false.
func (t *tx) cs(name string, create bool) (*bolt.Bucket, error) {
	root := t.bucket(bCS)
	if b := root.Bucket([]byte(name)); b != nil || !create {
		return b, nil
	}
	if name == "" {
		return nil, errors.New("boltstore: connector name is empty")
	}
	b, err := root.CreateBucket([]byte(name))
	if err != nil {
		return nil, err
	}
	for _, n := range [][]byte{bObjects, bAnchors, bDNs, bPendImp, bPendExp} {
		if _, err := b.CreateBucket(n); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// notFoundError is a missed object lookup, formatted only when printed: a
// sync misses often (a reference to an object not imported yet), and
// formatting every miss was 1% of a full sync's allocations.
type notFoundError struct{ conn, by, key string }

func (e *notFoundError) Error() string {
	return fmt.Sprintf("boltstore: connector %q: object %s%q: %v", e.conn, e.by, e.key, metaverse.ErrNotFound)
}

func (e *notFoundError) Unwrap() error { return metaverse.ErrNotFound }

func notFoundObject(conn, by, key string) error { return &notFoundError{conn, by, key} }

func (t *tx) getObject(cs *bolt.Bucket, conn, id string) (*metaverse.CSObject, error) {
	v := cs.Bucket(bObjects).Get([]byte(id))
	if v == nil {
		return nil, notFoundObject(conn, "", id)
	}
	o, err := codec.DecodeObject(v)
	if err != nil {
		return nil, corrupt("object", conn+"/"+id, err)
	}
	return o, nil
}

func (t *tx) Object(ctx context.Context, connectorName, id string) (*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	cs, _ := t.cs(connectorName, false)
	if cs == nil {
		return nil, notFoundObject(connectorName, "", id)
	}
	return t.getObject(cs, connectorName, id)
}

func (t *tx) ObjectByAnchor(ctx context.Context, connectorName string, anchor connector.Anchor) (*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	cs, _ := t.cs(connectorName, false)
	if cs == nil || anchor == "" {
		return nil, notFoundObject(connectorName, "with anchor ", string(anchor))
	}
	id := cs.Bucket(bAnchors).Get([]byte(anchor))
	if id == nil {
		return nil, notFoundObject(connectorName, "with anchor ", string(anchor))
	}
	return t.getObject(cs, connectorName, string(id))
}

func dnPrefix(dn string) []byte { return codec.AppendLP(nil, connector.FoldDN(dn)) }

func (t *tx) ObjectByDN(ctx context.Context, connectorName, dn string) (*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	cs, _ := t.cs(connectorName, false)
	if cs == nil {
		return nil, notFoundObject(connectorName, "with DN ", dn)
	}
	prefix := dnPrefix(dn)
	k, _ := cs.Bucket(bDNs).Cursor().Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return nil, notFoundObject(connectorName, "with DN ", dn)
	}
	return t.getObject(cs, connectorName, string(k[len(prefix):]))
}

func (t *tx) PutObject(ctx context.Context, o *metaverse.CSObject) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	if o == nil || o.ID == "" || o.Connector == "" {
		return errors.New("boltstore: PutObject: object has no ID or connector")
	}
	cs, err := t.cs(o.Connector, true)
	if err != nil {
		return err
	}
	id := []byte(o.ID)
	objects, anchors := cs.Bucket(bObjects), cs.Bucket(bAnchors)
	objects.FillPercent = appendFill
	if o.Anchor != "" {
		if other := anchors.Get([]byte(o.Anchor)); other != nil && !bytes.Equal(other, id) {
			return fmt.Errorf("boltstore: connector %q: object %q has anchor %q, already held by object %q: %w",
				o.Connector, o.ID, o.Anchor, other, metaverse.ErrConflict)
		}
	}
	nk := codec.KeysOf(o)
	if old := objects.Get(id); old != nil {
		ok, err := codec.DecodeObjectKeys(old)
		if err != nil {
			return corrupt("object", o.Connector+"/"+o.ID, err)
		}
		buf := t.own(codec.AppendObject(t.scratch[:0], o))
		if err := objects.Put(id, buf); err != nil {
			return err
		}
		// Only the index keys that changed are rewritten: a sync that
		// links an object changes none of them.
		return t.reindexObject(cs, id, false, ok, nk)
	}
	buf := t.own(codec.AppendObject(t.scratch[:0], o))
	if err := objects.Put(id, buf); err != nil {
		return err
	}
	return t.reindexObject(cs, id, true, codec.ObjectKeys{}, nk)
}

// reindexObject moves object id's index entries from keys old (ignored for
// a new object) to keys nk.
func (t *tx) reindexObject(cs *bolt.Bucket, id []byte, isNew bool, old, nk codec.ObjectKeys) error {
	if old.Anchor != nk.Anchor {
		anchors := cs.Bucket(bAnchors)
		if old.Anchor != "" {
			if err := anchors.Delete([]byte(old.Anchor)); err != nil {
				return err
			}
		}
		if nk.Anchor != "" {
			if err := anchors.Put([]byte(nk.Anchor), id); err != nil {
				return err
			}
		}
	}
	if isNew || old.DN != nk.DN {
		dns := cs.Bucket(bDNs)
		if !isNew {
			if err := dns.Delete(append(dnPrefix(old.DN), id...)); err != nil {
				return err
			}
		}
		if err := dns.Put(append(dnPrefix(nk.DN), id...), nil); err != nil {
			return err
		}
	}
	if was, is := old.Pending != metaverse.ImportNone, nk.Pending != metaverse.ImportNone; was != is {
		b := cs.Bucket(bPendImp)
		b.FillPercent = appendFill
		var err error
		if is {
			err = b.Put(id, nil)
		} else {
			err = b.Delete(id)
		}
		if err != nil {
			return err
		}
	}
	if old.HasExport != nk.HasExport {
		b := cs.Bucket(bPendExp)
		if nk.HasExport {
			return b.Put(id, nil)
		}
		return b.Delete(id)
	}
	return nil
}

func (t *tx) unindexObject(cs *bolt.Bucket, o *metaverse.CSObject) error {
	id := []byte(o.ID)
	if o.Anchor != "" {
		if err := cs.Bucket(bAnchors).Delete([]byte(o.Anchor)); err != nil {
			return err
		}
	}
	if err := cs.Bucket(bDNs).Delete(append(dnPrefix(o.DN), id...)); err != nil {
		return err
	}
	if err := cs.Bucket(bPendImp).Delete(id); err != nil {
		return err
	}
	return cs.Bucket(bPendExp).Delete(id)
}

func (t *tx) DeleteObject(ctx context.Context, connectorName, id string) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	cs, _ := t.cs(connectorName, false)
	if cs == nil {
		return notFoundObject(connectorName, "", id)
	}
	o, err := t.getObject(cs, connectorName, id)
	if err != nil {
		return err
	}
	if err := t.unindexObject(cs, o); err != nil {
		return err
	}
	return cs.Bucket(bObjects).Delete([]byte(id))
}

func (t *tx) Objects(ctx context.Context, connectorName, after string, limit int) ([]*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	cs, _ := t.cs(connectorName, false)
	if cs == nil {
		return nil, nil
	}
	var out []*metaverse.CSObject
	err := page(cs.Bucket(bObjects), after, limit, func(k, v []byte) error {
		o, err := codec.DecodeObject(v)
		if err != nil {
			return corrupt("object", connectorName+"/"+string(k), err)
		}
		out = append(out, o)
		return nil
	})
	return out, err
}

func (t *tx) pending(ctx context.Context, connectorName, after string, limit int, which []byte) ([]*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	cs, _ := t.cs(connectorName, false)
	if cs == nil {
		return nil, nil
	}
	var out []*metaverse.CSObject
	err := page(cs.Bucket(which), after, limit, func(k, _ []byte) error {
		o, err := t.getObject(cs, connectorName, string(k))
		if err != nil {
			return fmt.Errorf("%w: pending index names a missing object: %w", ErrCorrupt, err)
		}
		out = append(out, o)
		return nil
	})
	return out, err
}

func (t *tx) PendingImports(ctx context.Context, connectorName, after string, limit int) ([]*metaverse.CSObject, error) {
	return t.pending(ctx, connectorName, after, limit, bPendImp)
}

func (t *tx) PendingExports(ctx context.Context, connectorName, after string, limit int) ([]*metaverse.CSObject, error) {
	return t.pending(ctx, connectorName, after, limit, bPendExp)
}

// ---- watermarks, counters, runs

func (t *tx) Watermark(ctx context.Context, connectorName string) ([]byte, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	v := t.bucket(bWatermarks).Get([]byte(connectorName))
	if v == nil {
		return nil, nil
	}
	return bytes.Clone(v), nil
}

func (t *tx) SetWatermark(ctx context.Context, connectorName string, wm []byte) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	if connectorName == "" {
		return errors.New("boltstore: SetWatermark: connector name is empty")
	}
	if wm == nil {
		return t.bucket(bWatermarks).Delete([]byte(connectorName))
	}
	return t.bucket(bWatermarks).Put([]byte(connectorName), wm)
}

func (t *tx) Counter(ctx context.Context, name string) (uint64, error) {
	if err := t.check(ctx); err != nil {
		return 0, err
	}
	v := t.bucket(bCounters).Get([]byte(name))
	if len(v) != 8 {
		return 0, nil
	}
	return binary.BigEndian.Uint64(v), nil
}

func (t *tx) SetCounter(ctx context.Context, name string, v uint64) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	if name == "" {
		return errors.New("boltstore: SetCounter: name is empty")
	}
	return t.bucket(bCounters).Put([]byte(name), binary.BigEndian.AppendUint64(nil, v))
}

func (t *tx) AddRun(ctx context.Context, r *metaverse.RunRecord) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	b := t.bucket(bRuns)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	if r.ID == "" {
		r.ID = strconv.FormatUint(seq, 10)
	}
	return b.Put(binary.BigEndian.AppendUint64(nil, seq), codec.AppendRun(nil, r))
}

func (t *tx) Runs(ctx context.Context, connectorName string, limit int) ([]*metaverse.RunRecord, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	var out []*metaverse.RunRecord
	c := t.bucket(bRuns).Cursor()
	for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
		r, err := codec.DecodeRun(v)
		if err != nil {
			return nil, corrupt("run", fmt.Sprint(binary.BigEndian.Uint64(k)), err)
		}
		if connectorName == "" || r.Connector == connectorName {
			out = append(out, r)
		}
	}
	return out, nil
}

// ---- declared indexes

// Index implements metaverse.Store: it records the attributes and indexes
// the existing entries, in one transaction.
func (s *Store) Index(ctx context.Context, attrs ...string) error {
	return s.index(ctx, exactIndex, attrs)
}

// IndexFolded implements metaverse.FoldIndexer: like Index, with strings
// keyed by metaverse.FoldString. An attribute indexed exact before is
// re-indexed folded, in the same transaction.
func (s *Store) IndexFolded(ctx context.Context, attrs ...string) error {
	return s.index(ctx, foldedIndex, attrs)
}

func (s *Store) index(ctx context.Context, mode indexMode, attrs []string) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("boltstore: %s is open read-only: %w", s.path, metaverse.ErrReadOnly)
	}
	return s.write(func(btx *bolt.Tx) error {
		t := &tx{s: s, btx: btx, write: true}
		decl, idx := t.bucket(bIndexes), t.bucket(bEntryIdx)
		var mark []byte
		if mode == foldedIndex {
			mark = foldedMark
		}
		var added []string
		for _, a := range attrs {
			if a == "" {
				return errors.New("boltstore: Index: empty attribute name")
			}
			cur := t.declared()[a]
			if cur >= mode || slices.Contains(added, a) {
				continue // folded stays folded: it finds what exact finds
			}
			if cur != 0 {
				// Exact before: drop its keys (they start with the attribute).
				if err := deletePrefix(idx, codec.AppendLP(nil, a)); err != nil {
					return err
				}
			}
			added = append(added, a)
			if err := decl.Put([]byte(a), mark); err != nil {
				return err
			}
		}
		if len(added) == 0 {
			return nil
		}
		t.indexed = map[string]indexMode{}
		for _, a := range added {
			t.indexed[a] = mode
		}
		return t.bucket(bEntries).ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			e, err := codec.DecodeEntry(v)
			if err != nil {
				return corrupt("entry", string(k), err)
			}
			for _, key := range t.entryIndexKeys(e) {
				if err := idx.Put(key, nil); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// deletePrefix deletes the keys of b that start with prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}
