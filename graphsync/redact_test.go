package graphsync_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/graphsync"
)

const redactToken = "Sekr1t-graph-token-zk3"

func TestConnectorNeverPrintsItsToken(t *testing.T) {
	for _, cred := range []struct {
		name string
		cfg  graphsync.Config
	}{
		{"StaticToken", graphsync.Config{BaseURL: "http://127.0.0.1:1/v1.0", Credential: graphsync.StaticToken(redactToken), Types: []string{graphsync.TypeUser}}},
		{"SecretToken", graphsync.Config{BaseURL: "http://127.0.0.1:1/v1.0", Credential: graphsync.SecretToken(connector.NewSecret(redactToken)), Types: []string{graphsync.TypeUser}}},
	} {
		t.Run(cred.name, func(t *testing.T) {
			c, err := graphsync.New(cred.cfg)
			require.NoError(t, err)
			var text, js strings.Builder
			slog.New(slog.NewTextHandler(&text, nil)).Info("connector", "c", c, "cfg", cred.cfg, "token", cred.cfg.Credential)
			slog.New(slog.NewJSONHandler(&js, nil)).Info("connector", "c", c, "token", cred.cfg.Credential)
			outs := []string{text.String(), js.String()}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
				outs = append(outs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, cred.cfg), fmt.Sprintf(verb, cred.cfg.Credential), fmt.Sprintf(verb, struct{ c *graphsync.Connector }{c}))
			}
			for _, out := range outs {
				assert.NotContains(t, out, redactToken)
				assert.NotContains(t, out, fmt.Sprintf("%x", redactToken))
			}
			assert.Contains(t, fmt.Sprint(c), "http://127.0.0.1:1/v1.0")
			tok, err := cred.cfg.Credential.GetToken(context.Background(), policy.TokenRequestOptions{})
			require.NoError(t, err)
			assert.Equal(t, redactToken, tok.Token)
		})
	}
}

func TestBaseURLPasswordNotEchoed(t *testing.T) {
	for _, u := range []string{"http://user:" + redactToken + "@example.com/v1.0", "https://user:" + redactToken + "@example.com/%zz"} {
		_, err := graphsync.New(graphsync.Config{BaseURL: u, Credential: graphsync.StaticToken("t")})
		require.Error(t, err)
		assert.NotContains(t, err.Error(), redactToken)
	}
}
