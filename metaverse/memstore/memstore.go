package memstore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/btree"

	"github.com/idbridge/idbridge/metaverse"
)

// Store is an in-memory metaverse.Store. The zero value is not usable; call
// New.
type Store struct {
	mu     sync.RWMutex
	closed bool

	entries  map[string]*metaverse.Entry
	entryIDs *btree.BTreeG[string]
	attrs    map[string]*attrIndex // declared attributes

	spaces     map[string]*space
	watermarks map[string][]byte
	counters   map[string]uint64
	runs       []*metaverse.RunRecord
	runSeq     uint64

	// undoBuf is the undo log's backing array, reused by the next Update
	// (Updates run one at a time).
	undoBuf []undo

	exports metaverse.LocalExportLocks // see lock.go
}

var (
	_ metaverse.Store       = (*Store)(nil)
	_ metaverse.FoldIndexer = (*Store)(nil)
)

// btreeDegree suits string keys: nodes of a few hundred bytes.
const btreeDegree = 32

func newIDTree() *btree.BTreeG[string] {
	return btree.NewG(btreeDegree, func(a, b string) bool { return a < b })
}

// New returns an empty store.
func New() *Store {
	return &Store{
		entries:    map[string]*metaverse.Entry{},
		entryIDs:   newIDTree(),
		attrs:      map[string]*attrIndex{},
		spaces:     map[string]*space{},
		watermarks: map[string][]byte{},
		counters:   map[string]uint64{},
	}
}

// View implements metaverse.Store.
func (s *Store) View(ctx context.Context, fn func(tx metaverse.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return metaverse.ErrClosed
	}
	t := &tx{s: s}
	defer func() { t.done = true }()
	return fn(t)
}

// Update implements metaverse.Store. It calls fn exactly once.
func (s *Store) Update(ctx context.Context, fn func(tx metaverse.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return metaverse.ErrClosed
	}
	t := &tx{s: s, writable: true, undo: s.undoBuf[:0]}
	committed := false
	// Deferred so that a panic in fn (or runtime.Goexit, as t.FailNow
	// does) rolls back too; the panic then goes on.
	defer func() {
		t.done = true
		if !committed {
			t.rollback()
		}
		clear(t.undo) // drop references to old versions
		s.undoBuf = t.undo[:0]
	}()
	if err := fn(t); err != nil {
		return err
	}
	// A context done during fn may have cut it short: do not commit.
	if err := ctx.Err(); err != nil {
		return err
	}
	committed = true
	return nil
}

// Index implements metaverse.Store. Declaring an attribute indexes the
// existing entries at once, under the write lock.
func (s *Store) Index(ctx context.Context, attrs ...string) error {
	return s.index(ctx, false, attrs)
}

// IndexFolded implements metaverse.FoldIndexer: like Index, with strings
// keyed by metaverse.FoldString. An exact index of the attribute is
// rebuilt folded.
func (s *Store) IndexFolded(ctx context.Context, attrs ...string) error {
	return s.index(ctx, true, attrs)
}

func (s *Store) index(ctx context.Context, folded bool, attrs []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return metaverse.ErrClosed
	}
	for _, a := range attrs {
		if a == "" {
			return errors.New("memstore: Index: empty attribute name")
		}
		if cur := s.attrs[a]; cur != nil && (cur.folded || !folded) {
			continue // folded stays folded: it finds what exact finds
		}
		ix := &attrIndex{byValue: map[valKey]idSet{}, folded: folded}
		for _, e := range s.entries {
			ix.add(e.ID, e.Attrs[a])
		}
		s.attrs[a] = ix
	}
	return nil
}

// Close implements metaverse.Store. It waits for running transactions;
// later calls return nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// String describes the store's size.
func (s *Store) String() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, sp := range s.spaces {
		n += len(sp.objects)
	}
	return fmt.Sprintf("memstore: %d entries, %d connector-space objects", len(s.entries), n)
}

// setEntry replaces (nil: deletes) the entry id, keeping the ID tree and
// the attribute indexes in step. The store takes e as is (callers copy).
func (s *Store) setEntry(id string, e *metaverse.Entry) {
	old := s.entries[id]
	for a, ix := range s.attrs {
		oldVals, newVals := valuesOf(old, a), valuesOf(e, a)
		if old != nil && e != nil && sameSlice(oldVals, newVals) {
			continue
		}
		ix.remove(id, oldVals)
		ix.add(id, newVals)
	}
	switch {
	case e == nil:
		if old != nil {
			delete(s.entries, id)
			s.entryIDs.Delete(id)
		}
	case old == nil:
		s.entries[id] = e
		s.entryIDs.ReplaceOrInsert(id)
	default:
		s.entries[id] = e
	}
}

// page calls fn for up to limit IDs of t greater than after, in order
// (limit <= 0: no limit).
func page(t *btree.BTreeG[string], after string, limit int, fn func(id string)) {
	n := 0
	t.AscendGreaterOrEqual(after, func(id string) bool {
		if id == after {
			return true
		}
		fn(id)
		n++
		return limit <= 0 || n < limit
	})
}
