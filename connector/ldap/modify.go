package ldap

import (
	"context"
	"errors"
	"strings"

	ldap "github.com/go-ldap/ldap/v3"
)

// modify sends one modify request. When it fails and removes values, it
// tries again change by change, and a removal of values that are already gone
// counts as done: removing a member that was deleted meanwhile (AD drops
// links to a deleted object by itself, and then answers 00002035 "Unable to
// find GUID for DN") or a value that is not there
// (noSuchAttribute, as when a change is sent again after its result was
// lost) leaves the entry as the change wants it.
func (c *Connector) modify(ctx context.Context, dn string, changes []ldap.Change) error {
	send := func(changes []ldap.Change) error {
		req := &ldap.ModifyRequest{DN: dn, Changes: changes}
		return mapErr(c.s.run(ctx, func(conn *ldap.Conn) error { return conn.Modify(req) }))
	}
	err := send(changes)
	if err == nil || !hasRemoval(changes) || !goneValue(err) && len(changes) == 1 && len(changes[0].Modification.Vals) <= 1 {
		return err
	}
	for _, ch := range changes {
		if ch.Operation != ldap.DeleteAttribute || len(ch.Modification.Vals) == 0 {
			if err := send([]ldap.Change{ch}); err != nil {
				return err
			}
			continue
		}
		if err := send([]ldap.Change{ch}); err == nil {
			continue
		} else if !goneValue(err) {
			return err
		}
		for _, v := range ch.Modification.Vals {
			one := ldap.Change{Operation: ldap.DeleteAttribute, Modification: ldap.PartialAttribute{Type: ch.Modification.Type, Vals: []string{v}}}
			if err := send([]ldap.Change{one}); err != nil && !goneValue(err) {
				return err
			}
		}
	}
	return nil
}

func hasRemoval(changes []ldap.Change) bool {
	for _, ch := range changes {
		if ch.Operation == ldap.DeleteAttribute && len(ch.Modification.Vals) > 0 {
			return true
		}
	}
	return false
}

// goneValue reports whether err says that a value to remove, or the object a
// DN value names, is not there. noSuchObject is not among them: it can mean
// that the entry itself is gone, which must stay an error.
func goneValue(err error) bool {
	var re *ResultError
	if !errors.As(err, &re) {
		return false
	}
	switch re.Code {
	case ldap.LDAPResultNoSuchAttribute:
		return true
	case ldap.LDAPResultUnwillingToPerform:
		return strings.Contains(re.Message, "00002035")
	}
	return false
}
