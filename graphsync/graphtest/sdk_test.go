package graphtest_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

// staticToken is an authentication.AccessTokenProvider returning a fixed
// token.
type staticToken string

func (t staticToken) GetAuthorizationToken(context.Context, *url.URL, map[string]any) (string, error) {
	return string(t), nil
}

func (t staticToken) GetAllowedHostsValidator() *authentication.AllowedHostsValidator {
	v, _ := authentication.NewAllowedHostsValidatorErrorCheck(nil)
	return v
}

// sdk is a Graph SDK client wired to an emulator.
type sdk struct {
	client  *msgraph.GraphServiceClient
	adapter *msgraph.GraphRequestAdapter
}

type clientConfig struct {
	token      string
	maxRetries int
}

// newSDK builds a real msgraph-sdk-go client against srv, with the default
// Graph middleware (retry, compression, …) and a retry handler that
// follows Retry-After.
func newSDK(t testing.TB, srv *graphtest.Server, cfgs ...clientConfig) *sdk {
	t.Helper()
	cfg := clientConfig{token: "test-token", maxRetries: 3}
	if len(cfgs) > 0 {
		cfg = cfgs[0]
	}
	mws := msgraphcore.GetDefaultMiddlewaresWithOptions(&msgraphcore.GraphClientOptions{})
	for i, m := range mws {
		if _, ok := m.(khttp.RetryHandler); ok {
			mws[i] = retryHandler(cfg.maxRetries)
		}
		if _, ok := m.(*khttp.RetryHandler); ok {
			mws[i] = retryHandler(cfg.maxRetries)
		}
	}
	transport := khttp.NewCustomTransportWithParentTransport(srv.Client().Transport, mws...)
	auth := authentication.NewBaseBearerTokenAuthenticationProvider(staticToken(cfg.token))
	adapter, err := msgraph.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, nil, nil, &http.Client{Transport: transport, Timeout: 30 * time.Second})
	require.NoError(t, err)
	adapter.SetBaseUrl(srv.URL() + "/v1.0")
	return &sdk{client: msgraph.NewGraphServiceClient(adapter), adapter: adapter}
}

func retryHandler(maxRetries int) *khttp.RetryHandler {
	return khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{
		ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return maxRetries > 0 },
		MaxRetries:  max(maxRetries, 1),
	})
}

// odataErr extracts the Graph error of an SDK call.
func odataErr(t testing.TB, err error) odataerrors.MainErrorable {
	t.Helper()
	require.Error(t, err)
	var oe odataerrors.ODataErrorable
	require.True(t, errors.As(err, &oe), "not an OData error: %v", err)
	require.NotNil(t, oe.GetErrorEscaped())
	return oe.GetErrorEscaped()
}

func responseStatus(t testing.TB, err error) int {
	t.Helper()
	var oe *odataerrors.ODataError
	require.True(t, errors.As(err, &oe), "not an OData error: %v", err)
	return oe.ResponseStatusCode
}

func ptr[T any](v T) *T { return &v }

// newUser builds a valid user for POST /users.
func newUser(nick, domain string) models.Userable {
	u := models.NewUser()
	u.SetAccountEnabled(ptr(true))
	u.SetDisplayName(ptr("User " + nick))
	u.SetMailNickname(ptr(nick))
	u.SetUserPrincipalName(ptr(nick + "@" + domain))
	pp := models.NewPasswordProfile()
	pp.SetPassword(ptr("P@ssw0rd-" + nick))
	u.SetPasswordProfile(pp)
	return u
}

// seedUser creates a user through the direct-state API.
func seedUser(t testing.TB, srv *graphtest.Server, nick string, extra map[string]any) string {
	t.Helper()
	props := map[string]any{
		"accountEnabled":    true,
		"displayName":       "User " + nick,
		"mailNickname":      nick,
		"userPrincipalName": nick + "@example.com",
		"passwordProfile":   map[string]any{"password": "P@ssw0rd"},
	}
	for k, v := range extra {
		props[k] = v
	}
	id, err := srv.CreateUser(props)
	require.NoError(t, err)
	return id
}

func seedGroup(t testing.TB, srv *graphtest.Server, nick string, extra map[string]any) string {
	t.Helper()
	props := map[string]any{
		"displayName":     "Group " + nick,
		"mailEnabled":     false,
		"mailNickname":    nick,
		"securityEnabled": true,
	}
	for k, v := range extra {
		props[k] = v
	}
	id, err := srv.CreateGroup(props)
	require.NoError(t, err)
	return id
}

func newServer(t testing.TB, opts graphtest.Options) *graphtest.Server {
	t.Helper()
	srv := graphtest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}
