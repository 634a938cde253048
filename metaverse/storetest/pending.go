package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// pending checks PendingImports and PendingExports: they list exactly the
// objects with Pending != ImportNone, resp. Export != nil, by ascending
// ID, following every PutObject and DeleteObject; and an Export's
// attributes keep "present with no values" apart from "absent".
func (s *suite) pending(t *testing.T) {
	ctx := context.Background()
	imports := func(t *testing.T, st metaverse.Store, conn string) []string {
		t.Helper()
		var ids []string
		view(t, st, func(tx metaverse.Tx) error {
			os, err := tx.PendingImports(ctx, conn, "", 0)
			ids = objectIDs(os)
			return err
		})
		return ids
	}
	exports := func(t *testing.T, st metaverse.Store, conn string) []string {
		t.Helper()
		var ids []string
		view(t, st, func(tx metaverse.Tx) error {
			os, err := tx.PendingExports(ctx, conn, "", 0)
			ids = objectIDs(os)
			return err
		})
		return ids
	}
	withImport := func(o *metaverse.CSObject, p metaverse.PendingImport) *metaverse.CSObject {
		o.Pending = p
		return o
	}
	withExport := func(o *metaverse.CSObject, k connector.ChangeKind) *metaverse.CSObject {
		o.Export = &metaverse.Export{Kind: k, State: metaverse.ExportPending, Attrs: connector.Attributes{"mail": {connector.StringValue(o.ID)}}}
		return o
	}

	t.Run("Imports", func(t *testing.T) {
		st := s.newStore(t)
		view(t, st, func(tx metaverse.Tx) error {
			os, err := tx.PendingImports(ctx, "ad", "", 0)
			require.NoError(t, err, "connector space never written")
			assert.Empty(t, os)
			return nil
		})
		put(t, st,
			withImport(object("ad", "cs-4", "a4", ""), metaverse.ImportDelete),
			withImport(object("ad", "cs-2", "a2", ""), metaverse.ImportAdd),
			object("ad", "cs-3", "a3", ""),
			withImport(object("ad", "cs-1", "a1", ""), metaverse.ImportUpdate),
			withImport(object("hr", "cs-9", "a9", ""), metaverse.ImportAdd),
		)
		assert.Equal(t, []string{"cs-1", "cs-2", "cs-4"}, imports(t, st, "ad"))
		assert.Equal(t, []string{"cs-9"}, imports(t, st, "hr"))
		assert.Empty(t, imports(t, st, "entra"))

		update(t, st, func(tx metaverse.Tx) error {
			// Sync processes cs-1, an import updates cs-3, cs-4 is removed,
			// cs-2 changes kind of pending import.
			require.NoError(t, tx.PutObject(ctx, object("ad", "cs-1", "a1", "")))
			require.NoError(t, tx.PutObject(ctx, withImport(object("ad", "cs-3", "a3", ""), metaverse.ImportUpdate)))
			require.NoError(t, tx.PutObject(ctx, withImport(object("ad", "cs-2", "a2", ""), metaverse.ImportUpdate)))
			return tx.DeleteObject(ctx, "ad", "cs-4")
		})
		assert.Equal(t, []string{"cs-2", "cs-3"}, imports(t, st, "ad"))
		view(t, st, func(tx metaverse.Tx) error {
			os, err := tx.PendingImports(ctx, "ad", "", 0)
			require.NoError(t, err)
			require.Len(t, os, 2)
			assert.Equal(t, metaverse.ImportUpdate, os[0].Pending, "whole objects come back")
			assert.Equal(t, normObject(withImport(object("ad", "cs-2", "a2", ""), metaverse.ImportUpdate)), normObject(os[0]))
			os, err = tx.PendingImports(ctx, "ad", "cs-2", 1)
			require.NoError(t, err)
			assert.Equal(t, []string{"cs-3"}, objectIDs(os), "after, limit")
			os, err = tx.PendingImports(ctx, "ad", "", 1)
			require.NoError(t, err)
			assert.Equal(t, []string{"cs-2"}, objectIDs(os), "limit")
			os, err = tx.PendingImports(ctx, "ad", "cs-3", 0)
			require.NoError(t, err)
			assert.Empty(t, os, "after the last")
			return nil
		})
		update(t, st, func(tx metaverse.Tx) error {
			require.NoError(t, tx.PutObject(ctx, object("ad", "cs-2", "a2", "")))
			return tx.PutObject(ctx, object("ad", "cs-3", "a3", ""))
		})
		assert.Empty(t, imports(t, st, "ad"), "all processed")
	})

	t.Run("Exports", func(t *testing.T) {
		st := s.newStore(t)
		view(t, st, func(tx metaverse.Tx) error {
			os, err := tx.PendingExports(ctx, "entra", "", 0)
			require.NoError(t, err, "connector space never written")
			assert.Empty(t, os)
			return nil
		})
		put(t, st,
			withExport(object("entra", "cs-3", "", ""), connector.Add),
			object("entra", "cs-2", "b", ""),
			withExport(object("entra", "cs-1", "a", ""), connector.Update),
			withExport(object("entra", "cs-4", "d", ""), connector.Delete),
			withExport(object("ad", "cs-1", "a", ""), connector.Update),
			// Pending import and pending export are independent.
			withImport(object("entra", "cs-5", "e", ""), metaverse.ImportAdd),
		)
		assert.Equal(t, []string{"cs-1", "cs-3", "cs-4"}, exports(t, st, "entra"))
		assert.Equal(t, []string{"cs-5"}, imports(t, st, "entra"))
		assert.Equal(t, []string{"cs-1"}, exports(t, st, "ad"))

		update(t, st, func(tx metaverse.Tx) error {
			// cs-1 exported and confirmed, cs-2 gets an export, cs-4 deleted,
			// cs-3 exported and awaiting confirmation.
			require.NoError(t, tx.PutObject(ctx, object("entra", "cs-1", "a", "")))
			require.NoError(t, tx.PutObject(ctx, withExport(object("entra", "cs-2", "b", ""), connector.Update)))
			o := withExport(object("entra", "cs-3", "c", ""), connector.Add)
			o.Export.State = metaverse.ExportUnconfirmed
			require.NoError(t, tx.PutObject(ctx, o))
			return tx.DeleteObject(ctx, "entra", "cs-4")
		})
		assert.Equal(t, []string{"cs-2", "cs-3"}, exports(t, st, "entra"))
		view(t, st, func(tx metaverse.Tx) error {
			os, err := tx.PendingExports(ctx, "entra", "cs-2", 5)
			require.NoError(t, err)
			require.Len(t, os, 1)
			assert.Equal(t, metaverse.ExportUnconfirmed, os[0].Export.State, "whole objects come back")
			os, err = tx.PendingExports(ctx, "entra", "", 1)
			require.NoError(t, err)
			assert.Equal(t, []string{"cs-2"}, objectIDs(os), "limit")
			return nil
		})
	})

	t.Run("ExportAttrs", func(t *testing.T) {
		// "telephone": [] says "clear it"; an absent attribute says "not
		// managed". A store must keep them apart.
		st := s.newStore(t)
		o := object("entra", "cs-1", "a", "")
		o.Export = &metaverse.Export{Kind: connector.Update, State: metaverse.ExportPending, Attrs: connector.Attributes{
			"telephone": {},
			"mobile":    nil,
			"mail":      {connector.StringValue("ada@example.com")},
		}}
		o2 := object("entra", "cs-2", "b", "")
		o2.Export = &metaverse.Export{Kind: connector.Delete, State: metaverse.ExportPending}
		put(t, st, o, o2)
		check := func(name string, got *metaverse.CSObject) {
			require.NotNil(t, got, name)
			require.NotNil(t, got.Export, name)
			a := got.Export.Attrs
			tel, ok := a["telephone"]
			assert.True(t, ok, "%s: an attribute present with no values came back absent", name)
			assert.Empty(t, tel, name)
			mob, ok := a["mobile"]
			assert.True(t, ok, "%s: an attribute present with a nil slice came back absent", name)
			assert.Empty(t, mob, name)
			_, ok = a["pager"]
			assert.False(t, ok, name)
			assert.Len(t, a, 3, name)
			assert.Equal(t, []connector.Value{connector.StringValue("ada@example.com")}, a["mail"], name)
		}
		check("Object", getObject(t, st, "entra", "cs-1"))
		view(t, st, func(tx metaverse.Tx) error {
			os, err := tx.PendingExports(ctx, "entra", "", 0)
			require.NoError(t, err)
			require.Len(t, os, 2)
			check("PendingExports", os[0])
			assert.Empty(t, os[1].Export.Attrs, "an Export with no attributes")
			o, err := tx.ObjectByAnchor(ctx, "entra", "a")
			require.NoError(t, err)
			check("ObjectByAnchor", o)
			return nil
		})
	})

	t.Run("States", func(t *testing.T) {
		// Every pending import, export kind and export state round-trips.
		st := s.newStore(t)
		var items []any
		i := 0
		for _, p := range []metaverse.PendingImport{metaverse.ImportNone, metaverse.ImportAdd, metaverse.ImportUpdate, metaverse.ImportDelete} {
			for _, k := range []connector.ChangeKind{connector.Add, connector.Update, connector.Delete} {
				for _, state := range []metaverse.ExportState{metaverse.ExportPending, metaverse.ExportUnconfirmed, metaverse.ExportFailed, metaverse.ExportParked} {
					o := fullObject("ad", seqID("cs-", i), "", "")
					o.Pending, o.Export.Kind, o.Export.State, o.Export.Attempts = p, k, state, i
					items = append(items, o)
					i++
				}
			}
		}
		put(t, st, items...)
		for _, it := range items {
			o := it.(*metaverse.CSObject)
			assert.Equal(t, normObject(o), normObject(getObject(t, st, "ad", o.ID)))
		}
	})
}
