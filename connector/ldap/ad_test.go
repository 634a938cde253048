package ldap_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/ldap"
	"github.com/idbridge/idbridge/internal/testenv"
)

// The Active Directory tests run against the one Samba AD DC that
// scripts/servers/samba-ad.sh starts (its ports are fixed: one per
// machine). Each test works in an OU of its own, with a random name, and
// deletes it at the end (IDBRIDGE_AD_KEEP=1 keeps it for a look).

// adEnv is the DC, from the variables the script prints.
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

func (e adEnv) tls(t testing.TB) *tls.Config {
	t.Helper()
	return tlsConfig(t, e.ca)
}

// dial returns a raw connection bound as dn, closed at the end of the test.
func (e adEnv) dial(t testing.TB, dn, password string) (*goldap.Conn, error) {
	t.Helper()
	c, err := goldap.DialURL(e.url, goldap.DialWithTLSConfig(e.tls(t)))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, c.Bind(dn, password)
}

// admin returns a raw connection as the domain administrator, for changes
// made out of band.
func (e adEnv) admin(t testing.TB) *goldap.Conn {
	t.Helper()
	c, err := e.dial(t, e.bindDN, e.password)
	require.NoError(t, err)
	return c
}

// newOU creates the test's OU with Users, Groups, Moved and Outside under
// it, and deletes the whole tree at the end.
func (e adEnv) newOU(t testing.TB, c *goldap.Conn) string {
	t.Helper()
	ou := "OU=" + uniqueName("t") + "," + e.base
	for _, dn := range []string{ou, "OU=Users," + ou, "OU=Groups," + ou, "OU=Moved," + ou, "OU=Outside," + ou} {
		req := goldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"organizationalUnit"})
		require.NoError(t, c.Add(req), dn)
	}
	t.Cleanup(func() {
		if os.Getenv("IDBRIDGE_AD_KEEP") == "" {
			adDeleteTree(c, ou)
		}
	})
	return ou
}

// adDeleteTree deletes dn and everything under it, deepest first.
func adDeleteTree(c *goldap.Conn, dn string) {
	res, err := c.SearchWithPaging(goldap.NewSearchRequest(dn, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil), 1000)
	if err != nil {
		return
	}
	depth := func(s string) int {
		p, err := goldap.ParseDN(s)
		if err != nil {
			return 0
		}
		return len(p.RDNs)
	}
	entries := res.Entries
	for d := 20; d > 0; d-- {
		for _, e := range entries {
			if depth(e.DN) == d {
				c.Del(goldap.NewDelRequest(e.DN, nil))
			}
		}
	}
}

// config imports users and groups from the test's OU, leaving out
// OU=Outside.
func (e adEnv) config(ou string) ldap.Config {
	return ldap.Config{
		URL: e.url, CAFile: e.ca, BindDN: e.bindDN, Password: connector.NewSecret(e.password),
		Containers: []ldap.Container{{DN: ou, Exclude: []string{"OU=Outside," + ou}}},
		Types: []ldap.TypeConfig{
			{Name: "user", ObjectClasses: []string{"user"}, Filter: "", Attributes: []string{
				"cn", "sAMAccountName", "userPrincipalName", "givenName", "sn", "displayName", "mail", "title",
				"department", "description", "manager", "userAccountControl", "mS-DS-ConsistencyGuid"}},
			{Name: "group", ObjectClasses: []string{"group"}, Attributes: []string{"cn", "sAMAccountName", "member", "groupType", "description"}},
		},
		PageSize: 50,
		// The tests here count users and groups; the container types
		// have tests of their own (containers_test.go).
		NoContainerTypes: true,
	}
}

func uniqueName(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// adUser creates a user in OU=Users of ou.
func adUser(t testing.TB, c *goldap.Conn, ou, name string, extra map[string][]string) string {
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

// adGroup creates a group in OU=Groups of ou.
func adGroup(t testing.TB, c *goldap.Conn, ou, name string, members ...string) string {
	t.Helper()
	dn := "CN=" + name + ",OU=Groups," + ou
	req := goldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"group"})
	req.Attribute("sAMAccountName", []string{name})
	if len(members) > 0 {
		req.Attribute("member", members)
	}
	require.NoError(t, c.Add(req), dn)
	return dn
}

