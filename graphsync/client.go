package graphsync

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
)

// StaticToken is a credential that always returns the same bearer token:
// for emulators and tests, or a token obtained elsewhere.
type StaticToken string

// GetToken implements azcore.TokenCredential.
func (t StaticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(t), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// tokenProvider gives kiota the credential's tokens, for the configured
// Graph host only: a token never goes to another host (a nextLink that
// points elsewhere gets no Authorization header).
type tokenProvider struct {
	cred   azcore.TokenCredential
	scopes []string
	hosts  *authentication.AllowedHostsValidator
}

func (p *tokenProvider) GetAuthorizationToken(ctx context.Context, u *url.URL, _ map[string]any) (string, error) {
	if !p.hosts.IsUrlHostValid(u) {
		return "", nil
	}
	if u.Scheme != "https" && !isLoopback(u.Hostname()) {
		return "", fmt.Errorf("graphsync: refusing to send a token over %s to %s", u.Scheme, u.Host)
	}
	tok, err := p.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: p.scopes})
	if err != nil {
		return "", fmt.Errorf("graphsync: obtaining a token: %w", err)
	}
	return tok.Token, nil
}

func (p *tokenProvider) GetAllowedHostsValidator() *authentication.AllowedHostsValidator {
	return p.hosts
}

// throttleObserver is a middleware placed under the SDK's retry handler: it
// sees every attempt, and tells the pacer about throttling so that all
// workers slow down, not only the one that was told.
type throttleObserver struct{ p *pacer }

func (o throttleObserver) Intercept(pipeline khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	resp, err := pipeline.Next(req, i)
	if err == nil && isThrottle(resp.StatusCode) {
		o.p.throttled(retryAfter(resp.Header.Get("Retry-After")))
	}
	return resp, err
}

func isThrottle(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// retryAfter parses a Retry-After header (seconds or an HTTP date); 0 when
// absent or unreadable.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// newClient builds the SDK's request adapter and client: Graph's default
// middleware (telemetry, retry on 429/503/504 honouring Retry-After,
// redirects, gzip of request bodies) with the retry handler configured
// (it panics when ShouldRetry is nil) and the throttle observer under it.
func newClient(cfg Config, p *pacer) (*msgraph.GraphRequestAdapter, *msgraph.GraphServiceClient, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, nil, err
	}
	auth := authentication.NewBaseBearerTokenAuthenticationProvider(&tokenProvider{
		cred:   cfg.Credential,
		scopes: cfg.Scopes,
		hosts:  mustHosts(base.Hostname()),
	})
	var mw []khttp.Middleware
	for _, m := range msgraphcore.GetDefaultMiddlewaresWithOptions(&msgraphcore.GraphClientOptions{}) {
		if _, ok := m.(*khttp.RetryHandler); ok {
			m = khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{
				MaxRetries:   min(cfg.MaxAttempts-1, 10),
				DelaySeconds: 1,
				// Requests with a body are retried by the connector, not
				// here: the compression handler gzips a shallow copy of
				// the request and consumes the original body, so this
				// handler would re-send an empty body (kiota-http-go
				// v1.5.4). GETs and DELETEs are safe to retry here.
				ShouldRetry: func(_ time.Duration, _ int, req *http.Request, _ *http.Response) bool {
					return req.Body == nil || req.Body == http.NoBody || req.Method == http.MethodGet
				},
			})
		}
		mw = append(mw, m)
	}
	mw = append(mw, throttleObserver{p})
	parent := http.DefaultTransport
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		if cfg.HTTPClient.Transport != nil {
			parent = cfg.HTTPClient.Transport
		}
		hc.Timeout = cfg.HTTPClient.Timeout
	}
	hc.Transport = khttp.NewCustomTransportWithParentTransport(parent, mw...)
	adapter, err := msgraph.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		return nil, nil, fmt.Errorf("graphsync: %w", err)
	}
	adapter.SetBaseUrl(strings.TrimRight(cfg.BaseURL, "/"))
	return adapter, msgraph.NewGraphServiceClient(adapter), nil
}

func mustHosts(host string) *authentication.AllowedHostsValidator {
	v, err := authentication.NewAllowedHostsValidatorErrorCheck([]string{host})
	if err != nil {
		v = &authentication.AllowedHostsValidator{}
	}
	return v
}
