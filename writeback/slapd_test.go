package writeback_test

import (
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldap"
	"github.com/idbridge/idbridge/writeback"
)

// Password writeback against OpenLDAP with the ppolicy overlay (make test's
// slapd): a password policy of the test's own (history, minimum length,
// lockout) named by the users' pwdPolicySubentry.
func TestSlapdPasswordWriteback(t *testing.T) {
	env := loadDirEnv(t, "SLAPD", "OpenLDAP server")
	admin := env.admin(t)
	ou := env.newOU(t, admin, "ou")
	add := func(dn string, attrs map[string][]string) { t.Helper(); addEntry(t, admin, dn, attrs) }
	policy := "cn=policy," + ou
	add(policy, map[string][]string{
		"objectClass": {"device", "pwdPolicy"}, "pwdAttribute": {"userPassword"},
		"pwdInHistory": {"3"}, "pwdMinLength": {"10"}, "pwdCheckQuality": {"2"},
		"pwdLockout": {"TRUE"}, "pwdMaxFailure": {"3"}, "pwdLockoutDuration": {"0"},
	})
	users := map[string]string{}
	for _, name := range []string{"ada", "grace"} {
		uid := unique(name[:2])
		dn := "uid=" + uid + "," + ou
		add(dn, map[string][]string{
			"objectClass": {"inetOrgPerson"}, "uid": {uid}, "cn": {name}, "sn": {name},
			"mail": {uid + "@example.test"}, "pwdPolicySubentry": {policy},
		})
		_, err := admin.PasswordModify(goldap.NewPasswordModifyRequest(dn, "", adOld))
		require.NoError(t, err)
		users[name] = dn
	}
	dir, err := ldap.New(ldap.Config{
		URL: env.url, CAFile: env.ca, BindDN: env.bindDN, Password: connector.NewSecret(env.password),
		Containers: []ldap.Container{{DN: ou}},
		Types:      []ldap.TypeConfig{{Name: "user", ObjectClasses: []string{"inetOrgPerson"}, Attributes: []string{"uid", "mail"}}},
	})
	require.NoError(t, err)
	t.Cleanup(func() { dir.Close() })
	w := newWorld(t, dir, "size(source.mail) > 0", "source.mail[0]", "source.uid[0]")
	svc := w.service(writeback.Limits{PerUser: writeback.Rate{Requests: 100, Per: time.Second}, Global: writeback.Rate{Requests: 100, Per: time.Second}, MaxUsers: 100})
	mail := func(name string) string {
		uid, _, _ := strings.Cut(strings.TrimPrefix(users[name], "uid="), ",")
		return uid + "@example.test"
	}
	reset := func(name, pw string, unlock bool) error {
		_, err := svc.SetPassword(w.ctx, writeback.PasswordRequest{User: writeback.UserRef{ObjectID: w.objectID(mail(name))}, Password: connector.NewSecret(pw), Unlock: unlock})
		return err
	}
	change := func(name, old, pw string) error {
		_, err := svc.SetPassword(w.ctx, writeback.PasswordRequest{User: writeback.UserRef{UserPrincipalName: mail(name)}, Current: connector.NewSecret(old), Password: connector.NewSecret(pw)})
		return err
	}
	refused := func(t *testing.T, err error, reason connector.PolicyReason) {
		t.Helper()
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
		refused(t, change("ada", adNew, adOld), connector.ReasonHistory)
		require.NoError(t, env.bind(t, users["ada"], adNew))
	})
	t.Run("change refused: too short", func(t *testing.T) {
		// ppolicy answers "fails quality checking policy" for every quality
		// rule, so the reason is the generic one.
		refused(t, change("ada", adNew, "short"), connector.ReasonPolicy)
	})
	t.Run("change with a wrong current password", func(t *testing.T) {
		require.ErrorIs(t, change("ada", adWrong, adNext), connector.ErrWrongPassword)
	})
	t.Run("change", func(t *testing.T) {
		require.NoError(t, change("ada", adNew, adNext))
		require.NoError(t, env.bind(t, users["ada"], adNext))
	})
	t.Run("locked account unlocked on reset", func(t *testing.T) {
		for range 3 {
			require.Error(t, env.bind(t, users["grace"], adWrong))
		}
		require.Error(t, env.bind(t, users["grace"], adOld), "locked out after 3 failures")
		require.ErrorIs(t, change("grace", adOld, adNew), connector.ErrAccountLocked)
		require.NoError(t, reset("grace", adNext, true))
		require.NoError(t, env.bind(t, users["grace"], adNext))
	})
	noSecrets(t, "the audit log", w.log.String())
}