func unicodePwd(pw string) string {
	u := utf16.Encode([]rune(`"` + pw + `"`))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return string(b)
}

func adImport(t testing.TB, c connector.Connector) *connectortest.Recorder {
	t.Helper()
	var rec connectortest.Recorder
	require.NoError(t, c.Import(context.Background(), &rec))
	require.Empty(t, rec.Errors)
	return &rec
}

func adDelta(t testing.TB, c *ldap.Connector, wm []byte) *connectortest.Recorder {
	t.Helper()
	var rec connectortest.Recorder
	require.NoError(t, c.DeltaImport(context.Background(), wm, &rec))
	require.Empty(t, rec.Errors)
	require.NotEmpty(t, rec.Events)
	require.Equal(t, "checkpoint", rec.Events[len(rec.Events)-1], "a delta checkpoints last")
	return &rec
}

// space is a connector space in miniature: the objects by anchor, as the
// engine stages imported changes (an Update of an unknown anchor makes a
// new object from its modifications).
type space map[connector.Anchor]connector.Object

func newSpace(rec *connectortest.Recorder) space {
	s := space{}
	s.apply(rec)
	return s
}

func (s space) apply(rec *connectortest.Recorder) {
	for _, ch := range rec.Changes {
		switch ch.Kind {
		case connector.Add:
			s[ch.Anchor] = connector.Object{Anchor: ch.Anchor, DN: ch.DN, Type: ch.Type, Attrs: ch.Attrs.Clone()}
		case connector.Update:
			o, ok := s[ch.Anchor]
			if !ok {
				o = connector.Object{Anchor: ch.Anchor, Type: ch.Type, Attrs: connector.Attributes{}}
			}
			if ch.DN != "" {
				o.DN = ch.DN
			}
			if ch.Type != "" {
				o.Type = ch.Type
			}
			o.Attrs.Apply(ch.Mods)
			s[ch.Anchor] = o
		case connector.Delete:
			delete(s, ch.Anchor)
		}
	}
}

// assertSame checks that two spaces hold the same objects, with references
// compared by folded DN (imports report them by DN).
func assertSame(t *testing.T, want, got space) {
	t.Helper()
	norm := func(o connector.Object) connector.Object {
		attrs := connector.Attributes{}
		for name, vs := range o.Attrs {
			var out []connector.Value
			for _, v := range vs {
				if v.Type() == connector.Reference {
					_, dn := v.Ref()
					v = connector.RefValue("", connector.FoldDN(dn))
				}
				out = append(out, v)
			}
			if len(out) > 0 {
				attrs[name] = out
			}
		}
		return connector.Object{Anchor: o.Anchor, DN: connector.FoldDN(o.DN), Type: o.Type, Attrs: attrs}
	}
	assert.Equal(t, len(want), len(got), "objects")
	for a, w := range want {
		g, ok := got[a]
		if !assert.True(t, ok, "object %s (%s) missing", w.DN, a) {
			continue
		}
		nw, ng := norm(w), norm(g)
		assert.Equal(t, nw.DN, ng.DN, "DN of %s", a)
		assert.Equal(t, nw.Type, ng.Type, "type of %s", w.DN)
		assert.True(t, nw.Attrs.Equal(ng.Attrs), "attributes of %s:\nwant %v\ngot  %v", w.DN, nw.Attrs, ng.Attrs)
	}
	for a, g := range got {
		_, ok := want[a]
		assert.True(t, ok, "unexpected object %s (%s)", g.DN, a)
	}
}

func method(t testing.TB, wm []byte) string {
	t.Helper()
	var w struct {
		M string `json:"m"`
	}
	require.NoError(t, json.Unmarshal(wm, &w))
	return w.M
}

// known drops the deletes of objects st does not hold: the DC is shared
// by tests running in parallel, and a delta may report an object another
// test moved elsewhere in the domain as deleted (the engine ignores the
// delete of an object it does not hold).
func known(st space, rec *connectortest.Recorder) []connector.Change {
	var out []connector.Change
	for _, ch := range rec.Changes {
		if _, ok := st[ch.Anchor]; ch.Kind == connector.Delete && !ok {
			continue
		}
		out = append(out, ch)
	}
	return out
}

