package idbridge

import (
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// refCache remembers, for one sync run, what resolving a reference needs:
// which entry a connector-space object is linked to, which object of each
// connector an entry is linked to, and the anchor and DN of a target
// object. Without it every reference decodes a whole object and a whole
// entry from the store, and a manager referenced by ten reports, or a user
// in five groups, is decoded again each time.
//
// The cache holds only what the run's transactions read or wrote: lookups
// fill it from the transaction, commits of units of work update it, and it
// is emptied when a transaction is retried (what it read may be rolled
// back). Each map is emptied when it reaches maxRefCache entries, so that
// memory stays bounded in million-object runs.
type refCache struct {
	entryOf  map[anchorKey]string       // (connector, anchor) → linked entry ID, "" when unlinked
	targetOf map[string][]firstLink     // entry ID → its first link per connector
	objRef   map[objKey]connector.Value // CS object → RefValue(anchor, DN)
}

type firstLink struct{ conn, objectID string }

const maxRefCache = 100_000

func newRefCache() *refCache {
	return &refCache{entryOf: map[anchorKey]string{}, targetOf: map[string][]firstLink{}, objRef: map[objKey]connector.Value{}}
}

func (c *refCache) reset() {
	if c != nil {
		clear(c.entryOf)
		clear(c.targetOf)
		clear(c.objRef)
	}
}

func bounded[K comparable, V any](m map[K]V) {
	if len(m) >= maxRefCache {
		clear(m)
	}
}

// setObject records o as it now is.
func (c *refCache) setObject(o *metaverse.CSObject) {
	if c == nil {
		return
	}
	if o.Anchor != "" {
		bounded(c.entryOf)
		c.entryOf[anchorKey{o.Connector, o.Anchor}] = o.EntryID
	}
	bounded(c.objRef)
	c.objRef[objKey{o.Connector, o.ID}] = connector.RefValue(o.Anchor, o.DN)
}

// deleteObject forgets the object k; its anchor is not known any more, so
// the anchor map is emptied (deletes are rare in a full sync).
func (c *refCache) deleteObject(k objKey) {
	if c == nil {
		return
	}
	delete(c.objRef, k)
	clear(c.entryOf)
}

// setEntry records e's links.
func (c *refCache) setEntry(e *metaverse.Entry) {
	if c == nil {
		return
	}
	var ls []firstLink
	for _, l := range e.Links {
		seen := false
		for _, f := range ls {
			if f.conn == l.Connector {
				seen = true
				break
			}
		}
		if !seen {
			ls = append(ls, firstLink{l.Connector, l.ObjectID})
		}
	}
	bounded(c.targetOf)
	c.targetOf[e.ID] = ls
}

func (c *refCache) deleteEntry(id string) {
	if c != nil {
		delete(c.targetOf, id)
	}
}

// linkedEntry returns the ID of the entry the object with anchor a in
// connector conn's space is linked to ("" when it is unlinked), and whether
// the object exists.
func (w *work) linkedEntry(conn string, a connector.Anchor) (string, bool, error) {
	k := anchorKey{conn, a}
	if o, ok := w.anchors[k]; ok && o.Anchor == a && w.objects[objKey{o.Connector, o.ID}] == o {
		return o.EntryID, true, nil
	}
	if c := w.refs; c != nil {
		if id, ok := c.entryOf[k]; ok {
			return id, true, nil
		}
	}
	// Read, not adopt: a group of 500,000 members would otherwise hold
	// every member's decoded object in one unit of work (the 1M sync's
	// multi-gigabyte heap spike); only the entry ID is needed.
	t, err := w.peekByAnchor(conn, a)
	if err != nil || t == nil {
		return "", false, err
	}
	if c := w.refs; c != nil && t.Anchor == a {
		bounded(c.entryOf)
		c.entryOf[k] = t.EntryID
	}
	return t.EntryID, true, nil
}

// linkedObject returns the ID of the first object of connector conn that
// entry id is linked to ("" when none), and whether the entry exists.
func (w *work) linkedObject(id, conn string) (string, bool, error) {
	if e, ok := w.entries[id]; ok {
		if e == nil {
			return "", false, nil
		}
		return firstLinkTo(e, conn), true, nil
	}
	if c := w.refs; c != nil {
		if ls, ok := c.targetOf[id]; ok {
			for _, f := range ls {
				if f.conn == conn {
					return f.objectID, true, nil
				}
			}
			return "", true, nil
		}
	}
	e, err := w.peekEntry(id)
	if err != nil || e == nil {
		return "", false, err
	}
	w.refs.setEntry(e)
	return firstLinkTo(e, conn), true, nil
}

func firstLinkTo(e *metaverse.Entry, conn string) string {
	for _, l := range e.Links {
		if l.Connector == conn {
			return l.ObjectID
		}
	}
	return ""
}

// objectRef returns the anchor and DN of object id of connector conn as a
// reference value, and whether the object exists.
func (w *work) objectRef(conn, id string) (connector.Value, bool, error) {
	k := objKey{conn, id}
	if o, ok := w.objects[k]; ok {
		if o == nil {
			return connector.Value{}, false, nil
		}
		return connector.RefValue(o.Anchor, o.DN), true, nil
	}
	if c := w.refs; c != nil {
		if v, ok := c.objRef[k]; ok {
			return v, true, nil
		}
	}
	o, err := w.peekObject(conn, id)
	if err != nil || o == nil {
		return connector.Value{}, false, err
	}
	w.refs.setObject(o)
	return connector.RefValue(o.Anchor, o.DN), true, nil
}
