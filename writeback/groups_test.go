package writeback_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldap"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/writeback"
)

const graphToken = "graph-token-3c9e1f7a"

// groupWorld is Samba AD (an OU of the test's own with users and a writeback
// OU) and the Graph emulator, synced by the engine with the shipped group
// writeback rules (GroupRules).
type groupWorld struct {
	t      testing.TB
	ctx    context.Context
	env    dirEnv
	admin  *goldap.Conn
	ou     string
	users  []string // AD DNs
	srv    *graphtest.Server
	eng    *idbridge.Engine
	groups string // the writeback OU
}

func newGroupWorld(t testing.TB, nUsers int) *groupWorld {
	env := loadDirEnv(t, "AD", "Samba AD domain controller")
	g := &groupWorld{t: t, ctx: context.Background(), env: env, admin: env.admin(t)}
	g.ou = "OU=" + unique("wbg") + "," + env.base
	g.groups = "OU=Cloud Groups," + g.ou
	for _, dn := range []string{g.ou, "OU=Users," + g.ou, g.groups} {
		req := goldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"organizationalUnit"})
		require.NoError(t, g.admin.Add(req), dn)
	}
	t.Cleanup(func() { deleteTree(g.admin, g.ou) })
	g.users = make([]string, nUsers)
	for i := range g.users {
		g.users[i] = "CN=" + unique("u") + ",OU=Users," + g.ou
	}
	// Four connections add the users in parallel (Samba takes one add at a
	// time per connection).
	var eg errgroup.Group
	for w := range 4 {
		conn := env.admin(t)
		eg.Go(func() error {
			for i := w; i < nUsers; i += 4 {
				sam, _, _ := strings.Cut(strings.TrimPrefix(g.users[i], "CN="), ",")
				req := goldap.NewAddRequest(g.users[i], nil)
				req.Attribute("objectClass", []string{"user"})
				req.Attribute("sAMAccountName", []string{sam})
				req.Attribute("userPrincipalName", []string{sam + "@example.test"})
				if err := conn.Add(req); err != nil {
					return fmt.Errorf("%s: %w", g.users[i], err)
				}
			}
			return nil
		})
	}
	require.NoError(t, eg.Wait())

	g.srv = graphtest.NewServer(graphtest.Options{Token: graphToken, InitialDomain: "contoso.onmicrosoft.com", Domains: []string{"example.test"}})
	t.Cleanup(g.srv.Close)
	aad, err := graphsync.New(graphsync.Config{
		BaseURL: g.srv.URL() + "/v1.0", Credential: graphsync.StaticToken(graphToken), HTTPClient: g.srv.Client(),
		WriteBudget: graphsync.Unlimited, Types: []string{graphsync.TypeUser, graphsync.TypeGroup},
		// Cloud groups are read, never created, by group writeback.
		NoGroupCreates: true,
	})
	require.NoError(t, err)
	t.Cleanup(func() { aad.Close() })
	ad, err := ldap.New(ldap.Config{
		URL: env.url, CAFile: env.ca, BindDN: env.bindDN, Password: connector.NewSecret(env.password),
		Containers: []ldap.Container{{DN: g.ou}},
		Types: []ldap.TypeConfig{
			{Name: "user", ObjectClasses: []string{"user"}, Attributes: []string{"sAMAccountName", "userPrincipalName", "objectGUID"}},
			{Name: "group", ObjectClasses: []string{"group"}, Attributes: []string{"sAMAccountName", "displayName", "groupType", "member"}},
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { ad.Close() })

	rf, err := writeback.GroupRules{OU: g.groups}.File()
	require.NoError(t, err)
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	g.eng, err = idbridge.New(g.ctx, idbridge.Config{Store: store, Connectors: map[string]connector.Connector{"ad": ad, "aad": aad}, Rules: rf})
	require.NoError(t, err)
	g.cycle(idbridge.Initial)
	g.cycle(idbridge.Delta) // the cloud users join back
	return g
}

func (g *groupWorld) cycle(mode idbridge.CycleMode) {
	g.t.Helper()
	res, err := g.eng.Cycle(g.ctx, mode)
	require.NoError(g.t, err)
	require.Empty(g.t, res.Errors())
}

// cloudID returns the cloud object id of the synced user with AD DN dn.
func (g *groupWorld) cloudID(dn string) string {
	g.t.Helper()
	sam, _, _ := strings.Cut(strings.TrimPrefix(dn, "CN="), ",")
	for _, u := range g.srv.Users() {
		if strings.EqualFold(u["userPrincipalName"].(string), sam+"@example.test") {
			return u["id"].(string)
		}
	}
	g.t.Fatalf("no cloud user for %s", dn)
	return ""
}

// adGroups returns the groups in the writeback OU: DN → members.
func (g *groupWorld) adGroups() map[string][]string {
	g.t.Helper()
	res, err := g.admin.Search(goldap.NewSearchRequest(g.groups, goldap.ScopeSingleLevel, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=group)", []string{"member", "groupType", "sAMAccountName"}, nil))
	require.NoError(g.t, err)
	out := map[string][]string{}
	for _, e := range res.Entries {
		m := e.GetAttributeValues("member")
		for i := range m {
			m[i] = strings.ToLower(m[i])
		}
		slices.Sort(m)
		out[strings.ToLower(e.DN)] = m
	}
	return out
}

func lowerSorted(dns ...string) []string {
	out := make([]string, len(dns))
	for i, d := range dns {
		out[i] = strings.ToLower(d)
	}
	slices.Sort(out)
	return out
}

func TestGroupWriteback(t *testing.T) {
	g := newGroupWorld(t, 4)
	u := g.users
	cloudOnly, err := g.srv.CreateUser(map[string]any{"userPrincipalName": "cloudonly@contoso.onmicrosoft.com", "displayName": "Cloud Only", "mailNickname": "cloudonly", "accountEnabled": true, "passwordProfile": map[string]any{"password": "Cl0ud-only-pw-5d1e"}})
	require.NoError(t, err)
	nested, err := g.srv.CreateGroup(map[string]any{"displayName": "Nested", "mailNickname": "nested", "securityEnabled": true, "mailEnabled": false})
	require.NoError(t, err)
	require.NoError(t, g.srv.AddMember(nested, g.cloudID(u[3])))
	sales, err := g.srv.CreateGroup(map[string]any{"displayName": "Sales", "mailNickname": "sales", "securityEnabled": true, "mailEnabled": false})
	require.NoError(t, err)
	for _, m := range []string{g.cloudID(u[0]), g.cloudID(u[1]), g.cloudID(u[2]), cloudOnly, nested} {
		require.NoError(t, g.srv.AddMember(sales, m))
	}
	team, err := g.srv.CreateGroup(map[string]any{"displayName": "Team", "mailNickname": "team", "securityEnabled": false, "mailEnabled": true, "groupTypes": []any{"Unified"}})
	require.NoError(t, err)
	require.NoError(t, g.srv.AddMember(team, g.cloudID(u[0])))
	cloudGroups := len(g.srv.Groups())

	g.cycle(idbridge.Delta)
	salesDN := strings.ToLower("CN=Sales_" + sales[24:] + "," + g.groups)
	nestedDN := strings.ToLower("CN=Nested_" + nested[24:] + "," + g.groups)
	teamDN := strings.ToLower("CN=Team_" + team[24:] + "," + g.groups)
	want := map[string][]string{
		salesDN:  lowerSorted(u[0], u[1], u[2], nestedDN),
		nestedDN: lowerSorted(u[3]),
		teamDN:   lowerSorted(u[0]),
	}
	assert.Equal(t, want, g.adGroups(), "written back, members resolved to on-premises DNs, the cloud-only member left out")

	t.Run("membership changes in the cloud reach AD at the next cycle", func(t *testing.T) {
		require.NoError(t, g.srv.RemoveMember(sales, g.cloudID(u[2])))
		require.NoError(t, g.srv.AddMember(sales, g.cloudID(u[3])))
		g.cycle(idbridge.Delta)
		want[salesDN] = lowerSorted(u[0], u[1], u[3], nestedDN)
		assert.Equal(t, want, g.adGroups())
	})
	t.Run("a group deleted in the cloud is deleted in AD", func(t *testing.T) {
		require.NoError(t, g.srv.Delete(nested))
		g.cycle(idbridge.Delta)
		delete(want, nestedDN)
		want[salesDN] = lowerSorted(u[0], u[1], u[3])
		assert.Equal(t, want, g.adGroups())
	})
	t.Run("no group comes back to the cloud", func(t *testing.T) {
		g.cycle(idbridge.Delta)
		g.cycle(idbridge.Delta)
		assert.Len(t, g.srv.Groups(), cloudGroups-1)
		assert.Equal(t, want, g.adGroups())
	})
}

// TestGroupWritebackLarge: a cloud group of 2,000 synced members is written
// back whole (the connector sends members in modifies of at most
// MaxValuesPerModify values), and a removal of 500 of them follows.
func TestGroupWritebackLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 AD users: not in -short")
	}
	g := newGroupWorld(t, 2000)
	big, err := g.srv.CreateGroup(map[string]any{"displayName": "Everyone", "mailNickname": "everyone", "securityEnabled": true, "mailEnabled": false})
	require.NoError(t, err)
	ids := map[string]string{}
	for _, u := range g.srv.Users() {
		ids[strings.ToLower(u["userPrincipalName"].(string))] = u["id"].(string)
	}
	upn := func(dn string) string {
		sam, _, _ := strings.Cut(strings.TrimPrefix(dn, "CN="), ",")
		return strings.ToLower(sam) + "@example.test"
	}
	for _, dn := range g.users {
		require.NoError(t, g.srv.AddMember(big, ids[upn(dn)]))
	}
	g.cycle(idbridge.Delta)
	bigDN := strings.ToLower("CN=Everyone_" + big[24:] + "," + g.groups)
	assert.Equal(t, map[string][]string{bigDN: lowerSorted(g.users...)}, g.rangedGroups())

	for _, dn := range g.users[:500] {
		require.NoError(t, g.srv.RemoveMember(big, ids[upn(dn)]))
	}
	g.cycle(idbridge.Delta)
	assert.Equal(t, map[string][]string{bigDN: lowerSorted(g.users[500:]...)}, g.rangedGroups())
}

// rangedGroups is adGroups with ranged retrieval of large member lists
// (Samba, like Windows, returns at most 1,500 values at once).
func (g *groupWorld) rangedGroups() map[string][]string {
	g.t.Helper()
	out := g.adGroups()
	for dn := range out {
		var all []string
		for lo := 0; ; lo += 1000 {
			attr := fmt.Sprintf("member;range=%d-%d", lo, lo+999)
			res, err := g.admin.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{attr}, nil))
			require.NoError(g.t, err)
			require.Len(g.t, res.Entries, 1)
			var last bool
			got := 0
			for _, a := range res.Entries[0].Attributes {
				if strings.HasPrefix(strings.ToLower(a.Name), "member;range=") {
					all = append(all, a.Values...)
					got += len(a.Values)
					last = strings.HasSuffix(a.Name, "-*")
				}
			}
			if last || got == 0 {
				break
			}
		}
		for i := range all {
			all[i] = strings.ToLower(all[i])
		}
		slices.Sort(all)
		out[dn] = all
	}
	return out
}
