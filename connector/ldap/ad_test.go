package ldap_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/ldap"
	"github.com/idbridge/idbridge/internal/testenv"
)

// adEnv is the Samba AD DC that scripts/servers/samba-ad.sh started. There
// is one per machine: each test works in an OU of its own.
type adEnv struct{ url, startTLS, base, bindDN, password, ca string }

func getAD(t testing.TB) adEnv {
	t.Helper()
	return adEnv{
		url:      testenv.Get(t, "IDBRIDGE_AD_URL", "Samba AD domain controller"),
		startTLS: os.Getenv("IDBRIDGE_AD_STARTTLS_URL"),
		base:     os.Getenv("IDBRIDGE_AD_BASE_DN"),
		bindDN:   os.Getenv("IDBRIDGE_AD_BIND_DN"),
		password: os.Getenv("IDBRIDGE_AD_PASSWORD"),
		ca:       os.Getenv("IDBRIDGE_AD_CA"),
	}
}

func (e adEnv) admin(t testing.TB) *goldap.Conn {
	t.Helper()
	c, err := goldap.DialURL(e.url, goldap.DialWithTLSConfig(tlsConfig(t, e.ca)))
	require.NoError(t, err)
	require.NoError(t, c.Bind(e.bindDN, e.password))
	t.Cleanup(func() { c.Close() })
	return c
}

func (e adEnv) newOU(t testing.TB, c *goldap.Conn) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	ou := "OU=t" + hex.EncodeToString(b) + "," + e.base
	for _, dn := range []string{ou, "OU=Users," + ou, "OU=Groups," + ou, "OU=Moved," + ou} {
		req := goldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"organizationalUnit"})
		require.NoError(t, c.Add(req), dn)
	}
	t.Cleanup(func() {
		if os.Getenv("IDBRIDGE_AD_KEEP") == "" {
			deleteTree(c, ou)
		}
	})
	return ou
}

func (e adEnv) config(ou string) ldap.Config {
	return ldap.Config{
		URL: e.url, CAFile: e.ca, BindDN: e.bindDN, Password: connector.NewSecret(e.password),
		Containers: []ldap.Container{{DN: ou}},
		Types: []ldap.TypeConfig{
			{Name: "user", ObjectClasses: []string{"user"}, Filter: "(!(objectClass=computer))", Attributes: []string{
				"cn", "sAMAccountName", "userPrincipalName", "givenName", "sn", "displayName", "mail", "title",
				"department", "manager", "userAccountControl", "mS-DS-ConsistencyGuid"}},
			{Name: "group", ObjectClasses: []string{"group"}, Attributes: []string{"cn", "sAMAccountName", "member", "groupType", "description"}},
		},
		PageSize: 50,
	}
}

func adUser(t testing.TB, c *goldap.Conn, ou string, name string, extra map[string][]string) string {
	t.Helper()
	dn := "CN=" + name + ",OU=Users," + ou
	req := goldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"user"})
	req.Attribute("sAMAccountName", []string{name})
	req.Attribute("userPrincipalName", []string{name + "@example.test"})
	req.Attribute("sn", []string{name})
	for k, v := range extra {
		req.Attribute(k, v)
	}
	require.NoError(t, c.Add(req), dn)
	return dn
}

