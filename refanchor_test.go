package idbridge_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
)

// A group and a report read before the objects they reference (AD returns
// them interleaved) hold those references by DN alone until the import
// pass ends, when they take the anchors of the objects staged after them.
// So they survive what changes DNs afterwards: a member renamed, the OU of
// members and of a manager renamed (reported alone, cascaded). A delta
// then syncs the group and the report: the cloud has the right members and
// manager, also when the group's membership change, named by the new DNs,
// arrives before the OU's rename in the same delta; and a full import
// after it finds nothing to update.
func TestReferencesReadBeforeTheirTargetsSurviveRenames(t *testing.T) {
	const oldOU, newOU = "OU=Sales,DC=contoso,DC=com", "OU=Revenue,DC=contoso,DC=com"
	userDN := func(i int, ou string) string {
		if i == 4 {
			return "CN=U4,OU=People,DC=contoso,DC=com"
		}
		return fmt.Sprintf("CN=U%d,%s", i, ou)
	}
	const grpDN, repDN = "CN=Team,OU=Groups,DC=contoso,DC=com", "CN=Report,OU=People,DC=contoso,DC=com"
	for _, order := range []string{"rename first", "group first"} {
		for _, st := range benchStores {
			t.Run(order+"/store="+st.name, func(t *testing.T) {
				var inc *incremental
				f := newFixtureCfg(t, fixtureConfig{store: st.open(t), adConn: func(c *memconn.Connector) connector.Connector {
					inc = &incremental{Connector: c}
					return inc
				}})
				f.ad.Put(connector.Object{Anchor: "ou-sales", DN: oldOU, Type: "organizationalUnit", Attrs: connector.Attributes{"ou": s("Sales")}})
				for i := 1; i <= 5; i++ {
					f.ad.Put(connector.Object{Anchor: connector.Anchor(fmt.Sprintf("u%d", i)), DN: userDN(i, oldOU), Type: "user",
						Attrs: connector.Attributes{"employeeID": s(fmt.Sprintf("E%d", i)), "givenName": s("U"), "sn": s(fmt.Sprint(i)),
							"mail": s(fmt.Sprintf("u%d@contoso.com", i)), "userAccountControl": {connector.IntValue(512)}}})
				}
				ref := func(i int, ou string) connector.Value { return connector.RefValue("", userDN(i, ou)) }
				// Anchors that sort first: a full import reads the group and
				// the report before the users they reference.
				f.ad.Put(connector.Object{Anchor: "a-grp", DN: grpDN, Type: "group",
					Attrs: connector.Attributes{"cn": s("Team"), "member": {ref(1, oldOU), ref(2, oldOU), ref(3, oldOU), ref(4, oldOU)}}})
				f.ad.Put(connector.Object{Anchor: "a-rep", DN: repDN, Type: "user",
					Attrs: connector.Attributes{"employeeID": s("E9"), "givenName": s("R"), "sn": s("9"), "mail": s("r9@contoso.com"),
						"userAccountControl": {connector.IntValue(512)}, "manager": {ref(1, oldOU)}}})
				f.cycle(idbridge.Initial)
				assert.Equal(t, []string{"E1", "E2", "E3", "E4"}, cloudRefs(t, f, "cn=Team,ou=groups", "members"))
				assert.Equal(t, []string{"E1"}, cloudRefs(t, f, "cn=E9,ou=users", "manager"))

				// The directory: U4 renamed, OU=Sales renamed (its users
				// with it), then the group changes: U2 leaves, U5 joins, by
				// their new DNs; the report gets a new title.
				require.NoError(t, f.ad.Rename("u4", "CN=U4 renamed,OU=People,DC=contoso,DC=com"))
				require.NoError(t, f.ad.RenameSubtree("ou-sales", newOU))
				u4 := connector.RefValue("", "CN=U4 renamed,OU=People,DC=contoso,DC=com")
				require.NoError(t, f.ad.Modify("a-grp", connector.Mod{Name: "member", Op: connector.ModReplace,
					Values: []connector.Value{ref(1, newOU), ref(3, newOU), u4, ref(5, newOU)}}))
				require.NoError(t, f.ad.Modify("a-rep", connector.Mod{Name: "manager", Op: connector.ModReplace, Values: []connector.Value{ref(1, newOU)}},
					connector.Mod{Name: "title", Op: connector.ModReplace, Values: s("Lead")}))
				renames := []connector.Change{
					{Kind: connector.Update, Anchor: "u4", DN: "CN=U4 renamed,OU=People,DC=contoso,DC=com", Type: "user"},
					{Kind: connector.Update, Anchor: "ou-sales", DN: newOU, Type: "organizationalUnit"},
				}
				changes := []connector.Change{
					{Kind: connector.Update, Anchor: "a-grp", DN: grpDN, Type: "group", Mods: []connector.Mod{
						{Name: "member", Op: connector.ModRemove, Values: []connector.Value{ref(2, newOU)}},
						{Name: "member", Op: connector.ModAdd, Values: []connector.Value{ref(5, newOU)}},
					}},
					{Kind: connector.Update, Anchor: "a-rep", DN: repDN, Type: "user", Mods: []connector.Mod{
						{Name: "title", Op: connector.ModReplace, Values: s("Lead")},
					}},
				}
				if order == "rename first" {
					inc.delta = append(renames, changes...)
				} else {
					inc.delta = append(changes, renames...)
				}
				cr := f.cycle(idbridge.Delta)
				assert.Empty(t, cr.Errors())
				assert.Equal(t, []string{"E1", "E3", "E4", "E5"}, cloudRefs(t, f, "cn=Team,ou=groups", "members"))
				assert.Equal(t, []string{"E1"}, cloudRefs(t, f, "cn=E9,ou=users", "manager"))

				full, err := f.eng.FullImport(f.ctx, "ad")
				require.NoError(t, err)
				assert.Zero(t, full.Renames, "the connector space has every new DN")
				assert.Zero(t, full.Updates, "the references in the connector space are what the directory has")
			})
		}
	}
}

