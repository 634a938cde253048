package ldap_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/ldap"
	"github.com/idbridge/idbridge/internal/testenv"
)

// slapdEnv is the slapd that scripts/servers/slapd.sh started.
type slapdEnv struct {
	url, startTLS, base, bindDN, password, ca string
}

func getSlapd(t testing.TB) slapdEnv {
	t.Helper()
	return slapdEnv{
		url:      testenv.Get(t, "IDBRIDGE_SLAPD_URL", "OpenLDAP slapd"),
		startTLS: os.Getenv("IDBRIDGE_SLAPD_STARTTLS_URL"),
		base:     os.Getenv("IDBRIDGE_SLAPD_BASE_DN"),
		bindDN:   os.Getenv("IDBRIDGE_SLAPD_BIND_DN"),
		password: os.Getenv("IDBRIDGE_SLAPD_PASSWORD"),
		ca:       os.Getenv("IDBRIDGE_SLAPD_CA"),
	}
}

// admin is a raw go-ldap connection for seeding and out-of-band changes.
func (e slapdEnv) admin(t testing.TB) *goldap.Conn {
	t.Helper()
	c, err := goldap.DialURL(e.startTLS)
	require.NoError(t, err)
	require.NoError(t, c.Bind(e.bindDN, e.password))
	t.Cleanup(func() { c.Close() })
	return c
}

// newOU creates an OU of its own for a test under the base, with people
// and groups below it, removed at the end.
func (e slapdEnv) newOU(t testing.TB, admin *goldap.Conn) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	ou := "ou=t" + hex.EncodeToString(b) + "," + e.base
	for _, dn := range []string{ou, "ou=people," + ou, "ou=groups," + ou} {
		req := goldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"organizationalUnit"})
		rdn, _, _ := cut(dn)
		req.Attribute("ou", []string{rdn})
		require.NoError(t, admin.Add(req))
	}
	t.Cleanup(func() { deleteTree(admin, ou) })
	return ou
}

func cut(dn string) (string, string, bool) {
	p, err := goldap.ParseDN(dn)
	if err != nil || len(p.RDNs) == 0 {
		return "", "", false
	}
	return p.RDNs[0].Attributes[0].Value, "", true
}

func deleteTree(c *goldap.Conn, dn string) {
	res, err := c.Search(goldap.NewSearchRequest(dn, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
	if err != nil {
		return
	}
	// Children first: longer DNs are deeper.
	for depth := 10; depth >= 0; depth-- {
		for _, e := range res.Entries {
			if p, err := goldap.ParseDN(e.DN); err == nil && len(p.RDNs) == depth+len(mustDN(dn).RDNs) {
				c.Del(goldap.NewDelRequest(e.DN, nil))
			}
		}
	}
}

func mustDN(s string) *goldap.DN { d, _ := goldap.ParseDN(s); return d }

func (e slapdEnv) config(ou string) ldap.Config {
	return ldap.Config{
		URL: e.url, CAFile: e.ca, BindDN: e.bindDN, Password: connector.NewSecret(e.password),
		Containers: []ldap.Container{{DN: ou}},
		Types: []ldap.TypeConfig{
			{Name: "person", ObjectClasses: []string{"inetOrgPerson"}},
			{Name: "group", ObjectClasses: []string{"groupOfNames"}},
		},
		PageSize: 7,
		// The tests here count users and groups; the container types
		// have tests of their own (containers_test.go).
		NoContainerTypes: true,
	}
}

func addPerson(t testing.TB, c *goldap.Conn, ou string, i int, extra map[string][]string) string {
	t.Helper()
	dn := fmt.Sprintf("uid=user%d,ou=people,%s", i, ou)
	req := goldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"inetOrgPerson"})
	req.Attribute("uid", []string{fmt.Sprintf("user%d", i)})
	req.Attribute("cn", []string{fmt.Sprintf("User %d", i)})
	req.Attribute("sn", []string{fmt.Sprintf("Surname%d", i)})
	req.Attribute("mail", []string{fmt.Sprintf("user%d@example.test", i)})
	for k, v := range extra {
		req.Attribute(k, v)
	}
	require.NoError(t, c.Add(req))
	return dn
}

func importAll(t testing.TB, c connector.Connector) *connectortest.Recorder {
	t.Helper()
	var rec connectortest.Recorder
	require.NoError(t, c.Import(context.Background(), &rec))
	return &rec
}

func byDN(rec *connectortest.Recorder) map[string]connector.Change {
	m := map[string]connector.Change{}
	for _, ch := range rec.Changes {
		m[connector.FoldDN(ch.DN)] = ch
	}
	return m
}

