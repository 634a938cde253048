package e2e_test

import (
	"context"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldap"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
	"github.com/idbridge/idbridge/internal/adcodec"
	"github.com/idbridge/idbridge/internal/addir"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

//go:embed testdata/rules.yaml
var rulesYAML []byte

// groupAnchor is the directory extension that carries a group's source
// anchor in the cloud (as in the quickstart).
const groupAnchor = "extension_8f1a2b3c4d5e4f60a1b2c3d4e5f60718_sourceAnchor"

// cloudUser and cloudGroup are what the test compares: the synced
// properties, and a group's members by source anchor.
type cloudUser struct {
	UPN, DisplayName, GivenName, Surname, Mail, Department string
	Enabled                                                bool
}

type cloudGroup struct {
	DisplayName, MailNickname string
	Security                  bool
	Members                   map[string]bool // source anchors
}

type cloud struct {
	Users  map[string]cloudUser  // by source anchor (onPremisesImmutableId)
	Groups map[string]cloudGroup // by source anchor (groupAnchor)
}

// expected computes what the cloud should hold from the directory under
// root, read with plain LDAP: every user outside OU=Service Accounts and
// every group, with the members that are themselves in the cloud.
func expected(t *testing.T, c *goldap.Conn, root string) cloud {
	t.Helper()
	res, err := c.SearchWithPaging(goldap.NewSearchRequest(root, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(|(objectClass=user)(objectClass=group))", []string{"objectClass", "objectGUID", "userPrincipalName", "displayName", "givenName", "sn",
			"mail", "department", "userAccountControl", "cn", "sAMAccountName", "groupType", "member"}, nil), 1000)
	require.NoError(t, err)
	anchorOf := map[string]string{} // folded DN → anchor, of what is in the cloud
	isGroup := func(e *goldap.Entry) bool {
		for _, oc := range e.GetAttributeValues("objectClass") {
			if strings.EqualFold(oc, "group") {
				return true
			}
		}
		return false
	}
	inScope := func(dn string) bool { return !strings.Contains(strings.ToLower(dn), "ou=service accounts") }
	for _, e := range res.Entries {
		if isGroup(e) || inScope(e.DN) {
			anchorOf[connector.FoldDN(e.DN)] = base64.StdEncoding.EncodeToString(e.GetRawAttributeValue("objectGUID"))
		}
	}
	want := cloud{Users: map[string]cloudUser{}, Groups: map[string]cloudGroup{}}
	for _, e := range res.Entries {
		a, ok := anchorOf[connector.FoldDN(e.DN)]
		if !ok {
			continue
		}
		if isGroup(e) {
			g := cloudGroup{DisplayName: e.GetAttributeValue("displayName"), MailNickname: e.GetAttributeValue("sAMAccountName"), Members: map[string]bool{}}
			if g.DisplayName == "" {
				g.DisplayName = e.GetAttributeValue("cn")
			}
			gt, _ := strconv.ParseInt(e.GetAttributeValue("groupType"), 10, 64)
			g.Security = gt&0x80000000 != 0
			for _, m := range e.GetAttributeValues("member") {
				if ma, ok := anchorOf[connector.FoldDN(m)]; ok {
					g.Members[ma] = true
				}
			}
			want.Groups[a] = g
			continue
		}
		uac, _ := strconv.Atoi(e.GetAttributeValue("userAccountControl"))
		u := cloudUser{UPN: strings.ToLower(e.GetAttributeValue("userPrincipalName")), DisplayName: e.GetAttributeValue("displayName"),
			GivenName: e.GetAttributeValue("givenName"), Surname: e.GetAttributeValue("sn"), Mail: strings.ToLower(e.GetAttributeValue("mail")),
			Department: e.GetAttributeValue("department"), Enabled: uac&2 == 0}
		if u.DisplayName == "" {
			u.DisplayName = u.GivenName + " " + u.Surname
		}
		want.Users[a] = u
	}
	return want
}

// actual reads the emulator's tenant.
func actual(srv *graphtest.Server) cloud {
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	got := cloud{Users: map[string]cloudUser{}, Groups: map[string]cloudGroup{}}
	anchorOfID := map[string]string{}
	users, groups := srv.Users(), srv.Groups()
	for _, u := range users {
		anchorOfID[str(u, "id")] = str(u, "onPremisesImmutableId")
	}
	for _, g := range groups {
		anchorOfID[str(g, "id")] = str(g, groupAnchor)
	}
	for _, u := range users {
		enabled, _ := u["accountEnabled"].(bool)
		got.Users[str(u, "onPremisesImmutableId")] = cloudUser{UPN: strings.ToLower(str(u, "userPrincipalName")), DisplayName: str(u, "displayName"),
			GivenName: str(u, "givenName"), Surname: str(u, "surname"), Mail: strings.ToLower(str(u, "mail")), Department: str(u, "department"), Enabled: enabled}
	}
	for _, g := range groups {
		sec, _ := g["securityEnabled"].(bool)
		cg := cloudGroup{DisplayName: str(g, "displayName"), MailNickname: str(g, "mailNickname"), Security: sec, Members: map[string]bool{}}
		members, _ := g["members"].([]string)
		for _, id := range members {
			cg.Members[anchorOfID[id]] = true
		}
		got.Groups[str(g, groupAnchor)] = cg
	}
	return got
}

