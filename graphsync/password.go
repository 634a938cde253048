package graphsync

import (
	"context"
	"errors"
	"fmt"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/idbridge/idbridge/connector"
)

// SetPassword sets a user's password (passwordProfile, without forcing a
// change at next sign-in), for password writeback's reverse: a password
// set on-premises pushed to a cloud-only account. The application needs
// User-PasswordProfile.ReadWrite.All or a role that may reset passwords.
// The password is never logged nor part of an error.
func (c *Connector) SetPassword(ctx context.Context, anchor connector.Anchor, dn string, password connector.Secret) error {
	if err := c.check(); err != nil {
		return err
	}
	id := string(anchor)
	if id == "" && typeOfDN(dn) == TypeUser {
		id = dn[len("users/"):]
	}
	if id == "" {
		return &connector.ObjectError{DN: dn, Op: "set-password", Err: fmt.Errorf("no user id: %w", connector.ErrInvalidObject)}
	}
	pw := password.Reveal()
	force := false
	profile := models.NewPasswordProfile()
	profile.SetPassword(&pw)
	profile.SetForceChangePasswordNextSignIn(&force)
	u := models.NewUser()
	u.SetPasswordProfile(profile)
	var err error
	for attempt := 1; ; attempt++ {
		if err = c.pacer.acquire(ctx, 1); err != nil {
			return err
		}
		_, err = c.client.Users().ByUserId(id).Patch(ctx, u, nil)
		c.pacer.release(false)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		err = fromSDK("PATCH", "/users/"+id, err)
		if !errors.Is(err, connector.ErrUnavailable) || attempt >= c.cfg.MaxAttempts {
			break
		}
		// The throttle observer has set the pause; acquire waits for it.
	}
	return &connector.ObjectError{Anchor: anchor, DN: dnOf(TypeUser, id), Op: "set-password", Err: err}
}
