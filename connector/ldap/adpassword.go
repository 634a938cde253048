package ldap

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/internal/adcodec"
)

// Active Directory account attributes written on export: unicodePwd,
// userAccountControl and mS-DS-ConsistencyGuid.

const (
	attrUnicodePwd      = "unicodePwd"
	attrUAC             = "userAccountControl"
	attrConsistencyGUID = "mS-DS-ConsistencyGuid"

	// uacAccountDisable is userAccountControl's ACCOUNTDISABLE bit.
	uacAccountDisable = 0x2
	// uacNormalAccount is the bit every user account has.
	uacNormalAccount = 0x200
)

// encodePassword returns the value AD wants in unicodePwd: the password
// in double quotes, encoded as UTF-16LE (MS-ADTS 3.1.1.3.1.5.1).
func encodePassword(pw string) string {
	u := utf16.Encode([]rune(`"` + pw + `"`))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return string(b)
}

// setDisabled returns uac with the ACCOUNTDISABLE bit set or cleared, the
// other bits (password never expires, smart card required…) kept.
func setDisabled(uac int64, disabled bool) int64 {
	if disabled {
		return uac | uacAccountDisable
	}
	return uac &^ uacAccountDisable
}

// isUAC reports whether name is userAccountControl.
func isUAC(name string) bool { return strings.EqualFold(name, attrUAC) }

// consistencyGUID converts a value written to mS-DS-ConsistencyGuid to the
// 16 octets AD stores: raw octets as they are, or the text forms of a
// source anchor — a GUID string ("0d5c1f4e-…", as objectGUID anchors are
// written) or base64 (an Entra ID onPremisesImmutableId).
func consistencyGUID(v connector.Value) ([]byte, error) {
	switch v.Type() {
	case connector.Bytes:
		return v.Octets(), nil
	case connector.String:
		s := strings.TrimSpace(v.Str())
		if b, err := adcodec.ParseGUID(s); err == nil {
			return b, nil
		}
		if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 16 {
			return b, nil
		}
		return nil, fmt.Errorf("%s: %q is neither a GUID nor the base64 of 16 octets: %w", attrConsistencyGUID, s, connector.ErrInvalidObject)
	}
	return nil, fmt.Errorf("%s: a %s value cannot be a GUID: %w", attrConsistencyGUID, v.Type(), connector.ErrInvalidObject)
}

// adSetPassword replaces unicodePwd with the password. AD accepts it only
// over an encrypted connection; on a plain one the connector refuses
// before sending anything, so the password never crosses the network in
// clear.
func (c *Connector) adSetPassword(ctx context.Context, dn string, password connector.Secret) error {
	if err := c.requireTLS(ctx, "setting the password of "+dn); err != nil {
		return err
	}
	req := ldap.NewModifyRequest(dn, nil)
	req.Replace(attrUnicodePwd, []string{encodePassword(password.Reveal())})
	if err := c.s.run(ctx, func(conn *ldap.Conn) error { return conn.Modify(req) }); err != nil {
		// The server's message may quote the request, never the value:
		// mapErr keeps only the result code and diagnostic text.
		return fmt.Errorf("ldap: setting the password of %s: %w", dn, passwordErr(mapErr(err)))
	}
	return nil
}

// requireTLS fails with ErrTLSRequired when the connection is not
// encrypted.
func (c *Connector) requireTLS(ctx context.Context, what string) error {
	if _, err := c.s.get(ctx); err != nil {
		return err
	}
	if !c.s.tlsActive() {
		return fmt.Errorf("ldap: %s: unicodePwd is only sent over TLS (ldaps:// or StartTLS), and this connection is plain: %w", what, ErrTLSRequired)
	}
	return nil
}

// SetEnabled enables or disables an Active Directory account: it sets or
// clears the ACCOUNTDISABLE bit (2) of userAccountControl and keeps the
// other bits. The object is named by its DN, or by its anchor when dn is
// empty.
func (c *Connector) SetEnabled(ctx context.Context, anchor connector.Anchor, dn string, enabled bool) error {
	if err := c.init(ctx); err != nil {
		return err
	}
	if c.root.dialect != ActiveDirectory {
		return fmt.Errorf("ldap: enabling or disabling an account is an Active Directory operation: %w", connector.ErrUnsupported)
	}
	dn, err := c.dnOf(ctx, connector.Change{Anchor: anchor, DN: dn})
	if err != nil {
		return err
	}
	e, err := c.readEntry(ctx, dn, []string{attrUAC})
	if err != nil {
		return fmt.Errorf("ldap: reading the userAccountControl of %s: %w", dn, mapErr(err))
	}
	if e == nil {
		return fmt.Errorf("ldap: %s: %w", dn, connector.ErrNoSuchObject)
	}
	uac, err := strconv.ParseInt(e.GetAttributeValue(attrUAC), 10, 64)
	if err != nil {
		return fmt.Errorf("ldap: %s has no userAccountControl (not an account): %w", dn, connector.ErrInvalidObject)
	}
	want := setDisabled(uac, !enabled)
	if want == uac {
		return nil
	}
	req := ldap.NewModifyRequest(dn, nil)
	req.Replace(attrUAC, []string{strconv.FormatInt(want, 10)})
	if err := c.s.run(ctx, func(conn *ldap.Conn) error { return conn.Modify(req) }); err != nil {
		return fmt.Errorf("ldap: setting the userAccountControl of %s: %w", dn, mapErr(err))
	}
	return nil
}

// adExportValues converts the values of an attribute written to Active
// Directory where AD wants a form of its own: unicodePwd (the quoted
// UTF-16LE password, refused on a plain connection) and
// mS-DS-ConsistencyGuid (16 octets, given as octets, a GUID string or
// base64). ok is false for every other attribute, which the core converts.
// The core's add and modify call it for each attribute (HANDOFF.md,
// request 4).
func (c *Connector) adExportValues(ctx context.Context, name string, vs []connector.Value) (vals []string, ok bool, err error) {
	switch {
	case strings.EqualFold(name, attrUnicodePwd):
		if err := c.requireTLS(ctx, "writing "+attrUnicodePwd); err != nil {
			return nil, true, err
		}
		for _, v := range vs {
			if v.Type() != connector.String {
				return nil, true, fmt.Errorf("%s: a password is a string, not %s: %w", attrUnicodePwd, v.Type(), connector.ErrInvalidObject)
			}
			vals = append(vals, encodePassword(v.Str()))
		}
		return vals, true, nil
	case strings.EqualFold(name, attrConsistencyGUID):
		for _, v := range vs {
			b, err := consistencyGUID(v)
			if err != nil {
				return nil, true, err
			}
			vals = append(vals, string(b))
		}
		return vals, true, nil
	}
	return nil, false, nil
}

// adAddDefaults completes an add for AD: a user created with a password
// and no userAccountControl gets 512 (a normal, enabled account) rather
// than AD's 546 (disabled, no password required).
func adAddDefaults(attrs connector.Attributes) connector.Attributes {
	if len(attrs.Get(attrUnicodePwd)) == 0 {
		return attrs
	}
	for name := range attrs {
		if isUAC(name) {
			return attrs
		}
	}
	out := attrs.Clone()
	out.Set(attrUAC, connector.IntValue(uacNormalAccount))
	return out
}