// assertCloud compares the emulator with the directory, object by object
// (a whole-map diff of 1,000 users would be unreadable).
func assertCloud(t *testing.T, when string, want, got cloud) {
	t.Helper()
	missing, extra, differ := 0, 0, 0
	for a, w := range want.Users {
		g, ok := got.Users[a]
		switch {
		case !ok:
			missing++
			if missing <= 5 {
				t.Errorf("%s: user %s (%s) is not in the cloud", when, w.UPN, a)
			}
		case g != w:
			differ++
			if differ <= 5 {
				t.Errorf("%s: user %s:\nwant %+v\ngot  %+v", when, a, w, g)
			}
		}
	}
	for a, g := range got.Users {
		if _, ok := want.Users[a]; !ok {
			extra++
			if extra <= 5 {
				t.Errorf("%s: user %s (%s) should not be in the cloud", when, g.UPN, a)
			}
		}
	}
	for a, w := range want.Groups {
		g, ok := got.Groups[a]
		if !ok {
			missing++
			t.Errorf("%s: group %s (%s) is not in the cloud", when, w.DisplayName, a)
			continue
		}
		assert.Equal(t, w.DisplayName, g.DisplayName, "%s: group %s", when, a)
		assert.Equal(t, w.MailNickname, g.MailNickname, "%s: group %s", when, a)
		assert.Equal(t, w.Security, g.Security, "%s: group %s", when, a)
		var lost, more int
		for m := range w.Members {
			if !g.Members[m] {
				lost++
			}
		}
		for m := range g.Members {
			if !w.Members[m] {
				more++
			}
		}
		assert.Zero(t, lost, "%s: group %s (%d members): members missing in the cloud", when, w.DisplayName, len(w.Members))
		assert.Zero(t, more, "%s: group %s (%d members): members in the cloud but not in AD", when, w.DisplayName, len(w.Members))
	}
	for a, g := range got.Groups {
		if _, ok := want.Groups[a]; !ok {
			extra++
			t.Errorf("%s: group %s (%s) should not be in the cloud", when, g.DisplayName, a)
		}
	}
	assert.Zero(t, missing+extra+differ, "%s: %d missing, %d extra, %d different (of %d users, %d groups)",
		when, missing, extra, differ, len(want.Users), len(want.Groups))
}

// cycle runs a cycle that must report no object error.
func cycle(t *testing.T, eng *idbridge.Engine, mode idbridge.CycleMode) *idbridge.CycleResult {
	t.Helper()
	c, err := eng.Cycle(context.Background(), mode)
	require.NoError(t, err, "%s cycle", mode)
	for _, r := range c.Runs {
		t.Logf("%s cycle: %s", mode, r)
	}
	for _, e := range c.Errors() {
		t.Errorf("%s cycle: %v", mode, e)
	}
	return c
}

