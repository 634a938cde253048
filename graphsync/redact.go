package graphsync

import (
	"fmt"
	"log/slog"

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

// SecretToken is StaticToken for a token held as a connector.Secret (read
// from configuration, an environment variable or a file).
func SecretToken(token connector.Secret) *StaticTokenCredential {
	return &StaticTokenCredential{tok: token}
}
