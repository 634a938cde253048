package idbridge_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/boltstore"
)

// A member or a manager that cannot be resolved when its group or report
// syncs — not in the connector space yet, out of the inbound scope, out of
// the outbound scope — is exported by the next delta cycle once it
// arrives, with no full sync. The waits are kept in every store.
func TestReferencesThatArriveLater(t *testing.T) {
	tests := []struct {
		name   string
		before func(f *fixture) // u2 as it is when the group and u1 sync
		arrive func(f *fixture) // u2 arrives
	}{
		{
			name:   "not in the connector space",
			before: func(f *fixture) {},
			arrive: func(f *fixture) { f.adUser("u2", "E2", "Bea", "Two", 512, nil) },
		},
		{
			name: "out of the inbound scope",
			before: func(f *fixture) {
				f.adUser("u2", "E2", "Bea", "Two", 512, nil)
				o, _ := f.ad.Get("u2")
				delete(o.Attrs, "employeeID")
				f.ad.Put(o)
			},
			arrive: func(f *fixture) {
				require.NoError(f.t, f.ad.Modify("u2", connector.Mod{Name: "employeeID", Op: connector.ModReplace, Values: s("E2")}))
			},
		},
		{
			name: "out of the outbound scope",
			before: func(f *fixture) {
				f.adUser("u2", "E2", "Bea", "Two", 512, nil)
				require.NoError(f.t, f.ad.Modify("u2", connector.Mod{Name: "mail", Op: connector.ModRemove}))
			},
			arrive: func(f *fixture) {
				require.NoError(f.t, f.ad.Modify("u2", connector.Mod{Name: "mail", Op: connector.ModReplace, Values: s("bea@contoso.com")}))
			},
		},
	}
	for _, st := range benchStores {
		for _, tt := range tests {
			t.Run("store="+st.name+"/"+tt.name, func(t *testing.T) {
				testReferenceArrivingLater(t, newFixtureCfg(t, fixtureConfig{store: st.open(t)}), tt.before, tt.arrive)
			})
		}
	}
}

func testReferenceArrivingLater(t *testing.T, f *fixture, before, arrive func(*fixture)) {
	f.adUser("u1", "E1", "Ann", "One", 512, connector.Attributes{"manager": {connector.RefValue("u2", "")}})
	before(f)
	f.ad.Put(connector.Object{Anchor: "g1", DN: "CN=Staff,OU=Groups,DC=contoso,DC=com", Type: "group",
		Attrs: connector.Attributes{"cn": s("Staff"), "member": {connector.RefValue("u1", ""), connector.RefValue("u2", "")}}})
	f.cycle(idbridge.Initial)
	grp, ok := f.cloud.ByDN("cn=Staff,ou=groups")
	require.True(t, ok)
	require.Len(t, grp.Attrs["members"], 1, "u2 is not there yet")
	ann, ok := f.cloud.ByDN("cn=E1,ou=users")
	require.True(t, ok)
	require.Empty(t, ann.Attrs["manager"])
	f.cycle(idbridge.Delta) // the target's import confirms the exports

	arrive(f)
	cr := f.cycle(idbridge.Delta)
	assert.Empty(t, cr.Errors())
	_, ok = f.cloud.ByDN("cn=E2,ou=users")
	require.True(t, ok, "u2 is exported")
	grp, _ = f.cloud.ByDN("cn=Staff,ou=groups")
	assert.ElementsMatch(t, []string{"cn=e1,ou=users", "cn=e2,ou=users"}, f.refDNs(grp.Attrs["members"]), "the member is exported by the delta cycle")
	ann, _ = f.cloud.ByDN("cn=E1,ou=users")
	assert.Equal(t, []string{"cn=e2,ou=users"}, f.refDNs(ann.Attrs["manager"]), "the manager is exported by the delta cycle")

	// Settled: another delta cycle writes nothing.
	n := len(f.cloud.Exported)
	f.cycle(idbridge.Delta)
	assert.Len(t, f.cloud.Exported, n)
}

// refDNs returns the folded DNs of the cloud objects that references
// name (by anchor, else by DN).
func (f *fixture) refDNs(vs []connector.Value) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		a, dn := v.Ref()
		if o, ok := f.cloud.Get(a); ok {
			dn = o.DN
		}
		out = append(out, connector.FoldDN(dn))
	}
	return out
}

// A wait outlives the engine that recorded it: another engine on the same
// store resolves the reference when its target arrives.
func TestReferenceWaitsSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mv.db")
	open := func() metaverse.Store {
		st, err := boltstore.Open(path, nil)
		require.NoError(t, err)
		return st
	}
	f := newFixtureCfg(t, fixtureConfig{store: open()})
	f.adUser("u1", "E1", "Ann", "One", 512, connector.Attributes{"manager": {connector.RefValue("u2", "")}})
	f.cycle(idbridge.Initial)
	f.cycle(idbridge.Delta)
	require.NoError(t, f.store.Close())

	// A new engine on the same store, with the same systems.
	g := newFixtureCfg(t, fixtureConfig{store: open(), systems: f})
	g.adUser("u2", "E2", "Bea", "Two", 512, nil)
	g.cycle(idbridge.Delta)
	ann, ok := g.cloud.ByDN("cn=E1,ou=users")
	require.True(t, ok)
	assert.Equal(t, []string{"cn=e2,ou=users"}, g.refDNs(ann.Attrs["manager"]))
}
