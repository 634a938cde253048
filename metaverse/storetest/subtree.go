package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/metaverse"
)

// subtree checks metaverse.SubtreeReader, when the store's transactions
// implement it: descendants at any depth, compared with connector.FoldDN,
// not the base itself nor a sibling whose name ends like it, in ID order
// and paged, following renames, within one connector space.
func (s *suite) subtree(t *testing.T) {
	ctx := context.Background()
	st := s.newStore(t)
	var supported bool
	view(t, st, func(tx metaverse.Tx) error {
		_, supported = tx.(metaverse.SubtreeReader)
		return nil
	})
	if !supported {
		t.Skip("the store's transactions do not implement metaverse.SubtreeReader")
	}
	put(t, st,
		object("ad", "cs-1", "a1", "OU=Staff,DC=example,DC=com"),
		object("ad", "cs-2", "a2", "CN=Ada,OU=Staff,DC=example,DC=com"),
		object("ad", "cs-3", "a3", "cn=Bob , ou=Lab,OU=STAFF, dc=example,dc=com"),
		object("ad", "cs-4", "a4", "CN=Cid,OU=OldStaff,DC=example,DC=com"),
		object("ad", "cs-5", "a5", "CN=Dee,OU=Other,DC=example,DC=com"),
		object("ad", "cs-6", "", "CN=Eve,OU=Staff,DC=example,DC=com"),
		object("hr", "cs-7", "a7", "CN=Fay,OU=Staff,DC=example,DC=com"),
	)
	under := func(tx metaverse.Tx, base, after string, limit int) []string {
		os, err := tx.(metaverse.SubtreeReader).ObjectsUnder(ctx, "ad", base, after, limit)
		require.NoError(t, err)
		return objectIDs(os)
	}
	view(t, st, func(tx metaverse.Tx) error {
		assert.Equal(t, []string{"cs-2", "cs-3", "cs-6"}, under(tx, "ou=staff, dc=EXAMPLE,dc=com", "", 0))
		assert.Equal(t, []string{"cs-2", "cs-3"}, under(tx, "OU=Staff,DC=example,DC=com", "", 2), "limit")
		assert.Equal(t, []string{"cs-6"}, under(tx, "OU=Staff,DC=example,DC=com", "cs-3", 2), "after")
		assert.Equal(t, []string{"cs-3"}, under(tx, "OU=Lab,OU=Staff,DC=example,DC=com", "", 0))
		assert.Empty(t, under(tx, "CN=Ada,OU=Staff,DC=example,DC=com", "", 0), "a leaf")
		assert.Empty(t, under(tx, "OU=Staff,DC=example,DC=com", "", 0)[3:], "nothing more")
		assert.Len(t, under(tx, "DC=example,DC=com", "", 0), 6)
		return nil
	})
	// Renames move objects in and out of the subtree.
	update(t, st, func(tx metaverse.Tx) error {
		o := getObjectTx(t, tx, "ad", "cs-2")
		o.DN = "CN=Ada,OU=Other,DC=example,DC=com"
		require.NoError(t, tx.PutObject(ctx, o))
		o = getObjectTx(t, tx, "ad", "cs-5")
		o.DN = "CN=Dee,OU=Staff,DC=example,DC=com"
		require.NoError(t, tx.PutObject(ctx, o))
		require.NoError(t, tx.DeleteObject(ctx, "ad", "cs-6"))
		assert.Equal(t, []string{"cs-3", "cs-5"}, under(tx, "OU=Staff,DC=example,DC=com", "", 0), "in the transaction")
		return nil
	})
	view(t, st, func(tx metaverse.Tx) error {
		assert.Equal(t, []string{"cs-3", "cs-5"}, under(tx, "OU=Staff,DC=example,DC=com", "", 0))
		return nil
	})
}

func getObjectTx(t *testing.T, tx metaverse.Tx, conn, id string) *metaverse.CSObject {
	t.Helper()
	o, err := tx.Object(context.Background(), conn, id)
	require.NoError(t, err)
	return o
}
