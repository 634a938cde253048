package writeback_test

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldap"
	"github.com/idbridge/idbridge/internal/testenv"
	"github.com/idbridge/idbridge/writeback"
)

// Password writeback against the Samba AD domain controller that make test
// starts: users in an OU of the test's own, a fine-grained password policy
// (PSO) with history, complexity, a minimum length and lockout applied to
// them, synced through the engine to an in-memory cloud.

type dirEnv struct{ url, base, bindDN, password, ca string }

// loadDirEnv reads the variables make test's server script printed for
// IDBRIDGE_<prefix>_*.
func loadDirEnv(t testing.TB, prefix, what string) dirEnv {
	return dirEnv{
		url:      testenv.Get(t, "IDBRIDGE_"+prefix+"_URL", what),
		base:     os.Getenv("IDBRIDGE_" + prefix + "_BASE_DN"),
		bindDN:   os.Getenv("IDBRIDGE_" + prefix + "_BIND_DN"),
		password: os.Getenv("IDBRIDGE_" + prefix + "_PASSWORD"),
		ca:       os.Getenv("IDBRIDGE_" + prefix + "_CA"),
	}
}

// newOU creates an OU of the test's own (rdnAttr "OU" or "ou"), deleted
// with everything under it at the end.
func (e dirEnv) newOU(t testing.TB, admin *goldap.Conn, rdnAttr string) string {
	t.Helper()
	ou := rdnAttr + "=" + unique("wb") + "," + e.base
	addEntry(t, admin, ou, map[string][]string{"objectClass": {"organizationalUnit"}})
	t.Cleanup(func() { deleteTree(admin, ou) })
	return ou
}

func addEntry(t testing.TB, c *goldap.Conn, dn string, attrs map[string][]string) {
	t.Helper()
	req := goldap.NewAddRequest(dn, nil)
	for k, v := range attrs {
		req.Attribute(k, v)
	}
	require.NoError(t, c.Add(req), dn)
}

func (e dirEnv) tls(t testing.TB) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(e.ca)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// bind reports whether dn can bind with password, and the error.
func (e dirEnv) bind(t testing.TB, dn, password string) error {
	t.Helper()
	var opts []goldap.DialOpt
	if strings.HasPrefix(e.url, "ldaps:") {
		opts = append(opts, goldap.DialWithTLSConfig(e.tls(t)))
	}
	c, err := goldap.DialURL(e.url, opts...)
	require.NoError(t, err)
	defer c.Close()
	if strings.HasPrefix(e.url, "ldap:") {
		require.NoError(t, c.StartTLS(e.tls(t)))
	}
	return c.Bind(dn, password)
}

func (e dirEnv) admin(t testing.TB) *goldap.Conn {
	t.Helper()
	var opts []goldap.DialOpt
	if strings.HasPrefix(e.url, "ldaps:") {
		opts = append(opts, goldap.DialWithTLSConfig(e.tls(t)))
	}
	c, err := goldap.DialURL(e.url, opts...)
	require.NoError(t, err)
	if strings.HasPrefix(e.url, "ldap:") {
		require.NoError(t, c.StartTLS(e.tls(t)))
	}
	require.NoError(t, c.Bind(e.bindDN, e.password))
	t.Cleanup(func() { c.Close() })
	return c
}

