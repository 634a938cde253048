package graphsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/idbridge/idbridge/connector"
)

// StaticToken returns a credential that always returns the same bearer
// token: for emulators and tests, or a token obtained elsewhere. The
// credential never prints the token: fmt, log/slog and reflection over a
// Config or a Connector show "[redacted]" or a pointer.
func StaticToken(token string) *StaticTokenCredential {
	return &StaticTokenCredential{tok: connector.NewSecret(token)}
}

// StaticTokenCredential is the credential StaticToken returns. It is safe
// for concurrent use.
type StaticTokenCredential struct{ tok connector.Secret }

// GetToken implements azcore.TokenCredential.
func (t *StaticTokenCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: t.tok.Reveal(), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

const redactedToken = "graphsync.StaticToken([redacted])"

// String implements fmt.Stringer without the token.
func (*StaticTokenCredential) String() string { return redactedToken }

// GoString implements fmt.GoStringer (%#v) without the token.
func (*StaticTokenCredential) GoString() string { return redactedToken }

// Format implements fmt.Formatter: every verb prints the redacted form.
func (t *StaticTokenCredential) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redactedToken) }

// LogValue implements slog.LogValuer without the token.
func (*StaticTokenCredential) LogValue() slog.Value { return slog.StringValue(redactedToken) }

// credentialError classifies a credential's failure to give a token: a
// rejected client, secret, certificate or grant (Entra ID answers 400/401
// with invalid_client, unauthorized_client or invalid_grant) is access
// denied and permanent: retrying cannot help until an administrator
// changes the configuration. Anything else (the token endpoint
// unreachable, a 5xx) is unavailable and may be retried.
func credentialError(err error) error {
	var af *azidentity.AuthenticationFailedError
	if errors.As(err, &af) && af.RawResponse != nil {
		switch status := af.RawResponse.StatusCode; {
		case status == http.StatusBadRequest || status == http.StatusUnauthorized || status == http.StatusForbidden:
			return connector.Permanent(fmt.Errorf("graphsync: the credential was refused (%d): %w: %w: %w", status, connector.ErrAuth, connector.ErrAccessDenied, err))
		}
	}
	if errors.Is(err, connector.ErrAccessDenied) {
		return fmt.Errorf("graphsync: obtaining a token: %w", err)
	}
	return fmt.Errorf("graphsync: obtaining a token: %w: %w", connector.ErrUnavailable, err)
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
		return "", credentialError(err)
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
		wait := retryAfter(resp.Header.Get("Retry-After"))
		if wait > o.p.maxPause {
			// The SDK's retry handler above waits for the header's
			// value: it sees the capped one.
			wait = o.p.maxPause
			resp.Header.Set("Retry-After", strconv.FormatFloat(wait.Seconds(), 'f', -1, 64))
		}
		o.p.throttled(wait)
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
