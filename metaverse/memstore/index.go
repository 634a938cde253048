package memstore

import (
	"slices"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// attrIndex indexes one declared metaverse attribute: value → entry IDs.
// Entry types are not part of the key; FindEntries filters by type, which
// keeps a type change from touching the index. A folded index
// (metaverse.FoldIndexer) keys strings by metaverse.FoldString.
type attrIndex struct {
	byValue map[valKey]idSet
	folded  bool
}

// key returns the index key of v.
func (ix *attrIndex) key(v connector.Value) valKey {
	if ix.folded {
		v = metaverse.FoldValue(v)
	}
	return keyOf(v)
}

// valKey identifies a value as FindEntries matches it: type and
// connector.Value.Key (a reference by its anchor).
type valKey struct {
	typ connector.AttrType
	key string
}

func keyOf(v connector.Value) valKey { return valKey{v.Type(), v.Key()} }

// idSet is a set of entry IDs that costs no allocation while it holds one,
// the common case for join attributes (mail, employeeID).
type idSet struct {
	one  string              // the only ID, when more is nil
	more map[string]struct{} // all the IDs, when there are several
}

func (s idSet) empty() bool { return s.more == nil && s.one == "" }

func (s idSet) with(id string) idSet {
	switch {
	case s.more != nil:
		s.more[id] = struct{}{}
	case s.one == "" || s.one == id:
		s.one = id
	default:
		s.more = map[string]struct{}{s.one: {}, id: {}}
		s.one = ""
	}
	return s
}

func (s idSet) without(id string) idSet {
	switch {
	case s.more != nil:
		delete(s.more, id)
		if len(s.more) == 1 {
			for last := range s.more {
				return idSet{one: last}
			}
		}
	case s.one == id:
		s.one = ""
	}
	return s
}

// appendTo appends the IDs, unordered.
func (s idSet) appendTo(ids []string) []string {
	if s.more == nil {
		if s.one != "" {
			ids = append(ids, s.one)
		}
		return ids
	}
	for id := range s.more {
		ids = append(ids, id)
	}
	return ids
}

func (ix *attrIndex) add(id string, vals []connector.Value) {
	for _, v := range vals {
		k := ix.key(v)
		ix.byValue[k] = ix.byValue[k].with(id)
	}
}

func (ix *attrIndex) remove(id string, vals []connector.Value) {
	for _, v := range vals {
		k := ix.key(v)
		set, ok := ix.byValue[k]
		if !ok {
			continue
		}
		if set = set.without(id); set.empty() {
			delete(ix.byValue, k)
		} else {
			ix.byValue[k] = set
		}
	}
}

func valuesOf(e *metaverse.Entry, attr string) []connector.Value {
	if e == nil {
		return nil
	}
	return e.Attrs[attr]
}

// sameSlice reports whether a and b hold the same values in the same
// order: the common "attribute unchanged" case, checked before touching
// the index.
func sameSlice(a, b []connector.Value) bool { return slices.Equal(a, b) }

// hasValue reports whether vals has a value that matches k (an exact key).
func hasValue(vals []connector.Value, k valKey) bool {
	for _, v := range vals {
		if v.Type() == k.typ && v.Key() == k.key {
			return true
		}
	}
	return false
}
