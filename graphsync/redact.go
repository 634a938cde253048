package graphsync

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/idbridge/idbridge/connector"

	"github.com/idbridge/idbridge/internal/redact"
)

// String describes the connector by its Graph endpoint; never a token.
func (c *Connector) String() string {
	return fmt.Sprintf("graphsync.Connector(%s)", redact.URL(c.cfg.BaseURL))
}

// Format implements fmt.Formatter: every verb, %+v and %#v included,
// prints String, so that fmt never walks the connector's fields (its
// credential among them).
func (c *Connector) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// LogValue implements slog.LogValuer: the Graph endpoint and the tenant's
// initial domain when known.
func (c *Connector) LogValue() slog.Value {
	c.mu.Lock()
	domain := c.initialDomain
	c.mu.Unlock()
	return slog.GroupValue(slog.String("baseURL", redact.URL(c.cfg.BaseURL)), slog.String("initialDomain", domain))
}

const redacted = "[redacted]"

// String implements fmt.Stringer: a StaticToken prints as "[redacted]".
func (StaticToken) String() string { return redacted }

// GoString implements fmt.GoStringer (%#v).
func (StaticToken) GoString() string { return redacted }

// Format implements fmt.Formatter: every verb writes "[redacted]". (A
// StaticToken reached by reflection, in an unexported field of a struct
// printed with %v, still prints as the string it is: keep a Config in an
// exported field, or use SecretToken.)
func (StaticToken) Format(f fmt.State, _ rune) { f.Write([]byte(redacted)) }

// LogValue implements slog.LogValuer.
func (StaticToken) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText implements encoding.TextMarshaler: encoders write
// "[redacted]".
func (StaticToken) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// SecretToken is StaticToken for a token held as a connector.Secret (read
// from configuration, an environment variable or a file): it never
// prints, not even by reflection.
func SecretToken(token connector.Secret) azcore.TokenCredential { return secretToken{token} }

type secretToken struct{ token connector.Secret }

// GetToken implements azcore.TokenCredential.
func (t secretToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: t.token.Reveal(), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// sealCredential returns a StaticToken as a SecretToken, so that the
// connector never holds the token where reflection-based printing (fmt's
// %v of a struct that holds the Connector) could reach it.
func sealCredential(c azcore.TokenCredential) azcore.TokenCredential {
	if t, ok := c.(StaticToken); ok {
		return SecretToken(connector.NewSecret(string(t)))
	}
	return c
}