func changeByDN(rec *connectortest.Recorder, dn string) (connector.Change, bool) {
	for _, ch := range rec.Changes {
		if ch.Kind != connector.Delete && connector.FoldDN(ch.DN) == connector.FoldDN(dn) {
			return ch, true
		}
	}
	return connector.Change{}, false
}

func changeByAnchor(rec *connectortest.Recorder, a connector.Anchor) (connector.Change, bool) {
	for _, ch := range rec.Changes {
		if ch.Anchor == a {
			return ch, true
		}
	}
	return connector.Change{}, false
}

func refDNs(vs []connector.Value) []string {
	var out []string
	for _, v := range vs {
		_, dn := v.Ref()
		out = append(out, connector.FoldDN(dn))
	}
	return out
}

func anchorsByDN(s space) map[string]connector.Anchor {
	m := map[string]connector.Anchor{}
	for a, o := range s {
		m[connector.FoldDN(o.DN)] = a
	}
	return m
}

// TestADDirSyncDelta: a full import, then a DirSync delta after a create,
// a modify, a rename, a move, a move out of scope, a delete and membership
// changes reports each as the smallest change — an Add, replace mods of
// the changed attributes only, the new DN under the same objectGUID, a
// Delete, the added and removed members only — and applying the delta to
// the full import's objects gives what a new full import reads.
func TestADDirSyncDelta(t *testing.T) {
	env := getAD(t)
	t.Parallel()
	ctx := context.Background()
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	tag := uniqueName("")
	var dns []string
	for i := range 6 {
		dns = append(dns, adUser(t, admin, ou, fmt.Sprintf("u%d-%s", i, tag), map[string][]string{"title": {"Engineer"}}))
	}
	grp := adGroup(t, admin, ou, "g-"+tag, dns[0], dns[1])

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

	full := adImport(t, c)
	assert.Equal(t, "dirsync", method(t, full.Watermark()))
	st := newSpace(full)
	require.Len(t, st, 7)
	anchors := anchorsByDN(st)
	for _, a := range anchors {
		assert.Len(t, string(a), 36, "objectGUID as a GUID string")
	}
	assert.Len(t, st[anchors[connector.FoldDN(grp)]].Attrs["member"], 2)

	none := adDelta(t, c, full.Watermark())
	assert.Empty(t, known(st, none), "nothing changed")

	// Out of band: create, modify, rename, move, move out of scope, delete,
	// membership.
	created := adUser(t, admin, ou, "new-"+tag, map[string][]string{"title": {"Intern"}})
	mod := goldap.NewModifyRequest(dns[1], nil)
	mod.Replace("title", []string{"Director"})
	mod.Replace("department", []string{"Sales"})
	require.NoError(t, admin.Modify(mod))
	renamed := "CN=renamed-" + tag + ",OU=Users," + ou
	require.NoError(t, admin.ModifyDN(goldap.NewModifyDNRequest(dns[2], "CN=renamed-"+tag, true, "")))
	moved := "CN=u3-" + tag + ",OU=Moved," + ou
	require.NoError(t, admin.ModifyDN(goldap.NewModifyDNRequest(dns[3], "CN=u3-"+tag, true, "OU=Moved,"+ou)))
	require.NoError(t, admin.ModifyDN(goldap.NewModifyDNRequest(dns[4], "CN=u4-"+tag, true, "OU=Outside,"+ou)))
	require.NoError(t, admin.Del(goldap.NewDelRequest(dns[5], nil)))
	mem := goldap.NewModifyRequest(grp, nil)
	mem.Add("member", []string{created})
	mem.Delete("member", []string{dns[0]})
	require.NoError(t, admin.Modify(mem))

	delta := adDelta(t, c, none.Watermark())
	for _, ch := range delta.Changes {
		t.Logf("%s %s %s mods=%d", ch.Kind, ch.Type, ch.DN, len(ch.Mods))
	}
	if ch, ok := changeByDN(delta, created); assert.True(t, ok, "create") {
		assert.Equal(t, connector.Add, ch.Kind)
		assert.Equal(t, "user", ch.Type)
		assert.Equal(t, "Intern", ch.Attrs["title"][0].Str())
	}
	if ch, ok := changeByAnchor(delta, anchors[connector.FoldDN(dns[1])]); assert.True(t, ok, "modify") {
		assert.Equal(t, connector.Update, ch.Kind)
		assert.Equal(t, "user", ch.Type)
		assert.ElementsMatch(t, []connector.Mod{
			{Name: "title", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue("Director")}},
			{Name: "department", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue("Sales")}},
		}, ch.Mods, "only the changed attributes")
	}
	for what, dn := range map[string]string{"rename": renamed, "move": moved} {
		old := map[string]string{"rename": dns[2], "move": dns[3]}[what]
		if ch, ok := changeByAnchor(delta, anchors[connector.FoldDN(old)]); assert.True(t, ok, what) {
			assert.Equal(t, connector.Update, ch.Kind, what)
			assert.Equal(t, connector.FoldDN(dn), connector.FoldDN(ch.DN), "%s: the new DN under the same objectGUID", what)
		}
	}
	for what, dn := range map[string]string{"move out of scope": dns[4], "delete": dns[5]} {
		if ch, ok := changeByAnchor(delta, anchors[connector.FoldDN(dn)]); assert.True(t, ok, what) {
			assert.Equal(t, connector.Delete, ch.Kind, what)
		}
	}
	if ch, ok := changeByAnchor(delta, anchors[connector.FoldDN(grp)]); assert.True(t, ok, "membership") {
		assert.Equal(t, connector.Update, ch.Kind)
		var added, removed []string
		for _, m := range ch.Mods {
			require.Equal(t, "member", m.Name, "only member changed")
			switch m.Op {
			case connector.ModAdd:
				added = append(added, refDNs(m.Values)...)
			case connector.ModRemove:
				removed = append(removed, refDNs(m.Values)...)
			default:
				t.Errorf("member changes come as values added and removed, not %s", m.Op)
			}
		}
		assert.Equal(t, []string{connector.FoldDN(created)}, added)
		assert.Equal(t, []string{connector.FoldDN(dns[0])}, removed)
	}

	st.apply(delta)
	assertSame(t, newSpace(adImport(t, c)), st)
	assert.Empty(t, known(st, adDelta(t, c, delta.Watermark())), "a delta from the last watermark reports nothing new")
}