func unique(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func utf16Quoted(pw string) string {
	u := utf16.Encode([]rune(`"` + pw + `"`))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return string(b)
}

// deleteTree deletes dn and everything under it, deepest first.
func deleteTree(c *goldap.Conn, dn string) {
	res, err := c.SearchWithPaging(goldap.NewSearchRequest(dn, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil), 500)
	if err != nil {
		return
	}
	for d := 20; d > 0; d-- {
		for _, e := range res.Entries {
			if p, err := goldap.ParseDN(e.DN); err == nil && len(p.RDNs) == d {
				_ = c.Del(goldap.NewDelRequest(e.DN, nil))
			}
		}
	}
}

const (
	adOld   = "Old-Pa55word-b4e1c2"
	adNew   = "New-Pa55word-9f3a7d"
	adNext  = "Next-Pa55word-0c8e5b"
	adWrong = "Wr0ng-Pa55word-a1b2c3"
)

// adFixture is an OU of the test's own with four users (password adOld), a
// PSO (history 3, complexity, 10 characters, lockout after 3 failures)
// applied to the first three, and the world syncing them.
type adFixture struct {
	env   dirEnv
	users map[string]string // name → DN
	w     *world
	svc   *writeback.PasswordService
}

func newADFixture(t testing.TB) *adFixture {
	env := loadDirEnv(t, "AD", "Samba AD domain controller")
	admin := env.admin(t)
	ou := env.newOU(t, admin, "OU")
	add := func(dn string, attrs map[string][]string) { t.Helper(); addEntry(t, admin, dn, attrs) }
	users := map[string]string{}
	for _, name := range []string{"ada", "grace", "linus", "nopolicy"} {
		sam := unique(name[:2])
		dn := "CN=" + sam + "," + ou
		add(dn, map[string][]string{
			"objectClass": {"user"}, "sAMAccountName": {sam}, "userPrincipalName": {sam + "@example.test"},
			"unicodePwd": {utf16Quoted(adOld)}, "userAccountControl": {"512"},
		})
		users[name] = dn
	}
	pso := "CN=" + unique("pso") + ",CN=Password Settings Container,CN=System," + env.base
	add(pso, map[string][]string{
		"objectClass":                              {"msDS-PasswordSettings"},
		"msDS-PasswordSettingsPrecedence":          {"1"},
		"msDS-PasswordReversibleEncryptionEnabled": {"FALSE"},
		"msDS-PasswordHistoryLength":               {"3"},
		"msDS-PasswordComplexityEnabled":           {"TRUE"},
		"msDS-MinimumPasswordLength":               {"10"},
		"msDS-MinimumPasswordAge":                  {"0"},
		"msDS-MaximumPasswordAge":                  {"-37108517437440"},
		"msDS-LockoutThreshold":                    {"3"},
		"msDS-LockoutObservationWindow":            {"-18000000000"},
		"msDS-LockoutDuration":                     {"-18000000000"},
		"msDS-PSOAppliesTo":                        {users["ada"], users["grace"], users["linus"]},
	})
	t.Cleanup(func() { _ = admin.Del(goldap.NewDelRequest(pso, nil)) })

	dir, err := ldap.New(ldap.Config{
		URL: env.url, CAFile: env.ca, BindDN: env.bindDN, Password: connector.NewSecret(env.password),
		Containers: []ldap.Container{{DN: ou}},
		Types:      []ldap.TypeConfig{{Name: "user", ObjectClasses: []string{"user"}, Attributes: []string{"sAMAccountName", "userPrincipalName", "objectGUID"}}},
	})
	require.NoError(t, err)
	t.Cleanup(func() { dir.Close() })
	w := newWorld(t, dir, "has(source.userPrincipalName)", "source.userPrincipalName", "base64(source.objectGUID)")
	svc := w.service(writeback.Limits{PerUser: writeback.Rate{Requests: 1000, Per: time.Second}, Global: writeback.Rate{Requests: 1000, Per: time.Second}, MaxUsers: 100})
	return &adFixture{env: env, users: users, w: w, svc: svc}
}

func (f *adFixture) upn(name string) string {
	sam, _, _ := strings.Cut(strings.TrimPrefix(f.users[name], "CN="), ",")
	return strings.ToLower(sam) + "@example.test"
}

func TestADPasswordWriteback(t *testing.T) {
	f := newADFixture(t)
	env, users, w, svc, upn := f.env, f.users, f.w, f.svc, f.upn
	reset := func(name, pw string, unlock bool) error {
		_, err := svc.SetPassword(w.ctx, writeback.PasswordRequest{User: writeback.UserRef{ObjectID: w.objectID(upn(name))}, Password: connector.NewSecret(pw), Unlock: unlock})
		return err
	}
	change := func(name, old, pw string) error {
		_, err := svc.SetPassword(w.ctx, writeback.PasswordRequest{User: writeback.UserRef{UserPrincipalName: upn(name)}, Current: connector.NewSecret(old), Password: connector.NewSecret(pw)})
		return err
	}
	policy := func(t *testing.T, err error, reason connector.PolicyReason) {
		t.Helper()
		require.ErrorIs(t, err, connector.ErrPasswordPolicy)
		var pe *connector.PasswordPolicyError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, reason, pe.Reason, "%v", err)
	}

	t.Run("reset: the new password binds, the old does not", func(t *testing.T) {
		require.NoError(t, reset("ada", adNew, false))
		require.NoError(t, env.bind(t, users["ada"], adNew))
		require.Error(t, env.bind(t, users["ada"], adOld))
	})
	t.Run("change refused by history", func(t *testing.T) {
		policy(t, change("ada", adNew, adOld), connector.ReasonHistory)
		require.NoError(t, env.bind(t, users["ada"], adNew), "the password is unchanged")
	})
	t.Run("change refused by complexity", func(t *testing.T) {
		policy(t, change("ada", adNew, "alllowercaseletters"), connector.ReasonComplexity)
	})
	t.Run("reset refused: too short", func(t *testing.T) {
		policy(t, reset("ada", "Sh0rt!", false), connector.ReasonTooShort)
	})
	t.Run("change with a wrong current password", func(t *testing.T) {
		require.ErrorIs(t, change("ada", adWrong, adNext), connector.ErrWrongPassword)
	})
	t.Run("change", func(t *testing.T) {
		require.NoError(t, change("ada", adNew, adNext))
		require.NoError(t, env.bind(t, users["ada"], adNext))
		require.Error(t, env.bind(t, users["ada"], adNew))
	})
	t.Run("locked account: a reset alone leaves it locked, unlock opens it", func(t *testing.T) {
		for range 4 {
			require.Error(t, env.bind(t, users["grace"], adWrong))
		}
		require.Error(t, env.bind(t, users["grace"], adOld), "locked out after 3 failures")
		require.NoError(t, reset("grace", adNew, false))
		require.Error(t, env.bind(t, users["grace"], adNew), "AD keeps an account locked after a reset")
		require.NoError(t, reset("grace", adNext, true))
		require.NoError(t, env.bind(t, users["grace"], adNext))
	})
	t.Run("cloud-only user refused", func(t *testing.T) {
		w.cloud.Put(connector.Object{Anchor: "cloud-only-ad", DN: "users/cloud-only-ad", Type: "user",
			Attrs: connector.Attributes{"userPrincipalName": {connector.StringValue("cloud-only@example.test")}}})
		_, err := w.eng.FullImport(w.ctx, "cloud")
		require.NoError(t, err)
		_, err = w.eng.FullSync(w.ctx, "cloud")
		require.NoError(t, err)
		_, err = svc.SetPassword(w.ctx, writeback.PasswordRequest{User: writeback.UserRef{ObjectID: "cloud-only-ad"}, Password: connector.NewSecret(adNew)})
		require.ErrorIs(t, err, writeback.ErrNotSynced)
	})
	noSecrets(t, "the audit log", w.log.String())
	for _, s := range []string{adOld, adNew, adNext, adWrong} {
		assert.NotContains(t, w.log.String(), s)
	}
}
