package ldap_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldap"
)

const redactPassword = "Sekr1t-ldap-rq4"

func redactConfig(url string) ldap.Config {
	return ldap.Config{
		URL: url, BindDN: "cn=sync,dc=example,dc=test", Password: connector.NewSecret(redactPassword),
		Containers: []ldap.Container{{DN: "dc=example,dc=test"}},
		Types:      []ldap.TypeConfig{{Name: "user", ObjectClasses: []string{"person"}}},
		Timeout:    5 * time.Second,
	}
}

func TestConnectorNeverPrintsItsPassword(t *testing.T) {
	c, err := ldap.New(redactConfig("ldaps://127.0.0.1:1"))
	require.NoError(t, err)
	defer c.Close()
	var text, js strings.Builder
	slog.New(slog.NewTextHandler(&text, nil)).Info("connector", "c", c)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("connector", "c", c)
	outs := []string{text.String(), js.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
		outs = append(outs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, struct{ c *ldap.Connector }{c}))
	}
	for _, out := range outs {
		assert.NotContains(t, out, redactPassword)
		assert.NotContains(t, out, fmt.Sprintf("%x", redactPassword))
	}
	assert.Contains(t, fmt.Sprint(c), "ldaps://127.0.0.1:1")
	assert.Contains(t, text.String(), `c.bindDN="cn=sync,dc=example,dc=test"`)
}

func TestURLPasswordNotEchoed(t *testing.T) {
	// A port nobody listens on: the dial fails at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	for _, tt := range []struct{ name, url string }{
		{"InvalidEscape", "ldaps://admin:" + redactPassword + "@" + addr + "/%zz"},
		{"BadScheme", "http://admin:" + redactPassword + "@" + addr},
		{"DialFails", "ldaps://admin:" + redactPassword + "@" + addr},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ldap.New(redactConfig(tt.url))
			if err == nil {
				defer c.Close()
				assert.NotContains(t, fmt.Sprintf("%+v", c), redactPassword)
				_, err = c.Schema(context.Background())
			}
			require.Error(t, err)
			assert.NotContains(t, err.Error(), redactPassword)
		})
	}
}