// TestADUSNFallback: with NoDirSync, and automatically for an account
// DirSync refuses, deltas use uSNChanged and tombstones; a watermark of
// another domain controller has expired.
func TestADUSNFallback(t *testing.T) {
	env := getAD(t)
	t.Parallel()
	ctx := context.Background()
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	tag := uniqueName("")
	var dns []string
	for i := range 6 {
		dns = append(dns, adUser(t, admin, ou, fmt.Sprintf("u%d-%s", i, tag), nil))
	}
	grp := adGroup(t, admin, ou, "g-"+tag, dns[0])
	// A plain account, without the replication right DirSync needs.
	reader := adUser(t, admin, ou, "reader-"+tag, map[string][]string{
		"unicodePwd": {unicodePwd("Reader-pw1")}, "userAccountControl": {"512"}})

	for _, tc := range []struct {
		name string
		cfg  func(ldap.Config) ldap.Config
	}{
		{"NoDirSync", func(cfg ldap.Config) ldap.Config { cfg.NoDirSync = true; return cfg }},
		{"DirSyncRefused", func(cfg ldap.Config) ldap.Config {
			cfg.BindDN, cfg.Password = reader, connector.NewSecret("Reader-pw1")
			return cfg
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ldap.New(tc.cfg(env.config(ou)))
			require.NoError(t, err)
			defer c.Close()
			full := adImport(t, c)
			assert.Equal(t, "usn", method(t, full.Watermark()))
			st := newSpace(full)
			anchors := anchorsByDN(st)
			assert.Empty(t, known(st, adDelta(t, c, full.Watermark())), "nothing changed")

			n := uniqueName("x")
			created := adUser(t, admin, ou, n, nil)
			mod := goldap.NewModifyRequest(dns[0], nil)
			mod.Replace("department", []string{"Finance " + n})
			require.NoError(t, admin.Modify(mod))
			newName := "CN=" + n + "-moved,OU=Moved," + ou
			require.NoError(t, admin.ModifyDN(goldap.NewModifyDNRequest(dns[1], "CN="+n+"-moved", true, "OU=Moved,"+ou)))
			mem := goldap.NewModifyRequest(grp, nil)
			mem.Add("member", []string{created})
			require.NoError(t, admin.Modify(mem))
			out := dns[len(dns)-2]
			require.NoError(t, admin.ModifyDN(goldap.NewModifyDNRequest(out, "CN="+n+"-out", true, "OU=Outside,"+ou)))
			require.NoError(t, admin.Del(goldap.NewDelRequest(dns[len(dns)-1], nil)))
			gone, left := anchors[connector.FoldDN(dns[len(dns)-1])], anchors[connector.FoldDN(out)]
			dns = dns[:len(dns)-2]
			dns[1] = newName

			delta := adDelta(t, c, full.Watermark())
			if ch, ok := changeByAnchor(delta, left); assert.True(t, ok, "move out of scope") {
				assert.Equal(t, connector.Delete, ch.Kind)
			}
			if tc.name == "DirSyncRefused" {
				// A plain account cannot read the tombstones in Deleted
				// Objects (on Windows neither): its deletes wait for the
				// next full import.
				delete(st, gone)
			} else if ch, ok := changeByAnchor(delta, gone); assert.True(t, ok, "delete found among tombstones") {
				assert.Equal(t, connector.Delete, ch.Kind)
			}
			_, ok := changeByDN(delta, created)
			assert.True(t, ok, "create")
			st.apply(delta)
			assertSame(t, newSpace(adImport(t, c)), st)
			assert.Equal(t, "usn", method(t, delta.Watermark()))
			assert.Empty(t, known(st, adDelta(t, c, delta.Watermark())), "a delta from the last watermark reports nothing new")

			// The watermark of another DC (USNs are per DC) has expired.
			var w map[string]any
			require.NoError(t, json.Unmarshal(delta.Watermark(), &w))
			w["s"] = "CN=NTDS Settings,CN=DC2,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration," + env.base
			other, _ := json.Marshal(w)
			err = c.DeltaImport(ctx, other, &connectortest.Recorder{})
			assert.ErrorIs(t, err, connector.ErrWatermarkExpired)
		})
	}
}

