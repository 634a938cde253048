// Package memstore is an in-memory metaverse.Store: for tests, benchmarks
// and embedders that keep state elsewhere. Nothing survives the process.
//
// Transactions are serializable: View takes a shared lock, Update an
// exclusive one. Update records an undo log, so a function that returns an
// error (or panics) leaves the store exactly as it was, indexes included.
// Every object is copied on the way in and out.
//
// # Errors
//
// As the metaverse.Store contract: metaverse.ErrNotFound, ErrConflict (a
// second object with the same anchor in a connector space), ErrReadOnly,
// ErrClosed, and the context's error when it is done.
//
// # Concurrency
//
// A Store is safe for concurrent use. A Tx must not be used outside the
// function it is passed to.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/google/btree"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// Store is an in-memory metaverse.Store.
type Store struct {
	mu     sync.RWMutex
	closed bool

	entries  map[string]*metaverse.Entry
	entryIDs *btree.BTreeG[string]
	indexed  map[string]bool
	index    map[string]map[string]map[string]struct{} // attr → value key → entry IDs

	spaces     map[string]*space
	watermarks map[string][]byte
	counters   map[string]uint64
	runs       []*metaverse.RunRecord
	runSeq     uint64
}

// space is one connector space with its indexes.
type space struct {
	objects   map[string]*metaverse.CSObject
	ids       *btree.BTreeG[string]
	anchors   map[connector.Anchor]string
	dns       map[string][]string // folded DN → IDs, sorted
	pendingIm *btree.BTreeG[string]
	pendingEx *btree.BTreeG[string]
}

var _ metaverse.Store = (*Store)(nil)

func less(a, b string) bool { return a < b }

// New returns an empty store.
func New() *Store {
	return &Store{
		entries: map[string]*metaverse.Entry{}, entryIDs: btree.NewG(32, less),
		indexed: map[string]bool{}, index: map[string]map[string]map[string]struct{}{},
		spaces: map[string]*space{}, watermarks: map[string][]byte{}, counters: map[string]uint64{},
	}
}

func (s *Store) space(name string, create bool) *space {
	sp := s.spaces[name]
	if sp == nil && create {
		sp = &space{objects: map[string]*metaverse.CSObject{}, ids: btree.NewG(32, less), anchors: map[connector.Anchor]string{},
			dns: map[string][]string{}, pendingIm: btree.NewG(32, less), pendingEx: btree.NewG(32, less)}
		s.spaces[name] = sp
	}
	return sp
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
	tx := &tx{s: s}
	defer func() { tx.done = true }()
	return fn(tx)
}

// Update implements metaverse.Store.
func (s *Store) Update(ctx context.Context, fn func(tx metaverse.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return metaverse.ErrClosed
	}
	tx := &tx{s: s, writable: true}
	committed := false
	defer func() {
		tx.done = true
		if !committed {
			tx.rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	committed = true
	return nil
}

// Index implements metaverse.Store.
func (s *Store) Index(ctx context.Context, attrs ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return metaverse.ErrClosed
	}
	for _, a := range attrs {
		if s.indexed[a] {
			continue
		}
		s.indexed[a] = true
		for _, e := range s.entries {
			s.indexEntry(e, a, true)
		}
	}
	return nil
}

// Close implements metaverse.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func valueKey(v connector.Value) string {
	return strconv.Itoa(int(v.Type())) + ":" + v.Key()
}

func (s *Store) indexEntry(e *metaverse.Entry, attr string, add bool) {
	vals := e.Attrs[attr]
	if len(vals) == 0 {
		return
	}
	byVal := s.index[attr]
	if byVal == nil {
		byVal = map[string]map[string]struct{}{}
		s.index[attr] = byVal
	}
	for _, v := range vals {
		k := valueKey(v)
		if add {
			ids := byVal[k]
			if ids == nil {
				ids = map[string]struct{}{}
				byVal[k] = ids
			}
			ids[e.ID] = struct{}{}
		} else if ids := byVal[k]; ids != nil {
			delete(ids, e.ID)
			if len(ids) == 0 {
				delete(byVal, k)
			}
		}
	}
}

// setEntry replaces (nil: deletes) an entry, keeping indexes in step.
func (s *Store) setEntry(id string, e *metaverse.Entry) {
	if old := s.entries[id]; old != nil {
		for a := range s.indexed {
			s.indexEntry(old, a, false)
		}
	}
	if e == nil {
		delete(s.entries, id)
		s.entryIDs.Delete(id)
		return
	}
	s.entries[id] = e
	s.entryIDs.ReplaceOrInsert(id)
	for a := range s.indexed {
		s.indexEntry(e, a, true)
	}
}

// setObject replaces (nil: deletes) a connector-space object, keeping
// indexes in step.
func (s *Store) setObject(conn, id string, o *metaverse.CSObject) {
	sp := s.space(conn, true)
	old := sp.objects[id]
	var oldAnchor, newAnchor connector.Anchor
	var oldDN, newDN string
	var oldIm, newIm, oldEx, newEx bool
	if old != nil {
		oldAnchor, oldDN = old.Anchor, connector.FoldDN(old.DN)
		oldIm, oldEx = old.Pending != metaverse.ImportNone, old.Export != nil
	}
	if o != nil {
		newAnchor, newDN = o.Anchor, connector.FoldDN(o.DN)
		newIm, newEx = o.Pending != metaverse.ImportNone, o.Export != nil
	}
	if oldAnchor != newAnchor {
		if oldAnchor != "" && sp.anchors[oldAnchor] == id {
			delete(sp.anchors, oldAnchor)
		}
		if newAnchor != "" {
			sp.anchors[newAnchor] = id
		}
	}
	if oldDN != newDN || (old == nil) != (o == nil) {
		if oldDN != "" {
			ids := slices.DeleteFunc(sp.dns[oldDN], func(x string) bool { return x == id })
			if len(ids) == 0 {
				delete(sp.dns, oldDN)
			} else {
				sp.dns[oldDN] = ids
			}
		}
		if newDN != "" && o != nil {
			ids := sp.dns[newDN]
			if i, found := slices.BinarySearch(ids, id); !found {
				sp.dns[newDN] = slices.Insert(ids, i, id)
			}
		}
	}
	switch {
	case oldIm && !newIm:
		sp.pendingIm.Delete(id)
	case newIm && !oldIm:
		sp.pendingIm.ReplaceOrInsert(id)
	}
	switch {
	case oldEx && !newEx:
		sp.pendingEx.Delete(id)
	case newEx && !oldEx:
		sp.pendingEx.ReplaceOrInsert(id)
	}
	if o == nil {
		delete(sp.objects, id)
		sp.ids.Delete(id)
		return
	}
	if old == nil {
		sp.ids.ReplaceOrInsert(id)
	}
	sp.objects[id] = o
}

func page(t *btree.BTreeG[string], after string, limit int, fn func(id string)) {
	if limit <= 0 {
		return
	}
	n := 0
	t.AscendGreaterOrEqual(after, func(id string) bool {
		if id == after {
			return true
		}
		fn(id)
		n++
		return n < limit
	})
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
