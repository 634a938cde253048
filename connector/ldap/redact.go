package ldap

import (
	"fmt"
	"log/slog"

	"github.com/idbridge/idbridge/internal/redact"
)

// String describes the connector by its server and bind DN, never its
// password: "ldap.Connector(ldaps://dc1:636 as CN=sync,…)".
func (c *Connector) String() string {
	return fmt.Sprintf("ldap.Connector(%s as %s)", redactURL(c.cfg.URL), c.cfg.BindDN)
}

// Format implements fmt.Formatter: every verb, %+v and %#v included,
// prints String, so that fmt never walks the connector's fields.
func (c *Connector) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// LogValue implements slog.LogValuer: the server, bind DN and dialect.
func (c *Connector) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", redactURL(c.cfg.URL)),
		slog.String("bindDN", c.cfg.BindDN),
		slog.String("dialect", string(c.cfg.Dialect)),
	)
}

// redactURL is redact.URL, for the messages of this package.
func redactURL(raw string) string { return redact.URL(raw) }
