package idbridge_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
)

// An OU renamed in the source is reported alone by a delta import; the
// connector space cascades the rename to the 300 users under it, so that a
// group membership that arrives under the new DNs right after is kept, and
// a later full import finds no rename left to make.
func TestOURenameCascadesToDescendants(t *testing.T) {
	const users = 300
	type storeCase struct {
		name    string
		store   func(testing.TB) metaverse.Store
		indexed bool // the store's transactions are metaverse.SubtreeReaders
	}
	tests := []storeCase{{name: "scan", store: func(testing.TB) metaverse.Store { return &countingStore{Store: memstore.New()} }}}
	for _, st := range benchStores {
		tests = append(tests, storeCase{name: "store=" + st.name, store: st.open, indexed: true})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := tt.store(t)
			eng, ad, cloud := newRefsEngine(t, store, idbridge.Options{})
			f := &fixture{t: t, ctx: t.Context(), store: store, eng: eng, ad: ad, cloud: cloud}
			require.NoError(t, f.store.View(f.ctx, func(tx metaverse.Tx) error {
				_, ok := tx.(metaverse.SubtreeReader)
				assert.Equal(t, tt.indexed, ok)
				return nil
			}))

			const oldOU, newOU = "OU=Sales,DC=contoso,DC=com", "OU=Revenue,DC=contoso,DC=com"
			f.ad.Put(connector.Object{Anchor: "ou-sales", DN: oldOU, Type: "organizationalUnit", Attrs: connector.Attributes{"ou": s("Sales")}})
			f.ad.Put(connector.Object{Anchor: "ou-lab", DN: "OU=Lab," + oldOU, Type: "organizationalUnit", Attrs: connector.Attributes{"ou": s("Lab")}})
			var members []connector.Value
			for i := range users {
				dn := fmt.Sprintf("CN=User %d,%s", i, oldOU)
				if i%10 == 0 {
					dn = fmt.Sprintf("CN=User %d,OU=Lab,%s", i, oldOU)
				}
				f.ad.Put(connector.Object{Anchor: connector.Anchor(fmt.Sprintf("u%03d", i)), DN: dn, Type: "user",
					Attrs: connector.Attributes{"employeeID": s(fmt.Sprintf("E%d", i)), "givenName": s("U"), "sn": s(fmt.Sprint(i)),
						"mail": s(fmt.Sprintf("u%d@contoso.com", i)), "userAccountControl": {connector.IntValue(512)}}})
				if i < 10 {
					members = append(members, connector.RefValue("", dn))
				}
			}
			// Members by DN only, as an LDAP directory reports them.
			f.ad.Put(connector.Object{Anchor: "g1", DN: "CN=Team,OU=Groups,DC=contoso,DC=com", Type: "group",
				Attrs: connector.Attributes{"cn": s("Team"), "member": members}})
			f.cycle(idbridge.Initial)
			grp, ok := f.cloud.ByDN("cn=Team,ou=groups")
			require.True(t, ok)
			require.Len(t, grp.Attrs["members"], 10)

			require.NoError(t, f.ad.RenameSubtree("ou-sales", newOU))
			// Right after, the group changes: its members are named under
			// the new DN (and one more is added).
			var renamed []connector.Value
			for i := range 11 {
				dn := fmt.Sprintf("CN=User %d,%s", i, newOU)
				if i%10 == 0 {
					dn = fmt.Sprintf("CN=User %d,OU=Lab,%s", i, newOU)
				}
				renamed = append(renamed, connector.RefValue("", dn))
			}
			require.NoError(t, f.ad.Modify("g1", connector.Mod{Name: "member", Op: connector.ModReplace, Values: renamed}))

			cr := f.cycle(idbridge.Delta)
			imp := run(t, cr, "ad", idbridge.DeltaImport)
			assert.Equal(t, 2+users, imp.Renames, "the OU, the OU under it and every user")
			assert.Empty(t, cr.Errors())
			grp, ok = f.cloud.ByDN("cn=Team,ou=groups")
			require.True(t, ok)
			assert.Len(t, grp.Attrs["members"], 11, "no member dropped, the new one added")
			assert.Equal(t, users+1, f.cloud.Len(), "no user deleted or added in the target")
			for i := range users {
				o := f.csObject("ad", connector.Anchor(fmt.Sprintf("u%03d", i)))
				require.NotNil(t, o)
				require.True(t, metaverse.Under(o.DN, newOU), "user %d has DN %s", i, o.DN)
			}

			full, err := f.eng.FullImport(f.ctx, "ad")
			require.NoError(t, err)
			assert.Zero(t, full.Renames, "the connector space already has every new DN")
			assert.Zero(t, full.Updates)
		})
	}
}