// cloudRefs returns the employee IDs (the RDN values of the cloud users'
// DNs) that the reference attribute attr of the cloud object dn names.
func cloudRefs(t *testing.T, f *fixture, dn, attr string) []string {
	t.Helper()
	o, ok := f.cloud.ByDN(dn)
	require.True(t, ok, "%s is in the cloud", dn)
	var out []string
	for _, v := range o.Attrs[attr] {
		a, rdn := v.Ref()
		u, ok := f.cloud.Get(a)
		if a == "" {
			u, ok = f.cloud.ByDN(rdn)
		}
		require.True(t, ok, "the cloud object %s (%s) that %s names", a, rdn, dn)
		var id string
		_, err := fmt.Sscanf(u.DN, "cn=%2s,", &id)
		require.NoError(t, err, u.DN)
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// failNth fails the commit of the nth Update from now (as a crash before
// it): fn runs and its writes are rolled back.
type failNth struct {
	metaverse.Store
	n atomic.Int32
}

func (s *failNth) Update(ctx context.Context, fn func(metaverse.Tx) error) error {
	return s.Store.Update(ctx, func(tx metaverse.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if s.n.Add(-1) == 0 {
			return errCommit
		}
		return nil
	})
}

// removalByDN builds a group of two members synced, and the delta where
// its change, removing one member by the DN an OU rename gives it, comes
// before that rename.
func removalByDN(t *testing.T, store metaverse.Store) (*fixture, *incremental, []connector.Change) {
	t.Helper()
	var inc *incremental
	f := newFixtureCfg(t, fixtureConfig{store: store, adConn: func(c *memconn.Connector) connector.Connector {
		inc = &incremental{Connector: c}
		return inc
	}})
	const oldOU, newOU = "OU=Sales,DC=contoso,DC=com", "OU=Revenue,DC=contoso,DC=com"
	f.ad.Put(connector.Object{Anchor: "ou", DN: oldOU, Type: "organizationalUnit"})
	for _, a := range []string{"u1", "u2"} {
		f.ad.Put(connector.Object{Anchor: connector.Anchor(a), DN: "CN=" + a + "," + oldOU, Type: "user", Attrs: connector.Attributes{"employeeID": s(a)}})
	}
	f.ad.Put(connector.Object{Anchor: "grp", DN: "CN=Team,DC=contoso,DC=com", Type: "group",
		Attrs: connector.Attributes{"cn": s("Team"), "member": {connector.RefValue("", "CN=u1,"+oldOU), connector.RefValue("", "CN=u2,"+oldOU)}}})
	f.cycle(idbridge.Initial)
	return f, inc, []connector.Change{
		{Kind: connector.Update, Anchor: "grp", DN: "CN=Team,DC=contoso,DC=com", Type: "group", Mods: []connector.Mod{
			{Name: "member", Op: connector.ModRemove, Values: []connector.Value{connector.RefValue("", "CN=u2,"+newOU)}}}},
		{Kind: connector.Update, Anchor: "ou", DN: newOU, Type: "organizationalUnit"},
	}
}

// members returns the anchors of the members of the group in the
// connector space.
func (f *fixture) members(group connector.Anchor) []string {
	f.t.Helper()
	var out []string
	for _, v := range f.csObject("ad", group).Attrs["member"] {
		a, _ := v.Ref()
		out = append(out, string(a))
	}
	return out
}

// A removal by DN that names no object when staged (the rename that gives
// its DN comes later in the delta) is applied when the pass settles, and
// the group, counted unchanged when staged, is counted updated.
func TestRemovalByDNBeforeTheRename(t *testing.T) {
	f, inc, delta := removalByDN(t, memstore.New())
	inc.delta = delta
	res, err := f.eng.DeltaImport(f.ctx, "ad")
	require.NoError(t, err)
	assert.Equal(t, []string{"u1"}, f.members("grp"))
	assert.Equal(t, 1, res.Updates, "the group")
	assert.Zero(t, res.Unchanged)
	assert.Equal(t, 3, res.Renames, "the OU and its two users")
	assert.Equal(t, metaverse.ImportUpdate, f.csObject("ad", "grp").Pending)
}

// A removal by DN left to apply at the end of a delta import is committed
// with the watermark: when settling fails, the watermark stays where it
// was, and the delta imported again removes the member.
func TestRemovalByDNLeftToSettleKeepsTheWatermark(t *testing.T) {
	store := &failNth{Store: memstore.New()}
	f, inc, delta := removalByDN(t, store)
	watermark := func() []byte {
		var wm []byte
		require.NoError(t, f.store.View(f.ctx, func(tx metaverse.Tx) error {
			var err error
			wm, err = tx.Watermark(f.ctx, "ad")
			return err
		}))
		return wm
	}
	before := watermark()

	inc.delta = delta
	store.n.Store(2) // the staging commits, the settling fails
	_, err := f.eng.DeltaImport(f.ctx, "ad")
	require.ErrorIs(t, err, errCommit)
	assert.Equal(t, before, watermark(), "the watermark did not move")
	assert.Equal(t, []string{"u1", "u2"}, f.members("grp"))

	inc.delta = delta
	res, err := f.eng.DeltaImport(f.ctx, "ad")
	require.NoError(t, err)
	assert.Equal(t, 1, res.Updates, "the group")
	assert.Equal(t, 1, res.Unchanged, "the OU, renamed by the staging that committed")
	assert.Equal(t, []string{"u1"}, f.members("grp"))
	assert.NotEqual(t, before, watermark())
}

// BenchmarkFullImportGroupsFirst measures the first full import of 50,000
// users and 10 groups of 5,000 members named by DN, the groups read before
// their members ("first": every member reference is anchored when the pass
// ends) or after them ("last": anchored when staged), on each store.
//
//	go test -run '^$' -bench 'FullImportGroupsFirst' -benchtime 3x .
func BenchmarkFullImportGroupsFirst(b *testing.B) {
	const users, groups, size = 50_000, 10, 5_000
	for _, st := range benchStores {
		for _, order := range []string{"first", "last"} {
			b.Run("store="+st.name+"/groups="+order, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					env := newBenchEnv(b, users, st.open(b), false)
					for g := range groups {
						var members []connector.Value
						for m := range size {
							members = append(members, connector.RefValue("", benchUser(g*size+m).DN))
						}
						prefix := "a" // before the users' "guid-" anchors
						if order == "last" {
							prefix = "z"
						}
						env.ad.Put(connector.Object{Anchor: connector.Anchor(fmt.Sprintf("%s-grp-%d", prefix, g)), DN: fmt.Sprintf("CN=G%d,OU=Groups,DC=contoso,DC=com", g),
							Type: "group", Attrs: connector.Attributes{"cn": s(fmt.Sprint(g)), "member": members}})
					}
					b.StartTimer()
					res, err := env.eng.FullImport(context.Background(), "ad")
					require.NoError(b, err)
					require.Equal(b, users+groups, res.Adds)
					b.StopTimer()
					var dnOnly int
					require.NoError(b, env.store.View(context.Background(), func(tx metaverse.Tx) error {
						for g := range groups {
							o, err := tx.ObjectByAnchor(context.Background(), "ad", connector.Anchor(fmt.Sprintf("%s-grp-%d", map[bool]string{true: "a", false: "z"}[order == "first"], g)))
							if err != nil {
								return err
							}
							for _, v := range o.Attrs["member"] {
								if a, _ := v.Ref(); a == "" {
									dnOnly++
								}
							}
						}
						return nil
					}))
					require.Zero(b, dnOnly, "members left DN-only")
					require.NoError(b, env.store.Close())
					b.StartTimer()
				}
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/import")
			})
		}
	}
}