// TestADToGraph: a directory of a thousand users, nested and large groups
// on Samba AD, synced by the engine with the quickstart's rules to the
// Graph emulator, matches what the directory says — after the initial
// cycle, and after one delta cycle carrying a morning's worth of mixed
// changes — and a further delta cycle and a full cycle then write nothing.
func TestADToGraph(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a directory of thousands of objects on the DC: not with -short")
	}
	ctx := context.Background()
	d := addir.New(t, addir.Shape{OUs: 3, Users: 900, Groups: 8, GroupSize: 15, LargeGroups: []int{700}, DisabledEvery: 13, ManagerSpan: 10})
	admin, err := d.Server.Dial(ctx)
	require.NoError(t, err)
	defer admin.Close()

	// Service accounts stay on-premises (the rules' scope). Some are in a
	// group and one manages a synced user: they move into scope later.
	svc := "OU=Service Accounts," + d.Root
	require.NoError(t, addir.Add(admin, svc, map[string][]string{"objectClass": {"organizationalUnit"}}))
	var svcUsers []string
	tag := d.Users[0].Name[:7]
	for i := range 20 {
		u := addir.User{Name: fmt.Sprintf("%s-s%02d", tag, i), UPN: fmt.Sprintf("%s-s%02d@example.test", tag, i)}
		u.DN = "CN=" + u.Name + "," + svc
		require.NoError(t, addir.Add(admin, u.DN, u.Attrs()))
		svcUsers = append(svcUsers, u.DN)
	}
	small := d.AllGroups[1]
	modify(t, admin, small.DN, func(m *goldap.ModifyRequest) { m.Add("member", svcUsers[:5]) })
	report := d.Users[71].DN
	modify(t, admin, report, func(m *goldap.ModifyRequest) { m.Replace("manager", []string{svcUsers[0]}) })

	srv := graphtest.NewServer(graphtest.Options{Token: "e2e", Domains: []string{"example.test"}, InitialDomain: "contoso.onmicrosoft.com"})
	defer srv.Close()
	cloudConn, err := graphsync.New(graphsync.Config{
		BaseURL: srv.URL() + "/v1.0", Credential: graphsync.StaticToken("e2e"), HTTPClient: srv.Client(),
		Types: []string{graphsync.TypeUser, graphsync.TypeGroup}, Extensions: []string{groupAnchor}, GroupAnchor: groupAnchor,
		WriteBudget: graphsync.Unlimited,
	})
	require.NoError(t, err)
	defer cloudConn.Close()
	adConn, err := ldap.New(ldap.Config{
		URL: d.Server.URL, CAFile: d.Server.CAFile, BindDN: d.Server.BindDN, Password: connector.NewSecret(d.Server.Password),
		Containers: []ldap.Container{{DN: d.Root}},
		Types: []ldap.TypeConfig{
			{Name: "user", ObjectClasses: []string{"user"}, Attributes: []string{"cn", "sAMAccountName", "userPrincipalName", "givenName", "sn",
				"displayName", "mail", "proxyAddresses", "department", "title", "employeeID", "telephoneNumber", "manager", "userAccountControl"}},
			{Name: "group", ObjectClasses: []string{"group"}, Attributes: []string{"cn", "sAMAccountName", "displayName", "mail", "groupType", "member"}},
		},
	})
	require.NoError(t, err)
	defer adConn.Close()
	rf, err := rules.Parse("rules.yaml", rulesYAML)
	require.NoError(t, err)
	eng, err := idbridge.New(ctx, idbridge.Config{
		Store:      memstore.New(),
		Connectors: map[string]connector.Connector{"ad": adConn, "cloud": cloudConn},
		Rules:      rf,
	})
	require.NoError(t, err)
	defer eng.Close()

	cycle(t, eng, idbridge.Initial)
	assertCloud(t, "initial cycle", expected(t, admin, d.Root), actual(srv))

	// A morning's changes, all before the next delta cycle.
	users := d.Users
	// Large membership changes: 300 members leave the large group, and a
	// new group of 600 members appears.
	big := d.AllGroups[len(d.AllGroups)-1]
	modify(t, admin, big.DN, func(m *goldap.ModifyRequest) { m.Delete("member", big.Members[400:700]) })
	var newMembers []string
	for _, u := range users[100:700] {
		newMembers = append(newMembers, u.DN)
	}
	require.NoError(t, addir.Add(admin, "CN="+tag+"-new,"+d.Groups, map[string][]string{"objectClass": {"group"}, "sAMAccountName": {tag + "-new"}, "member": newMembers}))
	// Renames (a new cn, hence DN) and new display names.
	for _, u := range users[1:11] {
		rdn := "CN=" + u.Name + "-renamed"
		require.NoError(t, admin.ModifyDN(goldap.NewModifyDNRequest(u.DN, rdn, true, "")), u.DN)
	}
	for _, u := range users[11:21] {
		modify(t, admin, u.DN, func(m *goldap.ModifyRequest) { m.Replace("displayName", []string{"Renamed " + u.Name}) })
	}
	// Out of scope and into it: the service accounts that are members of
	// a synced group, and the one that manages a synced user, enter it
	// after their group and their report were synced.
	for _, u := range users[21:36] {
		rdn, _, _ := strings.Cut(u.DN, ",")
		require.NoError(t, admin.ModifyDN(goldap.NewModifyDNRequest(u.DN, rdn, true, svc)), u.DN)
	}
	for _, dn := range svcUsers[:10] {
		rdn, _, _ := strings.Cut(dn, ",")
		require.NoError(t, admin.ModifyDN(goldap.NewModifyDNRequest(dn, rdn, true, d.OUs[0])), dn)
	}
	// Disables and deletes.
	for _, u := range users[36:56] {
		modify(t, admin, u.DN, func(m *goldap.ModifyRequest) { m.Replace("userAccountControl", []string{"546"}) })
	}
	for _, u := range users[56:66] {
		require.NoError(t, admin.Del(goldap.NewDelRequest(u.DN, nil)), u.DN)
	}
	// An OU rename, then a membership change under the OU's new DN.
	oldOU, newOU := d.OUs[2], "OU=Dept02-renamed,"+d.Root
	require.NoError(t, admin.ModifyDN(goldap.NewModifyDNRequest(oldOU, "OU=Dept02-renamed", true, "")))
	under := func(dn string) string { return strings.Replace(dn, oldOU, newOU, 1) }
	g2 := d.AllGroups[2]
	var leaving string
	for _, m := range g2.Members {
		if strings.HasSuffix(m, ","+oldOU) {
			leaving = under(m)
			break
		}
	}
	require.NotEmpty(t, leaving)
	joining := under(users[800].DN) // user 800 is in Dept02 (800 % 3 == 2)
	require.NotContains(t, g2.Members, users[800].DN)
	modify(t, admin, g2.DN, func(m *goldap.ModifyRequest) {
		m.Add("member", []string{joining})
		m.Delete("member", []string{leaving})
	})

	cycle(t, eng, idbridge.Delta)
	want := expected(t, admin, d.Root)
	assertCloud(t, "delta cycle", want, actual(srv))
	// graphsync does not export manager: the metaverse says whether the
	// report's manager, who entered the scope after the report was
	// synced, was resolved.
	assert.Equal(t, entryOf(t, eng, guidOf(t, admin, d.Root, svcUsers[0])), managerOf(t, eng, guidOf(t, admin, d.Root, report)),
		"the report's manager in the metaverse is the service account that moved into scope")

	writes := srv.Writes()
	cycle(t, eng, idbridge.Delta)
	assert.Equal(t, writes, srv.Writes(), "a delta cycle with no change in AD writes nothing")
	full := cycle(t, eng, idbridge.Initial)
	assert.Equal(t, writes, srv.Writes(), "a full cycle with no change in AD writes nothing")
	for _, r := range full.Runs {
		if r.Connector == "ad" && r.Profile == idbridge.FullImport {
			// Every DN and every reference the delta changed is in the
			// connector space already. (What a full import still updates
			// are references to the deleted users, which AD drops from
			// their groups and reports without reporting those.)
			assert.Zero(t, r.Renames, "renames left for the full import")
			assert.LessOrEqual(t, r.Updates, 20, "updates left for the full import")
		}
	}
	assertCloud(t, "full cycle", want, actual(srv))
}

