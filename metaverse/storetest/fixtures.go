package storetest

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"time"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// when is a fixed instant with nanoseconds, for test data.
var when = time.Date(2026, 11, 24, 12, 34, 56, 123456789, time.UTC)

// allValues holds every kind of value a store must keep exactly: each
// AttrType, edge cases of each (empty text, zero octets, extreme integers,
// nanoseconds, instants before 1970, references with an anchor and a DN,
// only an anchor, only a DN), multi-valued attributes in a given order.
func allValues() connector.Attributes {
	return connector.Attributes{
		"string":    {connector.StringValue("Ada Lovelace"), connector.StringValue(""), connector.StringValue("Zoë O'Brien, \"R&D\" ✓ 😀\n\t")},
		"bytes":     {connector.BytesValue([]byte{0x00, 0x01, 0x00, 0xff, 0x00}), connector.BytesValue([]byte{0}), connector.BytesValue([]byte("\xc3\x28 invalid UTF-8"))},
		"integer":   {connector.IntValue(0), connector.IntValue(-1), connector.IntValue(math.MaxInt64), connector.IntValue(math.MinInt64)},
		"boolean":   {connector.BoolValue(true), connector.BoolValue(false)},
		"time":      {connector.TimeValue(when), connector.TimeValue(time.Unix(0, -1)), connector.TimeValue(time.Unix(0, 0)), connector.TimeValue(time.Date(2262, 4, 11, 23, 47, 16, 854775807, time.UTC))},
		"reference": {connector.RefValue("8a1c2e4f-0000-4000-8000-00000000beef", "CN=Grace Hopper,OU=People,DC=example,DC=com"), connector.RefValue("anchor-only", ""), connector.RefValue("", "CN=DN Only\\, Jr.,OU=People,DC=example,DC=com")},
		"single":    {connector.StringValue("one")},
	}
}

// fullEntry returns an entry that uses every field.
func fullEntry(id string) *metaverse.Entry {
	return &metaverse.Entry{
		ID:    id,
		Type:  "person",
		Attrs: allValues(),
		Sources: map[string]metaverse.Source{
			"string": {Connector: "ad", Rule: "In from AD - User Common"},
			"time":   {Connector: "hr", Rule: "In from HR"},
		},
		Links: []metaverse.Link{
			{Connector: "ad", ObjectID: "cs-ad-1", Type: metaverse.Provision, Rule: "In from AD - User Join", Inbound: true},
			{Connector: "hr", ObjectID: "cs-hr-1", Type: metaverse.Join, Rule: "In from HR", Inbound: true},
			{Connector: "entra", ObjectID: "cs-entra-1", Type: metaverse.StickyJoin, Rule: "Out to AAD - User Identity"},
		},
		Created: when,
		Updated: when.Add(time.Hour + time.Nanosecond),
	}
}

// fullObject returns a connector-space object that uses every field.
func fullObject(conn, id, anchor, dn string) *metaverse.CSObject {
	return &metaverse.CSObject{
		ID:        id,
		Connector: conn,
		Anchor:    connector.Anchor(anchor),
		DN:        dn,
		Type:      "user",
		Attrs:     allValues(),
		Pending:   metaverse.ImportUpdate,
		Changed:   []string{"string", "time"},
		EntryID:   "mv-1",
		LinkType:  metaverse.StickyJoin,
		Rule:      "In from AD - User Join",
		Export: &metaverse.Export{
			Kind: connector.Update,
			DN:   "CN=Ada Lovelace,OU=Moved,DC=example,DC=com",
			Attrs: connector.Attributes{
				"mail":      {connector.StringValue("ada@example.com")},
				"manager":   {connector.RefValue("8a1c2e4f-0000-4000-8000-00000000beef", "")},
				"telephone": {}, // present with no value: clear it
			},
			State:     metaverse.ExportFailed,
			Attempts:  3,
			LastError: "ldap: constraint violation (19)",
			Updated:   when.Add(2 * time.Second),
		},
		Seen:     1<<63 + 7,
		Imported: when.Add(time.Nanosecond),
		Error:    "flow: expression failed",
	}
}

