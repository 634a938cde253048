package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// connectorSpace checks PutObject, Object, ObjectByAnchor, ObjectByDN and
// DeleteObject: round trips, the anchor index (unique when not empty,
// following changes), the DN index (connector.FoldDN, smallest ID first,
// following renames) and connector spaces kept apart.
func (s *suite) connectorSpace(t *testing.T) {
	ctx := context.Background()
	const adaDN = "CN=Ada Lovelace,OU=People,DC=example,DC=com"

	t.Run("RoundTrip", func(t *testing.T) {
		st := s.newStore(t)
		put(t, st, fullObject("ad", "cs-1", "anchor-1", adaDN))
		want := normObject(fullObject("ad", "cs-1", "anchor-1", adaDN))
		view(t, st, func(tx metaverse.Tx) error {
			o, err := tx.Object(ctx, "ad", "cs-1")
			require.NoError(t, err, "Object")
			assert.Equal(t, want, normObject(o), "Object")
			o, err = tx.ObjectByAnchor(ctx, "ad", "anchor-1")
			require.NoError(t, err, "ObjectByAnchor")
			assert.Equal(t, want, normObject(o), "ObjectByAnchor")
			o, err = tx.ObjectByDN(ctx, "ad", adaDN)
			require.NoError(t, err, "ObjectByDN")
			assert.Equal(t, want, normObject(o), "ObjectByDN")
			return nil
		})
	})

	t.Run("Minimal", func(t *testing.T) {
		// A provisioned object not yet exported: no anchor, no attributes.
		st := s.newStore(t)
		o := &metaverse.CSObject{ID: "cs-1", Connector: "entra", Type: "user"}
		put(t, st, o)
		assert.Equal(t, o, normObject(getObject(t, st, "entra", "cs-1")))
	})

	t.Run("NotFound", func(t *testing.T) {
		st := s.newStore(t)
		put(t, st, object("ad", "cs-1", "anchor-1", adaDN))
		update(t, st, func(tx metaverse.Tx) error {
			for _, c := range []struct {
				name string
				get  func() (*metaverse.CSObject, error)
			}{
				{"Object: other ID", func() (*metaverse.CSObject, error) { return tx.Object(ctx, "ad", "cs-2") }},
				{"Object: other connector", func() (*metaverse.CSObject, error) { return tx.Object(ctx, "entra", "cs-1") }},
				{"Object: unknown connector", func() (*metaverse.CSObject, error) { return tx.Object(ctx, "nope", "cs-1") }},
				{"ObjectByAnchor: other anchor", func() (*metaverse.CSObject, error) { return tx.ObjectByAnchor(ctx, "ad", "anchor-2") }},
				{"ObjectByAnchor: anchors are case-sensitive", func() (*metaverse.CSObject, error) { return tx.ObjectByAnchor(ctx, "ad", "ANCHOR-1") }},
				{"ObjectByAnchor: other connector", func() (*metaverse.CSObject, error) { return tx.ObjectByAnchor(ctx, "entra", "anchor-1") }},
				{"ObjectByAnchor: empty anchor", func() (*metaverse.CSObject, error) { return tx.ObjectByAnchor(ctx, "ad", "") }},
				{"ObjectByDN: other DN", func() (*metaverse.CSObject, error) { return tx.ObjectByDN(ctx, "ad", "CN=Grace,DC=example,DC=com") }},
				{"ObjectByDN: parent DN", func() (*metaverse.CSObject, error) { return tx.ObjectByDN(ctx, "ad", "OU=People,DC=example,DC=com") }},
				{"ObjectByDN: other connector", func() (*metaverse.CSObject, error) { return tx.ObjectByDN(ctx, "entra", adaDN) }},
			} {
				o, err := c.get()
				assert.ErrorIs(t, err, metaverse.ErrNotFound, c.name)
				assert.Nil(t, o, c.name)
			}
			assert.ErrorIs(t, tx.DeleteObject(ctx, "ad", "cs-2"), metaverse.ErrNotFound, "DeleteObject: other ID")
			assert.ErrorIs(t, tx.DeleteObject(ctx, "entra", "cs-1"), metaverse.ErrNotFound, "DeleteObject: other connector")
			return nil
		})
		assert.NotNil(t, getObject(t, st, "ad", "cs-1"), "failed deletes deleted")
	})

	t.Run("ObjectByDN", func(t *testing.T) {
		st := s.newStore(t)
		put(t, st, object("ad", "cs-1", "anchor-1", adaDN), object("ad", "cs-2", "anchor-2", "cn=Grace Hopper , ou=People, dc=example, dc=com"))
		for _, c := range []struct{ dn, want string }{
			{adaDN, "cs-1"},
			{"cn=ada lovelace,ou=people,dc=example,dc=com", "cs-1"},
			{"CN=ADA LOVELACE,OU=PEOPLE,DC=EXAMPLE,DC=COM", "cs-1"},
			{"CN=Ada Lovelace, OU=People, DC=example, DC=com", "cs-1"},
			{" cn = Ada Lovelace ,ou= People,dc =example,dc=com ", "cs-1"},
			{"CN=Grace Hopper,OU=People,DC=example,DC=com", "cs-2"},
			{"cn=grace hopper,ou=people,dc=example,dc=com", "cs-2"},
			{"cn=Grace Hopper , ou=People, dc=example, dc=com", "cs-2"},
		} {
			var got *metaverse.CSObject
			view(t, st, func(tx metaverse.Tx) error {
				var err error
				got, err = tx.ObjectByDN(ctx, "ad", c.dn)
				return err
			})
			assert.Equal(t, c.want, got.ID, "ObjectByDN(%q)", c.dn)
		}
	})

	t.Run("SameDN", func(t *testing.T) {
		// A provisioned object not yet exported and the one an import
		// found can share a DN: the smallest ID wins, whatever the order
		// of writes, and the next one takes over when it goes.
		st := s.newStore(t)
		byDN := func() string {
			var id string
			view(t, st, func(tx metaverse.Tx) error {
				o, err := tx.ObjectByDN(ctx, "ad", adaDN)
				if isNotFound(err) {
					return nil
				}
				require.NoError(t, err)
				id = o.ID
				return nil
			})
			return id
		}
		put(t, st, object("ad", "cs-5", "", adaDN), object("ad", "cs-3", "anchor-3", "cn=ada lovelace,ou=people,dc=example,dc=com"))
		assert.Equal(t, "cs-3", byDN())
		put(t, st, object("ad", "cs-4", "anchor-4", "CN=ADA LOVELACE, OU=PEOPLE, DC=EXAMPLE, DC=COM"))
		assert.Equal(t, "cs-3", byDN())
		put(t, st, object("ad", "cs-1", "", adaDN))
		assert.Equal(t, "cs-1", byDN())
		update(t, st, func(tx metaverse.Tx) error { return tx.DeleteObject(ctx, "ad", "cs-1") })
		assert.Equal(t, "cs-3", byDN(), "after deleting the smallest")
		put(t, st, object("ad", "cs-3", "anchor-3", "CN=Moved,DC=example,DC=com"))
		assert.Equal(t, "cs-4", byDN(), "after renaming the smallest")
		update(t, st, func(tx metaverse.Tx) error {
			require.NoError(t, tx.DeleteObject(ctx, "ad", "cs-4"))
			return tx.DeleteObject(ctx, "ad", "cs-5")
		})
		assert.Empty(t, byDN(), "after deleting all")
	})

	t.Run("Rename", func(t *testing.T) {
		st := s.newStore(t)
		put(t, st, object("ad", "cs-1", "anchor-1", adaDN))
		put(t, st, object("ad", "cs-1", "anchor-1", "CN=Ada King,OU=People,DC=example,DC=com"))
		view(t, st, func(tx metaverse.Tx) error {
			_, err := tx.ObjectByDN(ctx, "ad", adaDN)
			assert.ErrorIs(t, err, metaverse.ErrNotFound, "old DN")
			o, err := tx.ObjectByDN(ctx, "ad", "cn=ada king,ou=people,dc=example,dc=com")
			require.NoError(t, err, "new DN")
			assert.Equal(t, "cs-1", o.ID)
			return nil
		})
		// The old DN is free for another object.
		put(t, st, object("ad", "cs-2", "anchor-2", adaDN))
		view(t, st, func(tx metaverse.Tx) error {
			o, err := tx.ObjectByDN(ctx, "ad", adaDN)
			require.NoError(t, err)
			assert.Equal(t, "cs-2", o.ID)
			return nil
		})
	})

	t.Run("AnchorConflict", func(t *testing.T) {
		st := s.newStore(t)
		put(t, st, object("ad", "cs-1", "anchor-1", "CN=One"))
		// Another object with the anchor: refused, whatever its DN.
		err := st.Update(ctx, func(tx metaverse.Tx) error {
			return tx.PutObject(ctx, object("ad", "cs-2", "anchor-1", "CN=Two"))
		})
		assert.ErrorIs(t, err, metaverse.ErrConflict)
		assert.Nil(t, getObject(t, st, "ad", "cs-2"), "the refused object was stored")
		view(t, st, func(tx metaverse.Tx) error {
			o, err := tx.ObjectByAnchor(ctx, "ad", "anchor-1")
			require.NoError(t, err)
			assert.Equal(t, "cs-1", o.ID, "the anchor moved to the refused object")
			return nil
		})
		// Also when both are written in one transaction.
		err = st.Update(ctx, func(tx metaverse.Tx) error {
			if err := tx.PutObject(ctx, object("ad", "cs-3", "anchor-3", "")); err != nil {
				return err
			}
			return tx.PutObject(ctx, object("ad", "cs-4", "anchor-3", ""))
		})
		assert.ErrorIs(t, err, metaverse.ErrConflict, "in one transaction")
		// The same object again with its anchor is no conflict; another
		// connector space may hold the anchor.
		put(t, st, object("ad", "cs-1", "anchor-1", "CN=One again"), object("entra", "cs-1", "anchor-1", ""), object("entra", "cs-2", "anchor-2", ""))
		view(t, st, func(tx metaverse.Tx) error {
			o, err := tx.ObjectByAnchor(ctx, "entra", "anchor-1")
			require.NoError(t, err)
			assert.Equal(t, "entra", o.Connector)
			return nil
		})
	})

	t.Run("ConflictLeavesTransactionUsable", func(t *testing.T) {
		// A refused PutObject writes nothing: the transaction can go on
		// and commit.
		st := s.newStore(t)
		put(t, st, object("ad", "cs-1", "anchor-1", ""))
		update(t, st, func(tx metaverse.Tx) error {
			err := tx.PutObject(ctx, object("ad", "cs-2", "anchor-1", ""))
			require.ErrorIs(t, err, metaverse.ErrConflict)
			return tx.PutObject(ctx, object("ad", "cs-2", "anchor-2", ""))
		})
		view(t, st, func(tx metaverse.Tx) error {
			for anchor, id := range map[connector.Anchor]string{"anchor-1": "cs-1", "anchor-2": "cs-2"} {
				o, err := tx.ObjectByAnchor(ctx, "ad", anchor)
				require.NoError(t, err)
				assert.Equal(t, id, o.ID)
			}
			return nil
		})
	})

	t.Run("EmptyAnchors", func(t *testing.T) {
		st := s.newStore(t)
		put(t, st, object("entra", "cs-1", "", "CN=A"), object("entra", "cs-2", "", "CN=B"), object("entra", "cs-3", "", ""))
		put(t, st, object("entra", "cs-1", "", "CN=A2"))
		view(t, st, func(tx metaverse.Tx) error {
			os, err := tx.Objects(ctx, "entra", "", 0)
			require.NoError(t, err)
			assert.Equal(t, []string{"cs-1", "cs-2", "cs-3"}, objectIDs(os))
			_, err = tx.ObjectByAnchor(ctx, "entra", "")
			assert.ErrorIs(t, err, metaverse.ErrNotFound)
			return nil
		})
	})

	t.Run("AnchorChange", func(t *testing.T) {
		// Exporting a provisioned object gives it an anchor; the anchor
		// index follows every change of it.
		st := s.newStore(t)
		put(t, st, object("entra", "cs-1", "", "CN=A"))
		byAnchor := func(a connector.Anchor) string {
			var id string
			view(t, st, func(tx metaverse.Tx) error {
				o, err := tx.ObjectByAnchor(ctx, "entra", a)
				if isNotFound(err) {
					return nil
				}
				require.NoError(t, err)
				id = o.ID
				return nil
			})
			return id
		}
		put(t, st, object("entra", "cs-1", "anchor-1", "CN=A"))
		assert.Equal(t, "cs-1", byAnchor("anchor-1"), "anchor set")
		put(t, st, object("entra", "cs-1", "anchor-2", "CN=A"))
		assert.Empty(t, byAnchor("anchor-1"), "old anchor after a change")
		assert.Equal(t, "cs-1", byAnchor("anchor-2"), "new anchor")
		// The old anchor is free again, in a later transaction and in the
		// one that frees it.
		put(t, st, object("entra", "cs-2", "anchor-1", ""))
		assert.Equal(t, "cs-2", byAnchor("anchor-1"))
		update(t, st, func(tx metaverse.Tx) error {
			require.NoError(t, tx.PutObject(ctx, object("entra", "cs-1", "anchor-3", "CN=A")))
			return tx.PutObject(ctx, object("entra", "cs-3", "anchor-2", ""))
		})
		assert.Equal(t, "cs-3", byAnchor("anchor-2"))
		assert.Equal(t, "cs-1", byAnchor("anchor-3"))
		put(t, st, object("entra", "cs-1", "", "CN=A"))
		assert.Empty(t, byAnchor("anchor-3"), "anchor cleared")
		// Delete frees the anchor too.
		update(t, st, func(tx metaverse.Tx) error { return tx.DeleteObject(ctx, "entra", "cs-2") })
		assert.Empty(t, byAnchor("anchor-1"), "after delete")
		put(t, st, object("entra", "cs-4", "anchor-1", ""))
		assert.Equal(t, "cs-4", byAnchor("anchor-1"))
	})

	t.Run("Delete", func(t *testing.T) {
		st := s.newStore(t)
		o := fullObject("ad", "cs-1", "anchor-1", adaDN)
		put(t, st, o, object("ad", "cs-2", "anchor-2", "CN=Other"))
		update(t, st, func(tx metaverse.Tx) error { return tx.DeleteObject(ctx, "ad", "cs-1") })
		view(t, st, func(tx metaverse.Tx) error {
			_, err := tx.Object(ctx, "ad", "cs-1")
			assert.ErrorIs(t, err, metaverse.ErrNotFound, "Object")
			_, err = tx.ObjectByAnchor(ctx, "ad", "anchor-1")
			assert.ErrorIs(t, err, metaverse.ErrNotFound, "ObjectByAnchor")
			_, err = tx.ObjectByDN(ctx, "ad", adaDN)
			assert.ErrorIs(t, err, metaverse.ErrNotFound, "ObjectByDN")
			os, err := tx.Objects(ctx, "ad", "", 0)
			require.NoError(t, err)
			assert.Equal(t, []string{"cs-2"}, objectIDs(os))
			return nil
		})
	})

	t.Run("Connectors", func(t *testing.T) {
		// The same ID in two connector spaces: two objects.
		st := s.newStore(t)
		put(t, st, object("ad", "cs-1", "a", "CN=X"), object("hr", "cs-1", "b", "CN=Y"))
		assert.Equal(t, connector.Anchor("a"), getObject(t, st, "ad", "cs-1").Anchor)
		assert.Equal(t, connector.Anchor("b"), getObject(t, st, "hr", "cs-1").Anchor)
		update(t, st, func(tx metaverse.Tx) error { return tx.DeleteObject(ctx, "hr", "cs-1") })
		assert.NotNil(t, getObject(t, st, "ad", "cs-1"))
		assert.Nil(t, getObject(t, st, "hr", "cs-1"))
	})

	t.Run("DeepCopy", func(t *testing.T) {
		st := s.newStore(t)
		want := normObject(fullObject("ad", "cs-1", "anchor-1", adaDN))
		o := fullObject("ad", "cs-1", "anchor-1", adaDN)
		put(t, st, o)
		mutateObject(o)
		assert.Equal(t, want, normObject(getObject(t, st, "ad", "cs-1")), "changing an object after PutObject changed the store")
		update(t, st, func(tx metaverse.Tx) error {
			gets := []func() (*metaverse.CSObject, error){
				func() (*metaverse.CSObject, error) { return tx.Object(ctx, "ad", "cs-1") },
				func() (*metaverse.CSObject, error) { return tx.ObjectByAnchor(ctx, "ad", "anchor-1") },
				func() (*metaverse.CSObject, error) { return tx.ObjectByDN(ctx, "ad", adaDN) },
				func() (*metaverse.CSObject, error) { return first(tx.Objects(ctx, "ad", "", 0)) },
				func() (*metaverse.CSObject, error) { return first(tx.PendingImports(ctx, "ad", "", 0)) },
				func() (*metaverse.CSObject, error) { return first(tx.PendingExports(ctx, "ad", "", 0)) },
			}
			for i, get := range gets {
				o, err := get()
				require.NoError(t, err)
				mutateObject(o)
				o, err = tx.Object(ctx, "ad", "cs-1")
				require.NoError(t, err)
				assert.Equal(t, want, normObject(o), "changing an object read by way %d changed the store", i)
			}
			return nil
		})
		assert.Equal(t, want, normObject(getObject(t, st, "ad", "cs-1")))
	})

	t.Run("Invalid", func(t *testing.T) {
		// Not part of the contract's text, but no store can key an object
		// without them: an error, not a panic or a stored object.
		st := s.newStore(t)
		for _, o := range []*metaverse.CSObject{
			{Connector: "ad", Anchor: "x"},
			{ID: "cs-1", Anchor: "y"},
		} {
			err := st.Update(ctx, func(tx metaverse.Tx) error { return tx.PutObject(ctx, o) })
			assert.Error(t, err, "PutObject(%+v)", o)
		}
		err := st.Update(ctx, func(tx metaverse.Tx) error { return tx.PutEntry(ctx, &metaverse.Entry{Type: "person"}) })
		assert.Error(t, err, "PutEntry without an ID")
		assert.False(t, errors.Is(err, metaverse.ErrNotFound))
	})
}

func first(os []*metaverse.CSObject, err error) (*metaverse.CSObject, error) {
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, metaverse.ErrNotFound
	}
	return os[0], nil
}

// mutateObject changes every part of o that could be shared with a store.
func mutateObject(o *metaverse.CSObject) {
	o.DN = "CN=Mutated"
	o.Anchor = "mutated"
	for _, vs := range o.Attrs {
		for i := range vs {
			vs[i] = connector.StringValue("mutated")
		}
	}
	if o.Attrs != nil {
		o.Attrs["added"] = []connector.Value{connector.IntValue(1)}
	}
	for i := range o.Changed {
		o.Changed[i] = "mutated"
	}
	o.Changed = append(o.Changed, "appended")
	if o.Export != nil {
		o.Export.State = metaverse.ExportPending
		o.Export.DN = "CN=Mutated"
		for _, vs := range o.Export.Attrs {
			for i := range vs {
				vs[i] = connector.StringValue("mutated")
			}
		}
		if o.Export.Attrs != nil {
			o.Export.Attrs["added"] = nil
			delete(o.Export.Attrs, "telephone")
		}
	}
}
