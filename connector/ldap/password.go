package ldap

import (
	"context"
	"fmt"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
)

// SetPassword sets an object's password: on Active Directory by replacing
// unicodePwd (over TLS only), elsewhere with the Password Modify extended
// operation (RFC 3062). The password never appears in an error.
func (c *Connector) SetPassword(ctx context.Context, anchor connector.Anchor, dn string, password connector.Secret) error {
	if err := c.init(ctx); err != nil {
		return err
	}
	dn, err := c.dnOf(ctx, connector.Change{Anchor: anchor, DN: dn})
	if err != nil {
		return err
	}
	if c.root.dialect == ActiveDirectory {
		return c.adSetPassword(ctx, dn, password)
	}
	req := ldap.NewPasswordModifyRequest(dn, "", password.Reveal())
	err = c.s.run(ctx, func(conn *ldap.Conn) error {
		_, err := conn.PasswordModify(req)
		return err
	})
	if err != nil {
		return fmt.Errorf("ldap: setting the password of %s: %w", dn, passwordErr(mapErr(err)))
	}
	return nil
}
