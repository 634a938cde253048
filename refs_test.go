package idbridge_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
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

// newRefsEngine returns an engine on store with the test rules and
// in-memory ad, hr and cloud systems; the store is closed after the test.
func newRefsEngine(t *testing.T, store metaverse.Store, opts idbridge.Options) (*idbridge.Engine, *memconn.System, *memconn.System) {
	t.Helper()
	t.Cleanup(func() { store.Close() })
	ad, hr, cloud := memconn.New(adSchema), memconn.New(hrSchema), memconn.New(cloudSchema)
	rf, err := rules.ParseFile("testdata/engine-rules.yaml")
	require.NoError(t, err)
	eng, err := idbridge.New(context.Background(), idbridge.Config{
		Store:      store,
		Connectors: map[string]connector.Connector{"ad": ad.Connector(), "hr": hr.Connector(), "cloud": cloud.Connector()},
		Rules:      rf,
		Options:    opts,
	})
	require.NoError(t, err)
	return eng, ad, cloud
}

// A group synced before its members has every member reference unresolved;
// the group is synced once more at the end of the run (not once per member),
// and each member is looked up about once per pass.
func TestLargeGroupSyncedBeforeItsMembers(t *testing.T) {
	const members = 300
	ctx := context.Background()
	store := &countingStore{Store: memstore.New()}
	eng, ad, cloud := newRefsEngine(t, store, idbridge.Options{DeletionThreshold: -1})

	var refs []connector.Value
	for i := 0; i < members; i++ {
		refs = append(refs, connector.RefValue(connector.Anchor(fmt.Sprintf("u%03d", i)), ""))
	}
	ad.Put(connector.Object{Anchor: "grp", DN: "CN=All,OU=Groups,DC=contoso,DC=com", Type: "group",
		Attrs: connector.Attributes{"cn": s("All"), "member": refs}})
	_, err := eng.FullImport(ctx, "ad") // the group gets the first connector-space ID
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

// txLog records, per store transaction, the connector-space objects read
// one by one (an object dropped from its page is read in its transaction).
type txLog struct {
	metaverse.Store
	mu  sync.Mutex
	txs [][]string
}

type txLogTx struct {
	metaverse.Tx
	s *txLog
	i int
}

func (tx txLogTx) Object(ctx context.Context, conn, id string) (*metaverse.CSObject, error) {
	o, err := tx.Tx.Object(ctx, conn, id)
	if o != nil {
		tx.s.mu.Lock()
		tx.s.txs[tx.i] = append(tx.s.txs[tx.i], string(o.Anchor))
		tx.s.mu.Unlock()
	}
	return o, err
}

func (s *txLog) Update(ctx context.Context, fn func(metaverse.Tx) error) error {
	s.mu.Lock()
	s.txs = append(s.txs, nil)
	i := len(s.txs) - 1
	s.mu.Unlock()
	return s.Store.Update(ctx, func(tx metaverse.Tx) error { return fn(txLogTx{tx, s, i}) })
}

// Groups with more values than Options.LargeObjectValues are synced each in
// a transaction of their own, whether their page brings them (members
// synced first) or the retry pass does (groups synced first), and every
// membership still reaches the target.
func TestLargeGroupsSyncedAlone(t *testing.T) {
	sizes := []int{3, 40, 2, 35, 50, 1, 30} // large: more than 20
	large := func(anchor string) bool {
		var i int
		_, err := fmt.Sscanf(anchor, "g%d", &i)
		return err == nil && sizes[i] > 20
	}
	for _, tc := range []struct {
		name        string
		groupsFirst bool
	}{
		{name: "members first"},
		{name: "groups first", groupsFirst: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := &txLog{Store: memstore.New()}
			eng, ad, cloud := newRefsEngine(t, store, idbridge.Options{DeletionThreshold: -1, BatchSize: 4, LargeObjectValues: 20})

			putUsers := func() {
				for i := 0; i < 50; i++ {
					ad.Put(connector.Object{Anchor: connector.Anchor(fmt.Sprintf("u%02d", i)), DN: fmt.Sprintf("CN=U%d,OU=Users,DC=contoso,DC=com", i),
						Type: "user", Attrs: connector.Attributes{"employeeID": s(fmt.Sprintf("E%d", i)), "givenName": s("U"), "sn": s(fmt.Sprint(i)),
							"mail": s(fmt.Sprintf("u%d@contoso.com", i)), "userAccountControl": {connector.IntValue(512)}}})
				}
			}
			putGroups := func() {
				for g, n := range sizes {
					var refs []connector.Value
					for i := 0; i < n; i++ {
						refs = append(refs, connector.RefValue(connector.Anchor(fmt.Sprintf("u%02d", i)), ""))
					}
					ad.Put(connector.Object{Anchor: connector.Anchor(fmt.Sprintf("g%d", g)), DN: fmt.Sprintf("CN=G%d,OU=Groups,DC=contoso,DC=com", g),
						Type: "group", Attrs: connector.Attributes{"cn": s(fmt.Sprintf("G%d", g)), "member": refs}})
				}
			}
			// Connector-space IDs follow import order, and a sync pages
			// through objects in ID order.
			if tc.groupsFirst {
				putGroups()
			} else {
				putUsers()
			}
			_, err := eng.FullImport(ctx, "ad")
			require.NoError(t, err)
			if tc.groupsFirst {
				putUsers()
			} else {
				putGroups()
			}
			_, err = eng.FullImport(ctx, "ad")
			require.NoError(t, err)

			store.txs = nil
			res, err := eng.FullSync(ctx, "ad")
			require.NoError(t, err)
			require.Empty(t, res.Errors)
			assert.Equal(t, 50+len(sizes), res.Projections)

			seen := map[string]int{}
			for _, reads := range store.txs {
				var big []string
				for _, a := range reads {
					if large(a) {
						big = append(big, a)
					}
				}
				slices.Sort(big)
				big = slices.Compact(big)
				assert.LessOrEqual(t, len(big), 1, "large groups read in one transaction: %v", big)
				for _, a := range big {
					seen[a]++
				}
			}
			for g, n := range sizes {
				if n > 20 {
					assert.NotZero(t, seen[fmt.Sprintf("g%d", g)], "g%d read in a transaction of its own", g)
				}
			}

			_, err = eng.Export(ctx, "cloud")
			require.NoError(t, err)
			for g, n := range sizes {
				grp, ok := cloud.ByDN(fmt.Sprintf("cn=G%d,ou=groups", g))
				require.True(t, ok, "g%d", g)
				assert.Len(t, grp.Attrs["members"], n, "g%d members", g)
			}
		})
	}
}
