package ldap_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/ldap"
)

// Each kind of bad input gives a clear, typed error, and nothing is
// imported or staged from a connection that failed.
func TestSlapdBadInput(t *testing.T) {
	env := getSlapd(t)
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedPort := ln.Addr().String()
	ln.Close()

	for _, tc := range []struct {
		name   string
		modify func(*ldap.Config)
		want   error
		substr string
	}{
		{"Unreachable", func(c *ldap.Config) { c.URL = "ldaps://" + closedPort; c.Timeout = 2 * time.Second }, connector.ErrUnavailable, "connecting to"},
		{"WrongPassword", func(c *ldap.Config) { c.Password = connector.NewSecret("wrong") }, ldap.ErrInvalidCredentials, "binding to"},
		{"UntrustedCertificate", func(c *ldap.Config) { c.CAFile = ""; c.RootCAs = x509.NewCertPool() }, ldap.ErrUntrustedCertificate, "connecting to"},
		{"UntrustedCertificateStartTLS", func(c *ldap.Config) { c.URL = env.startTLS; c.CAFile = ""; c.RootCAs = x509.NewCertPool() }, ldap.ErrUntrustedCertificate, "StartTLS"},
		{"NoSuchContainer", func(c *ldap.Config) { c.Containers = []ldap.Container{{DN: "ou=missing," + env.base}} }, connector.ErrNoSuchObject, "ou=missing"},
		{"UnknownObjectClass", func(c *ldap.Config) { c.Types[0].ObjectClasses = []string{"noSuchClass"} }, nil, `object class "noSuchClass" is not in the server's schema`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := env.config(ou)
			tc.modify(&cfg)
			c, err := ldap.New(cfg)
			require.NoError(t, err)
			defer c.Close()
			var rec connectortest.Recorder
			err = c.Import(context.Background(), &rec)
			require.Error(t, err)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
			}
			if tc.want == ldap.ErrInvalidCredentials {
				assert.ErrorIs(t, err, connector.ErrAuth, "the engine quarantines the connector at once")
			}
			assert.Contains(t, err.Error(), tc.substr)
			assert.NotContains(t, err.Error(), env.password, "the password never appears in an error")
			assert.Empty(t, rec.Changes)
			assert.Empty(t, rec.Checkpoints, "no watermark from a failed import")
		})
	}
}

func TestSlapdPlainLDAPNeedsOptIn(t *testing.T) {
	env := getSlapd(t)
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	cfg := env.config(ou)
	cfg.URL = env.startTLS // ldap://: upgraded with StartTLS by default
	c, err := ldap.New(cfg)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Schema(context.Background())
	require.NoError(t, err, "StartTLS with a verified certificate")

	cfg.Plaintext, cfg.CAFile = true, ""
	c2, err := ldap.New(cfg)
	require.NoError(t, err)
	defer c2.Close()
	_, err = c2.Schema(context.Background())
	require.NoError(t, err, "plain LDAP when asked for explicitly")
}

func TestSlapdPasswordModify(t *testing.T) {
	env := getSlapd(t)
	ctx := context.Background()
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	dn := addPerson(t, admin, ou, 1, nil)
	c, err := ldap.New(env.config(ou))
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetPassword(ctx, "", dn, connector.NewSecret("N3w-secret")))

	user := env.config(ou)
	user.BindDN, user.Password = dn, connector.NewSecret("N3w-secret")
	uc, err := ldap.New(user)
	require.NoError(t, err)
	defer uc.Close()
	_, err = uc.Schema(ctx)
	assert.NoError(t, err, "the user binds with the new password")

	err = c.SetPassword(ctx, "", "uid=nobody,ou=people,"+ou, connector.NewSecret("x"))
	assert.True(t, errors.Is(err, connector.ErrNoSuchObject), "%v", err)
}

func TestSlapdCancelledImport(t *testing.T) {
	env := getSlapd(t)
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	for i := 0; i < 30; i++ {
		addPerson(t, admin, ou, i, nil)
	}
	c, err := ldap.New(env.config(ou))
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var rec cancelAfter
	rec.n, rec.cancel = 10, cancel
	err = c.Import(ctx, &rec)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, rec.Checkpoints)
}

type cancelAfter struct {
	connectortest.Recorder
	n      int
	cancel func()
}

func (r *cancelAfter) Object(ctx context.Context, c connector.Change) error {
	if len(r.Changes) == r.n {
		r.cancel()
	}
	return r.Recorder.Object(ctx, c)
}