func TestSlapdFullImportAndSchema(t *testing.T) {
	env := getSlapd(t)
	ctx := context.Background()
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	boss := addPerson(t, admin, ou, 0, nil)
	for i := 1; i <= 20; i++ {
		addPerson(t, admin, ou, i, map[string][]string{"manager": {boss}, "employeeNumber": {fmt.Sprint(i)}})
	}
	grp := goldap.NewAddRequest("cn=staff,ou=groups,"+ou, nil)
	grp.Attribute("objectClass", []string{"groupOfNames"})
	grp.Attribute("cn", []string{"staff"})
	grp.Attribute("member", []string{boss, fmt.Sprintf("uid=user1,ou=people,%s", ou)})
	require.NoError(t, admin.Add(grp))

	c, err := ldap.New(env.config(ou))
	require.NoError(t, err)
	defer c.Close()
	d, err := c.Dialect(ctx)
	require.NoError(t, err)
	assert.Equal(t, ldap.OpenLDAP, d)

	s, err := c.Schema(ctx)
	require.NoError(t, err)
	person, ok := s.Type("person")
	require.True(t, ok)
	assert.Equal(t, "entryUUID", person.Anchor)
	for name, want := range map[string]connector.Attribute{
		"manager":        {Name: "manager", Type: connector.Reference, Multi: true},
		"mail":           {Name: "mail", Type: connector.String, Multi: true},
		"employeeNumber": {Name: "employeeNumber", Type: connector.String},
		"jpegPhoto":      {Name: "jpegPhoto", Type: connector.Bytes, Multi: true},
	} {
		a, ok := person.Attr(name)
		if assert.True(t, ok, name) {
			assert.Equal(t, want.Type, a.Type, name)
			assert.Equal(t, want.Multi, a.Multi, name)
		}
	}
	_, hasPassword := person.Attr("userPassword")
	assert.False(t, hasPassword, "passwords are never imported")

	rec := importAll(t, c)
	assert.Empty(t, rec.Errors)
	got := byDN(rec)
	require.Len(t, got, 22, "21 people and a group, over pages of 7")
	u1 := got[connector.FoldDN("uid=user1,ou=people,"+ou)]
	assert.Equal(t, "person", u1.Type)
	assert.Len(t, string(u1.Anchor), 36, "entryUUID")
	mgr, dn := u1.Attrs["manager"][0].Ref()
	assert.Equal(t, connector.Anchor(""), mgr)
	assert.Equal(t, connector.FoldDN(boss), connector.FoldDN(dn))
	g := got[connector.FoldDN("cn=staff,ou=groups,"+ou)]
	assert.Equal(t, "group", g.Type)
	assert.Len(t, g.Attrs["member"], 2)
	assert.Equal(t, "checkpoint", rec.Events[len(rec.Events)-1])
}

func TestSlapdSyncreplDelta(t *testing.T) {
	env := getSlapd(t)
	ctx := context.Background()
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	for i := 0; i < 5; i++ {
		addPerson(t, admin, ou, i, nil)
	}
	c, err := ldap.New(env.config(ou))
	require.NoError(t, err)
	defer c.Close()
	full := importAll(t, c)
	anchors := map[string]connector.Anchor{}
	for _, ch := range full.Changes {
		anchors[connector.FoldDN(ch.DN)] = ch.Anchor
	}

	var none connectortest.Recorder
	require.NoError(t, c.DeltaImport(ctx, full.Watermark(), &none))
	assert.Empty(t, none.Changes, "nothing changed")

	// Out of band: add, modify, rename, delete.
	addPerson(t, admin, ou, 10, nil)
	mod := goldap.NewModifyRequest("uid=user1,ou=people,"+ou, nil)
	mod.Replace("title", []string{"Engineer"})
	require.NoError(t, admin.Modify(mod))
	require.NoError(t, admin.ModifyDN(goldap.NewModifyDNRequest("uid=user2,ou=people,"+ou, "uid=user2b", true, "")))
	require.NoError(t, admin.Del(goldap.NewDelRequest("uid=user3,ou=people,"+ou, nil)))

	var delta connectortest.Recorder
	require.NoError(t, c.DeltaImport(ctx, none.Watermark(), &delta))
	kinds := map[string]connector.ChangeKind{}
	for _, ch := range delta.Changes {
		key := connector.FoldDN(ch.DN)
		if ch.Kind == connector.Delete {
			key = "delete:" + string(ch.Anchor)
		}
		kinds[key] = ch.Kind
	}
	assert.Contains(t, kinds, connector.FoldDN("uid=user10,ou=people,"+ou), "add")
	assert.Contains(t, kinds, connector.FoldDN("uid=user1,ou=people,"+ou), "modify")
	assert.Contains(t, kinds, "delete:"+string(anchors[connector.FoldDN("uid=user3,ou=people,"+ou)]), "delete by entryUUID")
	for _, ch := range delta.Changes {
		if connector.FoldDN(ch.DN) == connector.FoldDN("uid=user2b,ou=people,"+ou) {
			assert.Equal(t, anchors[connector.FoldDN("uid=user2,ou=people,"+ou)], ch.Anchor, "a rename keeps the anchor")
		}
	}
	assert.Len(t, delta.Changes, 4, "exactly the changes made: %v", delta.Changes)

	var again connectortest.Recorder
	require.NoError(t, c.DeltaImport(ctx, delta.Watermark(), &again))
	assert.Empty(t, again.Changes)
}

func TestSlapdWatchLatency(t *testing.T) {
	env := getSlapd(t)
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	c, err := ldap.New(env.config(ou))
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	notified := make(chan time.Time, 16)
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx, func() { notified <- time.Now() }) }()
	// The persistent search runs once a change is notified: add probe
	// entries until one is, then drain what the earlier probes caused.
	for probe := 0; ; probe++ {
		require.Less(t, probe, 50, "the persistent search never notified a probe add")
		addPerson(t, admin, ou, 50+probe, nil)
		select {
		case <-notified:
		case err := <-done:
			t.Fatalf("Watch returned before it notified anything: %v", err)
		case <-time.After(100 * time.Millisecond):
			continue
		}
		break
	}
	for len(notified) > 0 {
		<-notified
	}
	var latencies []time.Duration
	for i := 0; i < 3; i++ {
		start := time.Now()
		addPerson(t, admin, ou, 100+i, nil)
		select {
		case at := <-notified:
			latencies = append(latencies, at.Sub(start))
		case <-time.After(5 * time.Second):
			t.Fatal("no notification within 5 s of an add")
		}
	}
	t.Logf("change-notification latency: %v", latencies)
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after its context was cancelled")
	}
}

func tlsConfig(t testing.TB, caFile string) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}