// person returns a small entry with a mail address.
func person(id, mail string) *metaverse.Entry {
	return &metaverse.Entry{
		ID: id, Type: "person",
		Attrs:   connector.Attributes{"mail": {connector.StringValue(mail)}},
		Created: when, Updated: when,
	}
}

// object returns a small connector-space object with no pending work.
func object(conn, id, anchor, dn string) *metaverse.CSObject {
	return &metaverse.CSObject{
		ID: id, Connector: conn, Anchor: connector.Anchor(anchor), DN: dn, Type: "user",
		Attrs: connector.Attributes{"cn": {connector.StringValue(id)}},
	}
}

func isNotFound(err error) bool { return errors.Is(err, metaverse.ErrNotFound) }

// The normalizers map what the contract leaves open to one form, so that
// assert.Equal compares what it promises:
//   - times are compared as instants (a store may return another location
//     or drop the monotonic reading);
//   - nil and empty maps and slices are the same, except that an Export's
//     attribute present with no values stays present;
//   - an attribute of Entry.Attrs or CSObject.Attrs with no values is the
//     same as an absent one (connector.Attributes says so).
//
// Everything else must round-trip exactly, including the order of an
// attribute's values.

func normTime(t time.Time) time.Time { return t.Round(0).UTC() }

func normAttrs(a connector.Attributes, keepEmpty bool) connector.Attributes {
	if len(a) == 0 {
		return nil
	}
	out := make(connector.Attributes, len(a))
	for k, vs := range a {
		switch {
		case len(vs) > 0:
			out[k] = append([]connector.Value(nil), vs...)
		case keepEmpty:
			out[k] = []connector.Value{}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func normEntry(e *metaverse.Entry) *metaverse.Entry {
	if e == nil {
		return nil
	}
	c := *e
	c.Attrs = normAttrs(e.Attrs, false)
	c.Sources = nil
	if len(e.Sources) > 0 {
		c.Sources = maps.Clone(e.Sources)
	}
	c.Links = nil
	if len(e.Links) > 0 {
		c.Links = append(c.Links, e.Links...)
	}
	c.Created, c.Updated = normTime(e.Created), normTime(e.Updated)
	return &c
}

func normEntries(es []*metaverse.Entry) []*metaverse.Entry {
	out := make([]*metaverse.Entry, len(es))
	for i, e := range es {
		out[i] = normEntry(e)
	}
	return out
}

func normObject(o *metaverse.CSObject) *metaverse.CSObject {
	if o == nil {
		return nil
	}
	c := *o
	c.Attrs = normAttrs(o.Attrs, false)
	c.Changed = nil
	if len(o.Changed) > 0 {
		c.Changed = append(c.Changed, o.Changed...)
	}
	c.Imported = normTime(o.Imported)
	if o.Export != nil {
		x := *o.Export
		x.Attrs = normAttrs(o.Export.Attrs, true)
		x.Updated = normTime(o.Export.Updated)
		c.Export = &x
	}
	return &c
}

func normObjects(os []*metaverse.CSObject) []*metaverse.CSObject {
	out := make([]*metaverse.CSObject, len(os))
	for i, o := range os {
		out[i] = normObject(o)
	}
	return out
}

func normRun(r *metaverse.RunRecord) *metaverse.RunRecord {
	if r == nil {
		return nil
	}
	c := *r
	c.Started, c.Ended = normTime(r.Started), normTime(r.Ended)
	c.Counts = nil
	if len(r.Counts) > 0 {
		c.Counts = maps.Clone(r.Counts)
	}
	c.Errors = nil
	if len(r.Errors) > 0 {
		c.Errors = append(c.Errors, r.Errors...)
	}
	return &c
}

func normRuns(rs []*metaverse.RunRecord) []*metaverse.RunRecord {
	out := make([]*metaverse.RunRecord, len(rs))
	for i, r := range rs {
		out[i] = normRun(r)
	}
	return out
}

func entryIDs(es []*metaverse.Entry) []string {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

func objectIDs(os []*metaverse.CSObject) []string {
	ids := make([]string, len(os))
	for i, o := range os {
		ids[i] = o.ID
	}
	return ids
}

// seqID returns the i-th of n IDs that sort in numeric order.
func seqID(prefix string, i int) string { return fmt.Sprintf("%s%06d", prefix, i) }
