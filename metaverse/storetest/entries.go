package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// entries checks PutEntry, Entry and DeleteEntry: round trips of every
// field and value type, replacement, deletion, ErrNotFound and isolation
// of the caller's copies from the store's.
func (s *suite) entries(t *testing.T) {
	ctx := context.Background()

	t.Run("RoundTrip", func(t *testing.T) {
		st := s.newStore(t)
		want := fullEntry("mv-1")
		put(t, st, want)
		got := getEntry(t, st, "mv-1")
		require.NotNil(t, got)
		assert.Equal(t, normEntry(fullEntry("mv-1")), normEntry(got))
		// Value is comparable: check each value exactly as well, since
		// normalizing copies them.
		for name, vs := range fullEntry("mv-1").Attrs {
			assert.Equal(t, vs, got.Attrs[name], name)
		}
	})

	t.Run("Values", func(t *testing.T) {
		st := s.newStore(t)
		for name, vs := range allValues() {
			for i, v := range vs {
				e := &metaverse.Entry{ID: name, Type: "t", Attrs: connector.Attributes{name: {v}}}
				put(t, st, e)
				got := getEntry(t, st, name)
				require.NotNil(t, got)
				require.Len(t, got.Attrs[name], 1, "%s[%d]", name, i)
				g := got.Attrs[name][0]
				assert.True(t, v == g, "%s[%d]: put %#v (%s), got %#v (%s)", name, i, v, v, g, g)
				if v.Type() == connector.Reference {
					a, dn := v.Ref()
					ga, gdn := g.Ref()
					assert.Equal(t, a, ga, "%s[%d] anchor", name, i)
					assert.Equal(t, dn, gdn, "%s[%d] DN", name, i)
				}
				if v.Type() == connector.Time {
					assert.Equal(t, v.Time().UnixNano(), g.Time().UnixNano(), "%s[%d] nanoseconds", name, i)
				}
			}
		}
	})

	t.Run("Times", func(t *testing.T) {
		// A store keeps the instant to the nanosecond; it may return it in
		// another location.
		st := s.newStore(t)
		e := person("mv-1", "a@example.com")
		e.Created = time.Date(2026, 11, 24, 13, 0, 0, 1, time.FixedZone("CET", 3600))
		e.Updated = time.Time{}
		put(t, st, e)
		got := getEntry(t, st, "mv-1")
		require.NotNil(t, got)
		assert.True(t, e.Created.Equal(got.Created), "Created: put %v, got %v", e.Created, got.Created)
		assert.True(t, got.Updated.IsZero(), "Updated: put the zero time, got %v", got.Updated)
	})

	t.Run("Minimal", func(t *testing.T) {
		st := s.newStore(t)
		put(t, st, &metaverse.Entry{ID: "mv-1", Type: "person"})
		got := getEntry(t, st, "mv-1")
		require.NotNil(t, got)
		assert.Equal(t, &metaverse.Entry{ID: "mv-1", Type: "person"}, normEntry(got))
	})

	t.Run("NotFound", func(t *testing.T) {
		st := s.newStore(t)
		put(t, st, person("mv-1", "a@example.com"))
		update(t, st, func(tx metaverse.Tx) error {
			_, err := tx.Entry(ctx, "mv-2")
			assert.ErrorIs(t, err, metaverse.ErrNotFound, "Entry")
			_, err = tx.Entry(ctx, "")
			assert.ErrorIs(t, err, metaverse.ErrNotFound, "Entry of the empty ID")
			_, err = tx.Entry(ctx, "MV-1")
			assert.ErrorIs(t, err, metaverse.ErrNotFound, "IDs are case-sensitive")
			assert.ErrorIs(t, tx.DeleteEntry(ctx, "mv-2"), metaverse.ErrNotFound, "DeleteEntry")
			return nil
		})
		assert.NotNil(t, getEntry(t, st, "mv-1"))
	})

	t.Run("Replace", func(t *testing.T) {
		st := s.newStore(t)
		put(t, st, fullEntry("mv-1"))
		// A replacement is the whole entry: attributes, sources and links
		// it does not have are gone, not merged.
		e := person("mv-1", "new@example.com")
		e.Type = "contact"
		put(t, st, e)
		assert.Equal(t, normEntry(e), normEntry(getEntry(t, st, "mv-1")))
	})

	t.Run("Delete", func(t *testing.T) {
		st := s.newStore(t)
		put(t, st, person("mv-1", "a@example.com"), person("mv-2", "b@example.com"))
		update(t, st, func(tx metaverse.Tx) error { return tx.DeleteEntry(ctx, "mv-1") })
		assert.Nil(t, getEntry(t, st, "mv-1"))
		assert.NotNil(t, getEntry(t, st, "mv-2"))
		update(t, st, func(tx metaverse.Tx) error {
			assert.ErrorIs(t, tx.DeleteEntry(ctx, "mv-1"), metaverse.ErrNotFound, "second delete")
			es, err := tx.Entries(ctx, "", 0)
			require.NoError(t, err)
			assert.Equal(t, []string{"mv-2"}, entryIDs(es))
			// Deleted then put again: a new entry.
			return tx.PutEntry(ctx, person("mv-1", "c@example.com"))
		})
		assert.Equal(t, normEntry(person("mv-1", "c@example.com")), normEntry(getEntry(t, st, "mv-1")))
	})

	t.Run("DeepCopy", func(t *testing.T) {
		st := s.newStore(t)
		e := fullEntry("mv-1")
		put(t, st, e)
		mutateEntry(e)
		assert.Equal(t, normEntry(fullEntry("mv-1")), normEntry(getEntry(t, st, "mv-1")), "changing an entry after PutEntry changed the store")

		got := getEntry(t, st, "mv-1")
		mutateEntry(got)
		assert.Equal(t, normEntry(fullEntry("mv-1")), normEntry(getEntry(t, st, "mv-1")), "changing an entry returned by Entry changed the store")

		// Within one transaction too, and through Entries.
		update(t, st, func(tx metaverse.Tx) error {
			e := fullEntry("mv-2")
			require.NoError(t, tx.PutEntry(ctx, e))
			mutateEntry(e)
			got, err := tx.Entry(ctx, "mv-2")
			require.NoError(t, err)
			assert.Equal(t, normEntry(fullEntry("mv-2")), normEntry(got), "same transaction: changing an entry after PutEntry")
			mutateEntry(got)
			es, err := tx.Entries(ctx, "", 0)
			require.NoError(t, err)
			for _, e := range es {
				mutateEntry(e)
			}
			got, err = tx.Entry(ctx, "mv-2")
			require.NoError(t, err)
			assert.Equal(t, normEntry(fullEntry("mv-2")), normEntry(got), "same transaction: changing a returned entry")
			return nil
		})
		assert.Equal(t, normEntry(fullEntry("mv-1")), normEntry(getEntry(t, st, "mv-1")), "changing entries returned by Entries changed the store")
		assert.Equal(t, normEntry(fullEntry("mv-2")), normEntry(getEntry(t, st, "mv-2")))
	})
}

// mutateEntry changes every part of e that could be shared with a store.
func mutateEntry(e *metaverse.Entry) {
	e.Type = "mutated"
	for _, vs := range e.Attrs {
		for i := range vs {
			vs[i] = connector.StringValue("mutated")
		}
	}
	e.Attrs["string"] = append(e.Attrs["string"], connector.StringValue("appended"))
	e.Attrs["added"] = []connector.Value{connector.IntValue(1)}
	delete(e.Attrs, "single")
	for k := range e.Sources {
		e.Sources[k] = metaverse.Source{Connector: "mutated"}
	}
	if e.Sources != nil {
		e.Sources["added"] = metaverse.Source{}
	}
	for i := range e.Links {
		e.Links[i].ObjectID = "mutated"
	}
	e.Links = append(e.Links, metaverse.Link{Connector: "appended"})
}
