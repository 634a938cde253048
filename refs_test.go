package idbridge_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/internal/memconn"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

// countingStore counts the lookups of connector-space objects by anchor.
type countingStore struct {
	metaverse.Store
	byAnchor, byID atomic.Int64
}

func (tx countingTx) Object(ctx context.Context, conn, id string) (*metaverse.CSObject, error) {
	tx.s.byID.Add(1)
	return tx.Tx.Object(ctx, conn, id)
}

type countingTx struct {
	metaverse.Tx
	s *countingStore
}

func (tx countingTx) ObjectByAnchor(ctx context.Context, conn string, a connector.Anchor) (*metaverse.CSObject, error) {
	tx.s.byAnchor.Add(1)
	return tx.Tx.ObjectByAnchor(ctx, conn, a)
}

func (s *countingStore) View(ctx context.Context, fn func(metaverse.Tx) error) error {
	return s.Store.View(ctx, func(tx metaverse.Tx) error { return fn(countingTx{tx, s}) })
}

func (s *countingStore) Update(ctx context.Context, fn func(metaverse.Tx) error) error {
	return s.Store.Update(ctx, func(tx metaverse.Tx) error { return fn(countingTx{tx, s}) })
}

// A group synced before its members has every member reference unresolved;
// the group is synced once more at the end of the run (not once per member),
// and each member is looked up about once per pass.
func TestLargeGroupSyncedBeforeItsMembers(t *testing.T) {
	const members = 300
	ctx := context.Background()
	store := &countingStore{Store: memstore.New()}
	ad, hr, cloud := memconn.New(adSchema), memconn.New(hrSchema), memconn.New(cloudSchema)
	rf, err := rules.ParseFile("testdata/engine-rules.yaml")
	require.NoError(t, err)
	eng, err := idbridge.New(ctx, idbridge.Config{
		Store:      store,
		Connectors: map[string]connector.Connector{"ad": ad.Connector(), "hr": hr.Connector(), "cloud": cloud.Connector()},
		Rules:      rf,
		Options:    idbridge.Options{DeletionThreshold: -1},
	})
	require.NoError(t, err)

	var refs []connector.Value
	for i := 0; i < members; i++ {
		refs = append(refs, connector.RefValue(connector.Anchor(fmt.Sprintf("u%03d", i)), ""))
	}
	ad.Put(connector.Object{Anchor: "grp", DN: "CN=All,OU=Groups,DC=contoso,DC=com", Type: "group",
		Attrs: connector.Attributes{"cn": s("All"), "member": refs}})
	_, err = eng.FullImport(ctx, "ad") // the group gets the first connector-space ID
	require.NoError(t, err)
	for i := 0; i < members; i++ {
		ad.Put(connector.Object{Anchor: connector.Anchor(fmt.Sprintf("u%03d", i)), DN: fmt.Sprintf("CN=U%d,OU=Users,DC=contoso,DC=com", i),
			Type: "user", Attrs: connector.Attributes{"employeeID": s(fmt.Sprintf("E%d", i)), "givenName": s("U"), "sn": s(fmt.Sprint(i)),
				"mail": s(fmt.Sprintf("u%d@contoso.com", i)), "userAccountControl": {connector.IntValue(512)}}})
	}
	_, err = eng.FullImport(ctx, "ad")
	require.NoError(t, err)

	store.byAnchor.Store(0)
	store.byID.Store(0)
	res, err := eng.FullSync(ctx, "ad")
	require.NoError(t, err)
	assert.Empty(t, res.Errors)
	assert.Equal(t, members+1, res.Projections)
	assert.LessOrEqual(t, store.byAnchor.Load(), int64(3*members), "member lookups: about one per member and pass")
	t.Logf("lookups by anchor %d, by ID %d", store.byAnchor.Load(), store.byID.Load())
	assert.LessOrEqual(t, store.byID.Load(), int64(10), "the group is re-read once for the retry pass, not once per member")

	_, err = eng.Export(ctx, "cloud")
	require.NoError(t, err)
	grp, ok := cloud.ByDN("cn=All,ou=groups")
	require.True(t, ok)
	assert.Len(t, grp.Attrs["members"], members, "every member resolved in the retry pass")
}