func uniqueName(prefix string) string {
	b := make([]byte, 3)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func TestADFullImportAndDirSyncDelta(t *testing.T) {
	env := getAD(t)
	ctx := context.Background()
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	names := make([]string, 5)
	dns := make([]string, 5)
	for i := range names {
		names[i] = uniqueName(fmt.Sprintf("u%d", i))
		dns[i] = adUser(t, admin, ou, names[i], map[string][]string{"title": {"Engineer"}})
	}
	grpDN := "CN=" + uniqueName("g") + ",OU=Groups," + ou
	grp := goldap.NewAddRequest(grpDN, nil)
	grp.Attribute("objectClass", []string{"group"})
	grp.Attribute("sAMAccountName", []string{uniqueName("g")})
	grp.Attribute("member", []string{dns[0], dns[1]})
	require.NoError(t, admin.Add(grp))

	c, err := ldap.New(env.config(ou))
	require.NoError(t, err)
	defer c.Close()
	d, err := c.Dialect(ctx)
	require.NoError(t, err)
	require.Equal(t, ldap.ActiveDirectory, d)
	s, err := c.Schema(ctx)
	require.NoError(t, err)
	user, _ := s.Type("user")
	assert.Equal(t, "objectGUID", user.Anchor)
	uac, _ := user.Attr("userAccountControl")
	assert.Equal(t, connector.Integer, uac.Type)

	full := importAll(t, c)
	require.Empty(t, full.Errors)
	got := byDN(full)
	require.Len(t, got, 6)
	anchors := map[string]connector.Anchor{}
	for _, ch := range full.Changes {
		anchors[connector.FoldDN(ch.DN)] = ch.Anchor
		assert.Len(t, string(ch.Anchor), 36, "objectGUID as a GUID string")
	}
	assert.Len(t, got[connector.FoldDN(grpDN)].Attrs["member"], 2)

	var none connectortest.Recorder
	require.NoError(t, c.DeltaImport(ctx, full.Watermark(), &none))
	assert.Empty(t, none.Changes, "nothing changed")

	// Out of band: create, modify, rename, move, delete, membership.
	newDN := adUser(t, admin, ou, uniqueName("new"), nil)
	mod := goldap.NewModifyRequest(dns[1], nil)
	mod.Replace("title", []string{"Director"})
	require.NoError(t, admin.Modify(mod))
	renamed := uniqueName("ren")
	require.NoError(t, admin.ModifyDN(goldap.NewModifyDNRequest(dns[2], "CN="+renamed, true, "")))
	require.NoError(t, admin.ModifyDN(goldap.NewModifyDNRequest(dns[3], "CN="+names[3], true, "OU=Moved,"+ou)))
	require.NoError(t, admin.Del(goldap.NewDelRequest(dns[4], nil)))
	mem := goldap.NewModifyRequest(grpDN, nil)
	mem.Add("member", []string{newDN})
	require.NoError(t, admin.Modify(mem))

	var delta connectortest.Recorder
	require.NoError(t, c.DeltaImport(ctx, none.Watermark(), &delta))
	require.Empty(t, delta.Errors)
	changes := map[string]connector.Change{}
	for _, ch := range delta.Changes {
		if ch.Kind == connector.Delete {
			changes["delete:"+string(ch.Anchor)] = ch
			continue
		}
		changes[connector.FoldDN(ch.DN)] = ch
	}
	assert.Contains(t, changes, connector.FoldDN(newDN), "create")
	if ch, ok := changes[connector.FoldDN(dns[1])]; assert.True(t, ok, "modify") {
		assert.Equal(t, "Director", ch.Attrs["title"][0].Str())
	}
	renamedDN := "CN=" + renamed + ",OU=Users," + ou
	if ch, ok := changes[connector.FoldDN(renamedDN)]; assert.True(t, ok, "rename") {
		assert.Equal(t, anchors[connector.FoldDN(dns[2])], ch.Anchor, "a rename keeps objectGUID")
	}
	movedDN := "CN=" + names[3] + ",OU=Moved," + ou
	if ch, ok := changes[connector.FoldDN(movedDN)]; assert.True(t, ok, "move") {
		assert.Equal(t, anchors[connector.FoldDN(dns[3])], ch.Anchor, "a move keeps objectGUID")
	}
	assert.Contains(t, changes, "delete:"+string(anchors[connector.FoldDN(dns[4])]), "delete by objectGUID")
	if ch, ok := changes[connector.FoldDN(grpDN)]; assert.True(t, ok, "membership change") {
		assert.Len(t, ch.Attrs["member"], 3)
	}
	t.Logf("DirSync delta: %d changes", len(delta.Changes))
}

func TestADUSNFallback(t *testing.T) {
	env := getAD(t)
	ctx := context.Background()
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	dn := adUser(t, admin, ou, uniqueName("u"), nil)
	gone := adUser(t, admin, ou, uniqueName("u"), nil)
	cfg := env.config(ou)
	cfg.NoDirSync = true
	c, err := ldap.New(cfg)
	require.NoError(t, err)
	defer c.Close()
	full := importAll(t, c)
	require.Len(t, full.Changes, 2)
	anchors := map[string]connector.Anchor{}
	for _, ch := range full.Changes {
		anchors[connector.FoldDN(ch.DN)] = ch.Anchor
	}
	assert.Contains(t, string(full.Watermark()), `"m":"usn"`)

	mod := goldap.NewModifyRequest(dn, nil)
	mod.Replace("department", []string{"Finance"})
	require.NoError(t, admin.Modify(mod))
	require.NoError(t, admin.Del(goldap.NewDelRequest(gone, nil)))
	var delta connectortest.Recorder
	require.NoError(t, c.DeltaImport(ctx, full.Watermark(), &delta))
	var sawModify, sawDelete bool
	for _, ch := range delta.Changes {
		switch {
		case ch.Kind == connector.Delete && ch.Anchor == anchors[connector.FoldDN(gone)]:
			sawDelete = true
		case connector.FoldDN(ch.DN) == connector.FoldDN(dn):
			sawModify = ch.Attrs["department"][0].Str() == "Finance"
		}
	}
	assert.True(t, sawModify, "modify found by uSNChanged: %v", delta.Changes)
	assert.True(t, sawDelete, "delete found among tombstones: %v", delta.Changes)
}

// A group of 2,000 members comes back from AD in ranges of 1,500 values
// (member;range=0-1499, then range=1500-*): the import reads it whole.
func TestADRangedRetrieval(t *testing.T) {
	env := getAD(t)
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	const n = 2000
	members := make([]string, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var addErr error
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := env.admin(t)
			for i := w; i < n; i += 8 {
				dn := fmt.Sprintf("CN=m%04d,OU=Users,%s", i, ou)
				req := goldap.NewAddRequest(dn, nil)
				req.Attribute("objectClass", []string{"user"})
				req.Attribute("sAMAccountName", []string{fmt.Sprintf("m%04d-%s", i, ou[5:11])})
				if err := c.Add(req); err != nil {
					mu.Lock()
					addErr = err
					mu.Unlock()
					return
				}
				members[i] = dn
			}
		}()
	}
	wg.Wait()
	require.NoError(t, addErr)
	grpDN := "CN=big,OU=Groups," + ou
	grp := goldap.NewAddRequest(grpDN, nil)
	grp.Attribute("objectClass", []string{"group"})
	grp.Attribute("sAMAccountName", []string{"big-" + ou[5:11]})
	require.NoError(t, admin.Add(grp))
	for i := 0; i < n; i += 500 {
		mod := goldap.NewModifyRequest(grpDN, nil)
		mod.Add("member", members[i:i+500])
		require.NoError(t, admin.Modify(mod))
	}
	// The server answers a ranged request in ranges, as a Windows DC
	// answers every request for a large attribute (Samba imposes none).
	res, err := admin.Search(goldap.NewSearchRequest(grpDN, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"member;range=0-599"}, nil))
	require.NoError(t, err)
	require.Len(t, res.Entries, 1)
	require.Len(t, res.Entries[0].Attributes, 1)
	assert.Equal(t, "member;range=0-599", res.Entries[0].Attributes[0].Name)

	cfg := env.config(ou)
	cfg.RangeSize = 600 // four ranges: 0-599, 600-1199, 1200-1799, 1800-*
	cfg.Containers = []ldap.Container{{DN: "OU=Groups," + ou}}
	c, err := ldap.New(cfg)
	require.NoError(t, err)
	defer c.Close()
	full := importAll(t, c)
	require.Len(t, full.Changes, 1)
	assert.Len(t, full.Changes[0].Attrs["member"], n, "every member, over four ranges")
}

