package ldap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
)

// Password changes (the owner's change, proving the current password) and
// account unlock, for password writeback.

var (
	_ connector.PasswordSetter  = (*Connector)(nil)
	_ connector.PasswordChanger = (*Connector)(nil)
	_ connector.AccountUnlocker = (*Connector)(nil)
)

// ChangePassword changes an object's password from old to password, the way
// its owner would, so that the directory applies the rules of a user's own
// change (history, minimum age) on top of those of a reset.
//
// On Active Directory it is one modify that deletes the old unicodePwd and
// adds the new one (MS-ADTS 3.1.1.3.1.5.1), sent over the connector's own
// TLS connection. Elsewhere it binds as the object with the old password on
// a connection of its own and sends Password Modify (RFC 3062) for itself,
// so that the ppolicy overlay checks quality and history (it does not for
// the directory's root DN).
//
// A refusal by the password policy is a *connector.PasswordPolicyError; a
// wrong old password matches connector.ErrWrongPassword; a locked account
// connector.ErrAccountLocked. Neither password appears in an error.
func (c *Connector) ChangePassword(ctx context.Context, anchor connector.Anchor, dn string, old, password connector.Secret) error {
	if err := c.init(ctx); err != nil {
		return err
	}
	dn, err := c.dnOf(ctx, connector.Change{Anchor: anchor, DN: dn})
	if err != nil {
		return err
	}
	if c.root.dialect == ActiveDirectory {
		if err := c.requireTLS(ctx, "changing the password of "+dn); err != nil {
			return err
		}
		req := ldap.NewModifyRequest(dn, nil)
		req.Delete(attrUnicodePwd, []string{encodePassword(old.Reveal())})
		req.Add(attrUnicodePwd, []string{encodePassword(password.Reveal())})
		if err := c.s.run(ctx, func(conn *ldap.Conn) error { return conn.Modify(req) }); err != nil {
			return fmt.Errorf("ldap: changing the password of %s: %w", dn, passwordErr(mapErr(err)))
		}
		return nil
	}
	conn, err := c.s.dialAs(ctx, dn, old)
	if errors.Is(err, connector.ErrWrongPassword) && c.lockedOut(ctx, dn) {
		// ppolicy answers a locked account's bind as a wrong password
		// unless ppolicy_use_lockout is set: ask the entry.
		err = fmt.Errorf("binding as %s: %w", dn, connector.ErrAccountLocked)
	}
	if err != nil {
		return fmt.Errorf("ldap: changing the password of %s: %w", dn, passwordErr(err))
	}
	defer conn.Close()
	req := ldap.NewPasswordModifyRequest("", old.Reveal(), password.Reveal())
	if err := do(ctx, conn, func() error { _, err := conn.PasswordModify(req); return err }); err != nil {
		return fmt.Errorf("ldap: changing the password of %s: %w", dn, passwordErr(mapErr(err)))
	}
	return nil
}

// UnlockAccount unlocks an account locked out after failed sign-ins: on
// Active Directory it sets lockoutTime to 0; on OpenLDAP it removes the
// ppolicy overlay's pwdAccountLockedTime. Unlocking an account that is not
// locked succeeds.
func (c *Connector) UnlockAccount(ctx context.Context, anchor connector.Anchor, dn string) error {
	if err := c.init(ctx); err != nil {
		return err
	}
	dn, err := c.dnOf(ctx, connector.Change{Anchor: anchor, DN: dn})
	if err != nil {
		return err
	}
	req := ldap.NewModifyRequest(dn, nil)
	if c.root.dialect == ActiveDirectory {
		req.Replace("lockoutTime", []string{"0"})
	} else {
		req.Delete("pwdAccountLockedTime", nil)
	}
	err = c.s.run(ctx, func(conn *ldap.Conn) error { return conn.Modify(req) })
	var re *ResultError
	if err := mapErr(err); errors.As(err, &re) && re.Code == ldap.LDAPResultNoSuchAttribute {
		return nil // not locked
	}
	if err != nil {
		return fmt.Errorf("ldap: unlocking %s: %w", dn, mapErr(err))
	}
	return nil
}

