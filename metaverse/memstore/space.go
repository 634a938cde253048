package memstore

import (
	"slices"

	"github.com/google/btree"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// space is one connector space with its indexes. Every index holds IDs;
// objects holds the only copy of each object.
type space struct {
	objects map[string]*metaverse.CSObject
	ids     *btree.BTreeG[string]       // all IDs, for Objects
	anchors map[connector.Anchor]string // non-empty anchor → ID (unique)
	dns     map[string][]string         // folded DN → IDs, sorted (ObjectByDN returns the first)
	imports *btree.BTreeG[string]       // IDs with Pending != ImportNone
	exports *btree.BTreeG[string]       // IDs with Export != nil
}

func newSpace() *space {
	return &space{
		objects: map[string]*metaverse.CSObject{},
		ids:     newIDTree(),
		anchors: map[connector.Anchor]string{},
		dns:     map[string][]string{},
		imports: newIDTree(),
		exports: newIDTree(),
	}
}

// space returns a connector space, creating it when create is set (nil
// otherwise when there is none).
func (s *Store) space(name string, create bool) *space {
	sp := s.spaces[name]
	if sp == nil && create {
		sp = newSpace()
		s.spaces[name] = sp
	}
	return sp
}

// set replaces (nil: deletes) the object id, keeping every index in step.
// It does not check anchor uniqueness (PutObject does, before writing).
// The space takes o as is (callers copy).
func (sp *space) set(id string, o *metaverse.CSObject) {
	old := sp.objects[id]
	if old == nil && o == nil {
		return
	}
	var oldAnchor, newAnchor connector.Anchor
	var oldDN, newDN string
	var oldIm, newIm, oldEx, newEx bool
	if old != nil {
		oldAnchor, oldDN = old.Anchor, old.DN
		oldIm, oldEx = old.Pending != metaverse.ImportNone, old.Export != nil
	}
	if o != nil {
		newAnchor, newDN = o.Anchor, o.DN
		newIm, newEx = o.Pending != metaverse.ImportNone, o.Export != nil
	}

	if oldAnchor != newAnchor || o == nil {
		if oldAnchor != "" && sp.anchors[oldAnchor] == id {
			delete(sp.anchors, oldAnchor)
		}
		if newAnchor != "" {
			sp.anchors[newAnchor] = id
		}
	}
	// Comparing the raw DNs first skips folding in the common case of an
	// object that keeps its DN.
	if old == nil || o == nil || oldDN != newDN {
		if old != nil {
			sp.removeDN(connector.FoldDN(oldDN), id)
		}
		if o != nil {
			sp.addDN(connector.FoldDN(newDN), id)
		}
	}
	switch {
	case oldIm && !newIm:
		sp.imports.Delete(id)
	case newIm && !oldIm:
		sp.imports.ReplaceOrInsert(id)
	}
	switch {
	case oldEx && !newEx:
		sp.exports.Delete(id)
	case newEx && !oldEx:
		sp.exports.ReplaceOrInsert(id)
	}

	switch {
	case o == nil:
		delete(sp.objects, id)
		sp.ids.Delete(id)
	case old == nil:
		sp.objects[id] = o
		sp.ids.ReplaceOrInsert(id)
	default:
		sp.objects[id] = o
	}
}

// Objects without a DN are not in the DN index: ObjectByDN("") finds
// nothing.

func (sp *space) addDN(folded, id string) {
	if folded == "" {
		return
	}
	ids := sp.dns[folded]
	if i, found := slices.BinarySearch(ids, id); !found {
		sp.dns[folded] = slices.Insert(ids, i, id)
	}
}

func (sp *space) removeDN(folded, id string) {
	if folded == "" {
		return
	}
	ids := sp.dns[folded]
	i, found := slices.BinarySearch(ids, id)
	if !found {
		return
	}
	if len(ids) == 1 {
		delete(sp.dns, folded)
		return
	}
	sp.dns[folded] = slices.Delete(ids, i, i+1)
}