func TestADExportPasswordAndEnable(t *testing.T) {
	env := getAD(t)
	ctx := context.Background()
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	c, err := ldap.New(env.config(ou))
	require.NoError(t, err)
	defer c.Close()
	name := uniqueName("exp")
	dn := "CN=" + name + ",OU=Users," + ou
	str := func(s string) []connector.Value { return []connector.Value{connector.StringValue(s)} }
	res, err := c.Export(ctx, []connector.Change{{Kind: connector.Add, Type: "user", DN: dn, Attrs: connector.Attributes{
		"sAMAccountName": str(name), "userPrincipalName": str(name + "@example.test"), "givenName": str("Ex"), "sn": str("Port"),
		"userAccountControl":    {connector.IntValue(514)}, // disabled until it has a password
		"mS-DS-ConsistencyGuid": {connector.BytesValue([]byte("0123456789abcdef"))},
	}}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	anchor := res[0].Anchor
	assert.Len(t, string(anchor), 36, "the new object's objectGUID")

	require.NoError(t, c.SetPassword(ctx, anchor, dn, connector.NewSecret("S3cret-pw!")))
	res, err = c.Export(ctx, []connector.Change{{Kind: connector.Update, Anchor: anchor, Type: "user", DN: dn,
		Mods: []connector.Mod{{Name: "userAccountControl", Op: connector.ModReplace, Values: []connector.Value{connector.IntValue(512)}}}}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	bind := func() error {
		uc, err := goldap.DialURL(env.url, goldap.DialWithTLSConfig(tlsConfig(t, env.ca)))
		require.NoError(t, err)
		defer uc.Close()
		return uc.Bind(dn, "S3cret-pw!")
	}
	assert.NoError(t, bind(), "enabled, with the password set: the user binds")

	res, err = c.Export(ctx, []connector.Change{{Kind: connector.Update, Anchor: anchor, Type: "user", DN: dn,
		Mods: []connector.Mod{{Name: "userAccountControl", Op: connector.ModReplace, Values: []connector.Value{connector.IntValue(514)}}}}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	assert.Error(t, bind(), "disabled: the bind is refused")

	// Rename and move, then modify and delete, by anchor.
	newDN := "CN=" + name + "-moved,OU=Moved," + ou
	res, err = c.Export(ctx, []connector.Change{
		{Kind: connector.Update, Anchor: anchor, Type: "user", DN: newDN, OldDN: dn, Mods: []connector.Mod{{Name: "title", Op: connector.ModReplace, Values: str("Moved")}}},
	})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	full := importAll(t, c)
	got := byDN(full)
	if ch, ok := got[connector.FoldDN(newDN)]; assert.True(t, ok) {
		assert.Equal(t, anchor, ch.Anchor)
		assert.Equal(t, "Moved", ch.Attrs["title"][0].Str())
		assert.Equal(t, []byte("0123456789abcdef"), ch.Attrs["mS-DS-ConsistencyGuid"][0].Octets(), "the source anchor written back")
	}
	res, err = c.Export(ctx, []connector.Change{{Kind: connector.Delete, Anchor: anchor, Type: "user"}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err, "a delete by anchor alone finds the DN")
	assert.Len(t, importAll(t, c).Changes, 0)

	// A value the server refuses is a typed error on that change only.
	res, err = c.Export(ctx, []connector.Change{
		{Kind: connector.Add, Type: "user", DN: "CN=x,OU=NoSuchOU," + ou, Attrs: connector.Attributes{"sAMAccountName": str(uniqueName("x"))}},
		{Kind: connector.Update, Type: "user", DN: "CN=nobody,OU=Users," + ou, Mods: []connector.Mod{{Name: "title", Op: connector.ModReplace, Values: str("x")}}},
	})
	require.NoError(t, err)
	assert.ErrorIs(t, res[0].Err, ldap.ErrParentMissing)
	assert.ErrorIs(t, res[1].Err, connector.ErrNoSuchObject)
}
