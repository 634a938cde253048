package graphsync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
)

// TestStaticTokenNeverPrints: the token is not in any formatting of the
// credential, of a Config holding it, of a Connector, nor in slog output.
func TestStaticTokenNeverPrints(t *testing.T) {
	const secret = "eyJ0eXAiOiJKV1QiLCJub25jZSI6InNlY3JldC10b2tlbiJ9"
	cred := graphsync.StaticToken(secret)
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{})
	require.NoError(t, err)
	assert.Equal(t, secret, tok.Token, "the token still reaches Graph")

	srv := graphtest.NewServer(graphtest.Options{})
	t.Cleanup(srv.Close)
	cfg := graphsync.Config{BaseURL: srv.URL() + "/v1.0", Credential: cred, HTTPClient: srv.Client(), Types: []string{graphsync.TypeUser}}
	c, err := graphsync.New(cfg)
	require.NoError(t, err)
	var out []string
	for _, v := range []any{cred, cfg, &cfg, c} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
	}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		slog.New(h).Info("config", "cred", cred, "cfg", cfg, "connector", c)
	}
	out = append(out, buf.String())
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	out = append(out, string(b))
	for _, s := range out {
		assert.NotContains(t, s, secret)
		assert.NotContains(t, s, "secret-token")
	}
}

// fakeEntra is a token endpoint that refuses the client secret, as
// Microsoft Entra ID does (AADSTS7000215).
func fakeEntra(t *testing.T) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
			base := srv.URL + "/tenant"
			_ = json.NewEncoder(w).Encode(map[string]any{
				"token_endpoint":         base + "/oauth2/v2.0/token",
				"authorization_endpoint": base + "/oauth2/v2.0/authorize",
				"issuer":                 base + "/v2.0",
			})
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]any{
				"error":             "invalid_client",
				"error_description": "AADSTS7000215: Invalid client secret provided.",
				"error_codes":       []int{7000215},
			})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestRefusedClientSecretIsAccessDenied: a client secret Entra ID refuses
// is access denied and permanent, not a transient failure retried
// forever; the secret is not in the error.
func TestRefusedClientSecretIsAccessDenied(t *testing.T) {
	const secret = "Xy7~not-a-real-client-secret"
	entra := fakeEntra(t)
	cred, err := azidentity.NewClientSecretCredential("tenant", "00000000-0000-0000-0000-000000000001", secret,
		&azidentity.ClientSecretCredentialOptions{
			ClientOptions: azcore.ClientOptions{
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: entra.URL + "/"},
				Transport: entra.Client(),
			},
			DisableInstanceDiscovery: true,
		})
	require.NoError(t, err)
	srv, _ := newEnv(t, graphtest.Options{})
	c := newConn(t, srv, func(cfg *graphsync.Config) { cfg.Credential = cred })

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = c.Import(ctx, &connectortest.Recorder{})
	require.Error(t, err)
	assert.ErrorIs(t, err, connector.ErrAccessDenied)
	assert.ErrorIs(t, err, connector.ErrAuth, "the engine quarantines the connector at once")
	assert.NotErrorIs(t, err, connector.ErrUnavailable)
	assert.False(t, connector.IsRetryable(err))
	assert.NotContains(t, err.Error(), secret)

	res, err := c.Export(ctx, []connector.Change{newUser("denied", "onPremisesImmutableId", "DENIED")})
	require.NoError(t, err)
	assert.ErrorIs(t, res[0].Err, connector.ErrAccessDenied)
	assert.False(t, connector.IsRetryable(res[0].Err))
	assert.Empty(t, srv.Users())
}

// TestRetryAfterCapped: a Retry-After of a day waits MaxRetryAfter, for a
// throttled GET (retried by the SDK) and for a throttled request of an
// export's $batch (retried by the connector's pacer).
func TestRetryAfterCapped(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault graphtest.Fault
		run   func(ctx context.Context, c *graphsync.Connector) error
	}{
		{"import", graphtest.Fault{Method: "GET", Status: http.StatusTooManyRequests, Count: 1}, func(ctx context.Context, c *graphsync.Connector) error {
			return c.Import(ctx, &connectortest.Recorder{})
		}},
		{"export", graphtest.Fault{Method: "POST", Path: "/users", Status: http.StatusTooManyRequests, Count: 1}, func(ctx context.Context, c *graphsync.Connector) error {
			res, err := c.Export(ctx, []connector.Change{newUser("capped", "onPremisesImmutableId", "CAPPED")})
			if err != nil {
				return err
			}
			return res[0].Err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := newEnv(t, graphtest.Options{RetryAfter: 24 * time.Hour}, func(cfg *graphsync.Config) {
				cfg.MaxRetryAfter = 10 * time.Millisecond
			})
			srv.InjectFault(tc.fault)
			// The deadline turns a day's wait into a failure.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			require.NoError(t, tc.run(ctx, c))
			assert.Equal(t, 1, srv.FaultsFired())
		})
	}
}