func modify(t *testing.T, c *goldap.Conn, dn string, f func(*goldap.ModifyRequest)) {
	t.Helper()
	m := goldap.NewModifyRequest(dn, nil)
	f(m)
	require.NoError(t, c.Modify(m), dn)
}

// guidOf returns the objectGUID of the entry that was at dn, found under
// root by its sAMAccountName wherever it is now.
func guidOf(t *testing.T, c *goldap.Conn, root, dn string) []byte {
	t.Helper()
	rdn, _, _ := strings.Cut(dn, ",")
	name := strings.TrimPrefix(rdn, "CN=")
	res, err := c.Search(goldap.NewSearchRequest(root, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(sAMAccountName="+goldap.EscapeFilter(name)+")", []string{"objectGUID"}, nil))
	require.NoError(t, err)
	require.Len(t, res.Entries, 1)
	return res.Entries[0].GetRawAttributeValue("objectGUID")
}

// entryOf returns the metaverse entry the AD object with guid is linked to.
func entryOf(t *testing.T, eng *idbridge.Engine, guid []byte) string {
	t.Helper()
	var id string
	require.NoError(t, eng.Store().View(context.Background(), func(tx metaverse.Tx) error {
		o, err := tx.ObjectByAnchor(context.Background(), "ad", connector.Anchor(adcodec.GUIDString(guid)))
		if err != nil {
			return err
		}
		id = o.EntryID
		return nil
	}))
	return id
}

// managerOf returns the metaverse entry that is the manager of the AD
// user with guid ("" when it has none).
func managerOf(t *testing.T, eng *idbridge.Engine, guid []byte) string {
	t.Helper()
	id, manager := entryOf(t, eng, guid), ""
	require.NoError(t, eng.Store().View(context.Background(), func(tx metaverse.Tx) error {
		e, err := tx.Entry(context.Background(), id)
		if err != nil {
			return err
		}
		for _, v := range e.Attrs["manager"] {
			a, _ := v.Ref()
			manager = string(a)
		}
		return nil
	}))
	return manager
}