// rangedFixture returns n contacts in OU=idbridge-ranged-fixture, created
// once per domain controller and kept: deleting 2,000 objects takes Samba
// longer than the rest of the tests together, and the DC is provisioned
// afresh for each CI run.
func rangedFixture(t testing.TB, env adEnv, n int) []string {
	t.Helper()
	ou := "OU=idbridge-ranged-fixture," + env.base
	admin := env.admin(t)
	req := goldap.NewAddRequest(ou, nil)
	req.Attribute("objectClass", []string{"organizationalUnit"})
	if err := admin.Add(req); err != nil && !goldap.IsErrorWithCode(err, goldap.LDAPResultEntryAlreadyExists) {
		require.NoError(t, err)
	}
	dns := make([]string, n)
	for i := range dns {
		dns[i] = fmt.Sprintf("CN=c%05d,%s", i, ou)
	}
	res, err := admin.SearchWithPaging(goldap.NewSearchRequest(ou, goldap.ScopeSingleLevel, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=contact)", []string{"1.1"}, nil), 1000)
	require.NoError(t, err)
	have := map[string]bool{}
	for _, e := range res.Entries {
		have[connector.FoldDN(e.DN)] = true
	}
	var missing []string
	for _, dn := range dns {
		if !have[connector.FoldDN(dn)] {
			missing = append(missing, dn)
		}
	}
	// Over four connections: Samba adds a few hundred a second.
	const workers = 4
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		c := env.admin(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(missing); i += workers {
				req := goldap.NewAddRequest(missing[i], nil)
				req.Attribute("objectClass", []string{"contact"})
				if err := c.Add(req); err != nil && !goldap.IsErrorWithCode(err, goldap.LDAPResultEntryAlreadyExists) {
					errs <- fmt.Errorf("%s: %w", missing[i], err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	require.NoError(t, <-errs)
	return dns
}

// TestADRangedRetrieval: a group of 2,000 members, more than the 1,500
// values a DC returns at once (Windows' MaxValRange), imports whole, in a
// full import and when DirSync reports it moved; new members come as one
// incremental change.
func TestADRangedRetrieval(t *testing.T) {
	env := getAD(t)
	t.Parallel()
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	const n = 2000
	members := rangedFixture(t, env, n+100)
	grp := adGroup(t, admin, ou, "big-"+uniqueName(""))
	for i := 0; i < n; i += 1000 {
		mod := goldap.NewModifyRequest(grp, nil)
		mod.Add("member", members[i:i+1000])
		require.NoError(t, admin.Modify(mod))
	}
	// Asked for 1,500 values, the DC returns the first range only: the
	// connector must follow with range=1500-*.
	res, err := admin.Search(goldap.NewSearchRequest(grp, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"member;range=0-1499"}, nil))
	require.NoError(t, err)
	require.Len(t, res.Entries, 1)
	require.Len(t, res.Entries[0].Attributes, 1)
	assert.Equal(t, "member;range=0-1499", res.Entries[0].Attributes[0].Name)
	assert.Len(t, res.Entries[0].Attributes[0].Values, 1500)

	cfg := env.config(ou)
	cfg.RangeSize = 1500 // Windows' MaxValRange (Samba imposes none)
	cfg.Types = cfg.Types[1:]
	c, err := ldap.New(cfg)
	require.NoError(t, err)
	defer c.Close()
	full := adImport(t, c)
	require.Len(t, full.Changes, 1)
	assert.Len(t, full.Changes[0].Attrs["member"], n, "every member, over two ranges")

	mod := goldap.NewModifyRequest(grp, nil)
	mod.Add("member", members[n:])
	require.NoError(t, admin.Modify(mod))
	st := newSpace(full)
	delta := adDelta(t, c, full.Watermark())
	require.Len(t, known(st, delta), 1)
	ch := known(st, delta)[0]
	require.Equal(t, connector.Update, ch.Kind)
	require.Len(t, ch.Mods, 1)
	assert.Equal(t, connector.ModAdd, ch.Mods[0].Op, "only the new members")
	assert.Len(t, ch.Mods[0].Values, 100)

	// Moved, the group is read whole again, through the ranges.
	moved := "CN=big-moved,OU=Moved," + ou
	require.NoError(t, admin.ModifyDN(goldap.NewModifyDNRequest(grp, "CN=big-moved", true, "OU=Moved,"+ou)))
	delta2 := adDelta(t, c, delta.Watermark())
	require.Len(t, known(st, delta2), 1)
	assert.Equal(t, connector.FoldDN(moved), connector.FoldDN(known(st, delta2)[0].DN))

	st.apply(delta)
	st.apply(delta2)
	assert.Len(t, st[ch.Anchor].Attrs["member"], n+100)
	assertSame(t, newSpace(adImport(t, c)), st)
}

// TestADExport: add, modify, rename, move and delete by export; the
// objectGUID of an added object as its anchor; mS-DS-ConsistencyGuid
// written back; a password set and the account enabled and disabled,
// checked by binding as the user; unicodePwd refused on a plain
// connection.
func TestADExport(t *testing.T) {
	env := getAD(t)
	t.Parallel()
	ctx := context.Background()
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	c, err := ldap.New(env.config(ou))
	require.NoError(t, err)
	defer c.Close()
	name := uniqueName("exp")
	dn := "CN=" + name + ",OU=Users," + ou
	str := func(s string) []connector.Value { return []connector.Value{connector.StringValue(s)} }
	guid := []byte("0123456789abcdef")
	res, err := c.Export(ctx, []connector.Change{{Kind: connector.Add, Type: "user", DN: dn, Attrs: connector.Attributes{
		"sAMAccountName": str(name), "userPrincipalName": str(name + "@example.test"), "givenName": str("Ex"), "sn": str("Port"),
		"mS-DS-ConsistencyGuid": {connector.BytesValue(guid)},
	}}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	anchor := res[0].Anchor
	require.Len(t, string(anchor), 36, "the new object's objectGUID")

	bind := func() error {
		_, err := env.dial(t, dn, "S3cret-pw!")
		return err
	}
	require.Error(t, bind(), "no password yet")
	require.NoError(t, c.SetPassword(ctx, anchor, "", connector.NewSecret("S3cret-pw!")), "by anchor alone")
	require.NoError(t, c.SetEnabled(ctx, anchor, dn, true))
	assert.NoError(t, bind(), "enabled, with the password set: the user binds")
	require.NoError(t, c.SetEnabled(ctx, anchor, dn, false))
	assert.Error(t, bind(), "disabled: the bind is refused")
	res, err = c.Export(ctx, []connector.Change{{Kind: connector.Update, Anchor: anchor, Type: "user", DN: dn,
		Mods: []connector.Mod{{Name: "userAccountControl", Op: connector.ModReplace, Values: []connector.Value{connector.IntValue(512)}}}}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	assert.NoError(t, bind(), "enabled by export of userAccountControl")

	// Rename and move with a modification, then delete by anchor.
	newDN := "CN=" + name + "-moved,OU=Moved," + ou
	res, err = c.Export(ctx, []connector.Change{
		{Kind: connector.Update, Anchor: anchor, Type: "user", DN: newDN, OldDN: dn, Mods: []connector.Mod{{Name: "title", Op: connector.ModReplace, Values: str("Moved")}}},
	})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	full := newSpace(adImport(t, c))
	if o, ok := full[anchor]; assert.True(t, ok) {
		assert.Equal(t, connector.FoldDN(newDN), connector.FoldDN(o.DN))
		assert.Equal(t, "Moved", o.Attrs["title"][0].Str())
		assert.Equal(t, int64(512), o.Attrs["userAccountControl"][0].Int())
		assert.Equal(t, guid, o.Attrs["mS-DS-ConsistencyGuid"][0].Octets(), "the source anchor written back")
	}
	res, err = c.Export(ctx, []connector.Change{{Kind: connector.Delete, Anchor: anchor, Type: "user"}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err, "a delete by anchor alone finds the DN")
	assert.Empty(t, adImport(t, c).Changes)

	// An add carrying an initial unicodePwd creates an enabled account
	// (userAccountControl 512 by default) the user binds to at once, and
	// a consistency GUID given as a GUID string is written as 16 octets.
	name2 := uniqueName("pw")
	dn2 := "CN=" + name2 + ",OU=Users," + ou
	res, err = c.Export(ctx, []connector.Change{{Kind: connector.Add, Type: "user", DN: dn2, Attrs: connector.Attributes{
		"sAMAccountName": str(name2), "unicodePwd": str("Initial-pw1!"),
		"mS-DS-ConsistencyGuid": str("00112233-4455-6677-8899-aabbccddeeff"),
	}}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	_, err = env.dial(t, dn2, "Initial-pw1!")
	assert.NoError(t, err, "the initial password of the add works")
	added := newSpace(adImport(t, c))[res[0].Anchor]
	assert.Equal(t, int64(512), added.Attrs["userAccountControl"][0].Int())
	assert.Len(t, added.Attrs["mS-DS-ConsistencyGuid"][0].Octets(), 16)

	// unicodePwd never goes over a plain connection.
	if env.startTLS != "" {
		cfg := env.config(ou)
		cfg.URL, cfg.Plaintext = env.startTLS, true
		plain, err := ldap.New(cfg)
		require.NoError(t, err)
		defer plain.Close()
		victim := adUser(t, admin, ou, uniqueName("p"), nil)
		err = plain.SetPassword(ctx, "", victim, connector.NewSecret("never-sent"))
		assert.ErrorIs(t, err, ldap.ErrTLSRequired)
		assert.NotContains(t, err.Error(), "never-sent")
		assert.Contains(t, err.Error(), "TLS")
	}
}

// TestADWatermarkExpired: a DirSync cookie the DC cannot read makes the
// engine fall back to a full import.
func TestADWatermarkExpired(t *testing.T) {
	env := getAD(t)
	t.Parallel()
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	c, err := ldap.New(env.config(ou))
	require.NoError(t, err)
	defer c.Close()
	adImport(t, c)
	bad, _ := json.Marshal(map[string]any{"m": "dirsync", "c": map[string][]byte{"user": []byte("not a cookie"), "group": []byte("x")}})
	err = c.DeltaImport(context.Background(), bad, &connectortest.Recorder{})
	assert.ErrorIs(t, err, connector.ErrWatermarkExpired)
	assert.True(t, strings.Contains(err.Error(), "DirSync"), err.Error())
}
