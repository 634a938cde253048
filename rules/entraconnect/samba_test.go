package entraconnect_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
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
	"github.com/idbridge/idbridge/internal/addir"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules/entraconnect"
)

// TestSambaAD runs the default rules from the Samba AD DC to the Graph
// emulator, through connector/ldap, the engine and graphsync with the real
// SDK, in an OU of the test's own (other tests share the DC). One object
// per exclusion pattern is not exported; the others arrive with their
// UPN, mail, proxyAddresses, manager and group membership, and the source
// anchor written back to mS-DS-ConsistencyGuid.
func TestSambaAD(t *testing.T) {
	ctx := context.Background()
	srv := addir.FromEnv(t)
	admin, err := srv.Dial(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })

	tag := randomHex(3)
	ou := "OU=entraconnect-" + tag + "," + srv.BaseDN
	domain := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(srv.BaseDN, "DC="), ",DC=", "."))
	add := func(dn string, attrs map[string][]string) {
		t.Helper()
		req := goldap.NewAddRequest(dn, nil)
		for k, vs := range attrs {
			req.Attribute(k, vs)
		}
		require.NoError(t, admin.Add(req), dn)
	}
	add(ou, map[string][]string{"objectClass": {"organizationalUnit"}})
	t.Cleanup(func() {
		if os.Getenv("IDBRIDGE_AD_KEEP") == "" {
			deleteTree(admin, ou)
		}
	})
	// A user: sam is its sAMAccountName (unique in the domain: tagged),
	// cn its RDN value as AD stores it.
	user := func(cn, sam string, uac int, extra map[string][]string) string {
		dn := "CN=" + goldap.EscapeDN(cn) + "," + ou
		if strings.Contains(cn, "\n") { // AD escapes the line feed of a CNF name as \0A
			dn = "CN=" + strings.ReplaceAll(cn, "\n", `\0A`) + "," + ou
		}
		attrs := map[string][]string{"objectClass": {"user"}, "sAMAccountName": {sam}, "userAccountControl": {fmt.Sprint(uac)}}
		for k, v := range extra {
			attrs[k] = v
		}
		add(dn, attrs)
		return dn
	}
	const enabled, disabled = 544, 546 // NORMAL_ACCOUNT|PASSWD_NOTREQD, and ACCOUNTDISABLE
	upn := func(n string) string { return n + "-" + tag + "@" + domain }
	preset := []byte{0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}

	boss := user("Boss "+tag, "boss-"+tag, enabled, map[string][]string{
		"userPrincipalName": {upn("boss")}, "givenName": {"Bea"}, "sn": {"Boss"}, "displayName": {"Bea Boss"},
		"mail": {upn("boss")}, "proxyAddresses": {"SMTP:" + upn("boss"), "smtp:bb-" + tag + "@" + domain}, "department": {"Sales"}})
	emp := user("Emp "+tag, "emp-"+tag, enabled, map[string][]string{
		"userPrincipalName": {upn("emp")}, "givenName": {"Eli"}, "sn": {"Emp"}, "manager": {boss},
		// No mail: the primary SMTP address of proxyAddresses is the mail.
		"proxyAddresses": {"smtp:eli-" + tag + "@" + domain, "SMTP:" + upn("emp")}})
	user("Dis "+tag, "dis-"+tag, disabled, map[string][]string{"userPrincipalName": {upn("dis")}})
	user("Pre "+tag, "pre-"+tag, enabled, map[string][]string{"userPrincipalName": {upn("pre")}, "mS-DS-ConsistencyGuid": {string(preset)}})
	user("NoUPN "+tag, "noupn-"+tag, enabled, nil) // UPN: sAMAccountName@ the domain

	excluded := map[string]string{ // cn → what leaves it out
		"MSOL_" + tag:                            "MSOL_ service account",
		"AAD_" + tag:                             "AAD_ service account",
		"Sync_" + tag + "_srv":                   "Sync_ service account",
		"Carol " + tag + "\nCNF:" + uuid():       "CNF: conflict object",
		"SystemMailbox{" + uuid() + "}":          "SystemMailbox{…} arbitration mailbox",
		"DiscoverySearchMailbox{" + uuid() + "}": "DiscoverySearchMailbox",
		"FederatedEmail." + uuid():               "FederatedEmail. arbitration mailbox",
		"Migration." + uuid():                    "Migration. arbitration mailbox",
	}
	var msol string
	i := 0
	for cn := range excluded {
		sam := cn
		if len(sam) > 20 || strings.ContainsAny(sam, "\n{}") { // sAMAccountName: at most 20 characters, no braces
			sam = fmt.Sprintf("x%d-%s", i, tag)
		}
		i++
		dn := user(cn, sam, enabled, map[string][]string{"userPrincipalName": {fmt.Sprintf("excluded%d-%s@%s", i, tag, domain)}})
		if strings.HasPrefix(cn, "MSOL_") {
			msol = dn
		}
	}
	add("CN=Staff "+tag+","+ou, map[string][]string{"objectClass": {"group"}, "sAMAccountName": {"staff-" + tag},
		"groupType": {"-2147483646"}, "member": {boss, emp, msol}})
	add("CN=Staff "+tag+`\0ACNF:`+uuid()+","+ou, map[string][]string{"objectClass": {"group"}, "sAMAccountName": {"staffcnf-" + tag},
		"groupType": {"-2147483646"}, "member": {boss}})

	// The Graph tenant and the connectors. krbtgt, a critical system
	// object, is imported too (its own container): it must not leave.
	tenant := graphtest.NewServer(graphtest.Options{Token: "t", Domains: []string{domain}, InitialDomain: "contoso.onmicrosoft.com"})
	t.Cleanup(tenant.Close)
	cloud, err := graphsync.New(graphsync.Config{
		BaseURL: tenant.URL() + "/v1.0", Credential: graphsync.StaticToken("t"), HTTPClient: tenant.Client(),
		Types: []string{graphsync.TypeUser, graphsync.TypeGroup}, GroupAnchor: groupAnchor, WriteBudget: graphsync.Unlimited,
	})
	require.NoError(t, err)
	forest := entraconnect.Forest{Connector: "ad"}
	ad, err := ldap.New(ldap.Config{
		URL: srv.URL, CAFile: srv.CAFile, BindDN: srv.BindDN, Password: connector.NewSecret(srv.Password),
		Containers: []ldap.Container{{DN: ou}, {DN: "CN=krbtgt,CN=Users," + srv.BaseDN}},
		Types: []ldap.TypeConfig{
			{Name: "user", ObjectClasses: []string{"user"}, Attributes: entraconnect.Attributes("user", forest)},
			{Name: "group", ObjectClasses: []string{"group"}, Attributes: entraconnect.Attributes("group", forest)},
		},
		NoContainerTypes: true,
	})
	require.NoError(t, err)
	t.Cleanup(func() { ad.Close() })
	f, err := entraconnect.Load(entraconnect.Options{GroupAnchor: groupAnchor})
	require.NoError(t, err)
	store := memstore.New()
	eng, err := idbridge.New(ctx, idbridge.Config{Store: store, Connectors: map[string]connector.Connector{"ad": ad, "cloud": cloud}, Rules: f})
	require.NoError(t, err)
	t.Cleanup(func() { eng.Close() })

	// An initial cycle, then a delta cycle: the manager reference and
	// the writeback confirm on the second.
	for _, mode := range []idbridge.CycleMode{idbridge.Initial, idbridge.Delta} {
		cr, err := eng.Cycle(ctx, mode)
		require.NoError(t, err)
		for _, r := range cr.Runs {
			for _, e := range r.Errors {
				t.Errorf("%s %s: %v", r.Connector, r.Profile, e)
			}
		}
	}

	users := map[string]map[string]any{} // by UPN
	for _, u := range tenant.Users() {
		users[u["userPrincipalName"].(string)] = u
	}
	t.Run("exclusions", func(t *testing.T) {
		want := []string{upn("boss"), upn("dis"), upn("emp"), upn("pre"), "noupn-" + tag + "@" + domain}
		var got []string
		for n := range users {
			got = append(got, n)
		}
		assert.ElementsMatch(t, want, got, "one object per exclusion pattern (%d) and krbtgt stay on-premises", len(excluded))
		var krbtgt *metaverse.CSObject
		require.NoError(t, store.View(ctx, func(tx metaverse.Tx) (err error) {
			krbtgt, err = tx.ObjectByDN(ctx, "ad", "CN=krbtgt,CN=Users,"+srv.BaseDN)
			return err
		}))
		require.NotNil(t, krbtgt, "krbtgt was imported")
		assert.True(t, krbtgt.Attrs["isCriticalSystemObject"][0].Bool())
		assert.Empty(t, krbtgt.EntryID, "a critical system object is a disconnector")
		for _, g := range tenant.Groups() {
			assert.NotContains(t, g["displayName"], "CNF:", "a CNF group")
		}
	})

	guid := func(dn string) (objectGUID, consistency []byte) {
		res, err := admin.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"objectGUID", "mS-DS-ConsistencyGuid"}, nil))
		require.NoError(t, err)
		require.Len(t, res.Entries, 1)
		e := res.Entries[0]
		return e.GetRawAttributeValue("objectGUID"), e.GetRawAttributeValue("mS-DS-ConsistencyGuid")
	}
	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"ConsistencyGuid empty: objectGUID, written back", func(t *testing.T) {
			og, cg := guid(boss)
			assert.Equal(t, og, cg, "mS-DS-ConsistencyGuid written back")
			assert.Equal(t, base64.StdEncoding.EncodeToString(og), users[upn("boss")]["onPremisesImmutableId"])
		}},
		{"ConsistencyGuid set: kept and used", func(t *testing.T) {
			_, cg := guid("CN=Pre " + tag + "," + ou)
			assert.Equal(t, preset, cg)
			assert.Equal(t, base64.StdEncoding.EncodeToString(preset), users[upn("pre")]["onPremisesImmutableId"])
		}},
		{"UPN, mail, proxyAddresses", func(t *testing.T) {
			b := users[upn("boss")]
			assert.Equal(t, upn("boss"), b["mail"])
			assert.Equal(t, "Bea Boss", b["displayName"])
			assert.Equal(t, "Sales", b["department"])
			assert.Contains(t, b["proxyAddresses"], "SMTP:"+upn("boss"))
			assert.Equal(t, upn("emp"), users[upn("emp")]["mail"], "the primary SMTP address")
			assert.Contains(t, users, "noupn-"+tag+"@"+domain, "sAMAccountName@domain")
		}},
		{"accountEnabled", func(t *testing.T) {
			assert.Equal(t, true, users[upn("boss")]["accountEnabled"])
			assert.Equal(t, false, users[upn("dis")]["accountEnabled"])
		}},
		{"manager", func(t *testing.T) {
			assert.Equal(t, users[upn("boss")]["id"], users[upn("emp")]["manager"])
		}},
		{"membership", func(t *testing.T) {
			gs := tenant.Groups()
			require.Len(t, gs, 1)
			assert.Equal(t, "Staff "+tag, gs[0]["displayName"])
			assert.ElementsMatch(t, []string{users[upn("boss")]["id"].(string), users[upn("emp")]["id"].(string)}, gs[0]["members"],
				"the excluded MSOL_ member is not a member in the cloud")
			_, cg := guid("CN=Staff " + tag + "," + ou)
			assert.Equal(t, base64.StdEncoding.EncodeToString(cg), gs[0][groupAnchor], "the group's anchor, written back too")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.check)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// deleteTree deletes dn and everything under it, deepest first.
func deleteTree(c *goldap.Conn, dn string) {
	res, err := c.SearchWithPaging(goldap.NewSearchRequest(dn, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil), 1000)
	if err != nil {
		return
	}
	depth := func(s string) int { return strings.Count(s, ",") }
	entries := res.Entries
	for d := 30; d >= 0; d-- {
		for _, e := range entries {
			if depth(e.DN) == d {
				c.Del(goldap.NewDelRequest(e.DN, nil))
			}
		}
	}
}