// failingStore fails the commit of the next Update when armed: fn runs
// and its writes are rolled back, as in a crash before the commit.
type failingStore struct {
	metaverse.Store
	armed atomic.Bool
}

var errCommit = errors.New("commit failed")

func (s *failingStore) Update(ctx context.Context, fn func(metaverse.Tx) error) error {
	return s.Store.Update(ctx, func(tx metaverse.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if s.armed.CompareAndSwap(true, false) {
			return errCommit
		}
		return nil
	})
}

// A rename and its cascade are one transaction: a commit that fails leaves
// the container and every object under it with their old DNs, and the
// import run again renames them all.
func TestOURenameCascadeIsAtomic(t *testing.T) {
	store := &failingStore{Store: memstore.New()}
	f := newFixtureCfg(t, fixtureConfig{store: store})
	const oldOU, newOU = "OU=Sales,DC=contoso,DC=com", "OU=Revenue,DC=contoso,DC=com"
	f.ad.Put(connector.Object{Anchor: "ou", DN: oldOU, Type: "organizationalUnit", Attrs: connector.Attributes{"ou": s("Sales")}})
	all := []connector.Anchor{"ou"}
	for i := range 50 {
		a := connector.Anchor(fmt.Sprintf("u%02d", i))
		f.ad.Put(connector.Object{Anchor: a, DN: fmt.Sprintf("CN=U%d,%s", i, oldOU), Type: "user",
			Attrs: connector.Attributes{"employeeID": s(fmt.Sprint(i))}})
		all = append(all, a)
	}
	f.cycle(idbridge.Initial)
	require.NoError(t, f.ad.RenameSubtree("ou", newOU))

	// dns counts the objects with their old and their new DNs.
	dns := func() map[string]int {
		out := map[string]int{}
		for _, a := range all {
			o := f.csObject("ad", a)
			require.NotNil(t, o)
			if connector.FoldDN(o.DN) == connector.FoldDN(newOU) || metaverse.Under(o.DN, newOU) {
				out["new"]++
			} else {
				out["old"]++
			}
		}
		return out
	}
	store.armed.Store(true)
	_, err := f.eng.DeltaImport(f.ctx, "ad")
	require.ErrorIs(t, err, errCommit)
	assert.Equal(t, map[string]int{"old": 51}, dns(), "nothing renamed")

	res, err := f.eng.DeltaImport(f.ctx, "ad")
	require.NoError(t, err)
	assert.Equal(t, 51, res.Renames)
	assert.Equal(t, map[string]int{"new": 51}, dns(), "everything renamed")
}

// BenchmarkOURename measures a delta import that renames an OU holding a
// fiftieth of the directory (2,000 of 100,000 users), cascading the rename
// to every user under it, on each store.
//
//	go test -run '^$' -bench 'OURename' -benchtime 5x .
func BenchmarkOURename(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStores {
		for _, n := range benchSizes(100_000) {
			b.Run(fmt.Sprintf("store=%s/entries=%d", st.name, n), func(b *testing.B) {
				env := newBenchEnv(b, n, st.open(b), false)
				env.ad.Put(connector.Object{Anchor: "ou-dept0", DN: "OU=Dept0,DC=contoso,DC=com", Type: "organizationalUnit"})
				_, err := env.eng.FullImport(ctx, "ad")
				require.NoError(b, err)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					require.NoError(b, env.ad.RenameSubtree("ou-dept0", fmt.Sprintf("OU=Dept0-%d,DC=contoso,DC=com", i)))
					b.StartTimer()
					res, err := env.eng.DeltaImport(ctx, "ad")
					require.NoError(b, err)
					require.Equal(b, 1+n/50, res.Renames)
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/rename")
			})
		}
	}
}