// lockedOut reports whether the ppolicy overlay has locked dn's account
// (its operational attribute pwdAccountLockedTime is set). An error reading
// it counts as not locked: the caller then reports what the bind said.
func (c *Connector) lockedOut(ctx context.Context, dn string) bool {
	req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false, "(objectClass=*)", []string{"pwdAccountLockedTime"}, nil)
	var locked bool
	_ = c.s.run(ctx, func(conn *ldap.Conn) error {
		res, err := conn.Search(req)
		if err == nil && len(res.Entries) == 1 {
			locked = res.Entries[0].GetAttributeValue("pwdAccountLockedTime") != ""
		}
		return err
	})
	return locked
}

// dialAs opens a connection of its own bound as dn with password, with the
// connector's TLS settings. The password never appears in the error.
func (s *session) dialAs(ctx context.Context, dn string, password connector.Secret) (*ldap.Conn, error) {
	c, err := s.dialUnbound(ctx)
	if err != nil {
		return nil, err
	}
	req := &ldap.SimpleBindRequest{Username: dn, Password: password.Reveal(), Controls: []ldap.Control{ldap.NewControlBeheraPasswordPolicy()}}
	var res *ldap.SimpleBindResult
	err = do(ctx, c, func() error {
		var err error
		res, err = c.SimpleBind(req)
		return err
	})
	if err != nil {
		c.Close()
		if res != nil {
			if pp := ppolicyControl(res.Controls); pp != nil && pp.Error == 1 {
				return nil, fmt.Errorf("binding as %s: %w", dn, connector.ErrAccountLocked)
			}
		}
		var le *ldap.Error
		if errors.As(err, &le) && le.ResultCode == ldap.LDAPResultInvalidCredentials {
			return nil, fmt.Errorf("binding as %s: %w", dn, connector.ErrWrongPassword)
		}
		return nil, fmt.Errorf("binding as %s: %w", dn, mapErr(err))
	}
	return c, nil
}

func ppolicyControl(cs []ldap.Control) *ldap.ControlBeheraPasswordPolicy {
	for _, c := range cs {
		if pp, ok := c.(*ldap.ControlBeheraPasswordPolicy); ok {
			return pp
		}
	}
	return nil
}

// passwordErr classifies a directory's refusal of a password operation. AD
// answers a constraint violation whose message starts with a Win32 code
// (0000052D: policy; 00000056: wrong old password; 00000775: locked out) and,
// on Samba, names the rule; OpenLDAP's ppolicy names the rule in its
// diagnostic text. Anything else is returned as it is.
func passwordErr(err error) error {
	var re *ResultError
	if !errors.As(err, &re) {
		return err
	}
	msg := strings.ToLower(re.Message)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(msg, s) {
				return true
			}
		}
		return false
	}
	policy := func(r connector.PolicyReason) error {
		return fmt.Errorf("%w (%w)", &connector.PasswordPolicyError{Reason: r, Detail: re.Message}, re)
	}
	switch {
	case has("00000056", "old password specified doesn't match", "old password does not match"):
		return fmt.Errorf("%w (%w)", connector.ErrWrongPassword, re)
	case has("00000775", "account is locked", "account locked"):
		return fmt.Errorf("%w (%w)", connector.ErrAccountLocked, re)
	case has("00000533", "account is disabled", "account disabled"):
		return fmt.Errorf("%w (%w)", connector.ErrAccountDisabled, re)
	case has("too short"):
		return policy(connector.ReasonTooShort)
	case has("complexity"):
		return policy(connector.ReasonComplexity)
	case has("quality"):
		// OpenLDAP's ppolicy says "fails quality checking policy" for
		// every quality rule, length included: it does not say which.
		return policy(connector.ReasonPolicy)
	case has("history", "not being changed from existing value"):
		return policy(connector.ReasonHistory)
	case has("too young"):
		return policy(connector.ReasonTooYoung)
	case has("0000052d") || re.Code == ldap.LDAPResultConstraintViolation && has("password"):
		return policy(connector.ReasonPolicy)
	}
	return err
}
