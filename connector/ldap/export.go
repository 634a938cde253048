package ldap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/internal/adcodec"
)

// Export applies changes in order: adds (the parent container must exist),
// modifications (large multi-valued changes in chunks), renames and moves
// (ModifyDN), deletes. Each change gets its own result; a failing change
// does not stop the others.
func (c *Connector) Export(ctx context.Context, changes []connector.Change) ([]connector.ExportResult, error) {
	if err := c.init(ctx); err != nil {
		return nil, err
	}
	if _, err := c.s.get(ctx); err != nil {
		return nil, err
	}
	results := make([]connector.ExportResult, len(changes))
	for i, ch := range changes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r := connector.ExportResult{Anchor: ch.Anchor, DN: ch.DN}
		var err error
		switch ch.Kind {
		case connector.Add:
			r.Anchor, err = c.add(ctx, ch)
		case connector.Update:
			r.DN, err = c.update(ctx, ch)
		case connector.Delete:
			err = c.delete(ctx, ch)
		default:
			err = fmt.Errorf("unknown change kind %d: %w", ch.Kind, connector.ErrInvalidObject)
		}
		if err != nil {
			r.Err = &connector.ObjectError{Anchor: ch.Anchor, DN: ch.DN, Op: "export", Err: err}
		}
		results[i] = r
	}
	return results, nil
}

// inScope refuses a DN the connector must not write: one that does not
// parse, or lies outside the configured containers or in an excluded
// subtree.
func (c *Connector) inScope(dn string) error {
	if _, err := ldap.ParseDN(dn); err != nil {
		return fmt.Errorf("%w: %q does not parse: %v", ErrOutOfScope, dn, err)
	}
	if c.excluded(dn) {
		return fmt.Errorf("%w: %s", ErrOutOfScope, dn)
	}
	return nil
}

// dnOf returns the DN of a change's object: its DN, else the one its anchor
// has on the server.
func (c *Connector) dnOf(ctx context.Context, ch connector.Change) (string, error) {
	dn := ch.DN
	if ch.OldDN != "" {
		dn = ch.OldDN
	}
	if dn != "" {
		return dn, nil
	}
	if ch.Anchor == "" {
		return "", fmt.Errorf("change has neither DN nor anchor: %w", connector.ErrInvalidObject)
	}
	return c.findByAnchor(ctx, ch.Anchor)
}

// findByAnchor searches the containers for the entry with the anchor.
func (c *Connector) findByAnchor(ctx context.Context, a connector.Anchor) (string, error) {
	attr := c.anchorAttr(c.root.dialect)
	value := escape(string(a))
	if strings.EqualFold(attr, "objectGUID") {
		b, err := adcodec.ParseGUID(string(a))
		if err != nil {
			return "", fmt.Errorf("anchor %q: %w", a, connector.ErrInvalidObject)
		}
		value = ldap.EscapeFilter(string(b))
	}
	for _, ct := range c.cfg.Containers {
		var dn string
		err := c.s.run(ctx, func(conn *ldap.Conn) error {
			res, err := conn.Search(ldap.NewSearchRequest(ct.DN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false,
				"("+attr+"="+value+")", []string{"1.1"}, nil))
			if err != nil {
				return err
			}
			if len(res.Entries) > 0 {
				dn = res.Entries[0].DN
			}
			return nil
		})
		if err != nil {
			return "", mapErr(err)
		}
		if dn != "" {
			return dn, nil
		}
	}
	return "", fmt.Errorf("no entry with %s %s: %w", attr, a, connector.ErrNoSuchObject)
}

// refDN returns the DN a reference value names, looking the anchor up when
// the engine gave no DN.
func (c *Connector) refDN(ctx context.Context, v connector.Value) (string, error) {
	a, dn := v.Ref()
	if dn != "" {
		return dn, nil
	}
	return c.findByAnchor(ctx, a)
}

// values converts an attribute's values for the server.
func (c *Connector) values(ctx context.Context, name string, vs []connector.Value) ([]string, error) {
	if c.root.dialect == ActiveDirectory {
		if out, ok, err := c.adExportValues(ctx, name, vs); ok {
			return out, err
		}
	}
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if v.Type() == connector.Reference {
			dn, err := c.refDN(ctx, v)
			if err != nil {
				return nil, err
			}
			out = append(out, dn)
			continue
		}
		out = append(out, fromValue(v))
	}
	return out, nil
}

func (c *Connector) add(ctx context.Context, ch connector.Change) (connector.Anchor, error) {
	t := c.typeNamed(ch.Type)
	if t == nil {
		return "", fmt.Errorf("unknown object type %q: %w", ch.Type, connector.ErrInvalidObject)
	}
	if ch.DN == "" {
		return "", fmt.Errorf("add without a DN: %w", connector.ErrInvalidObject)
	}
	if err := c.inScope(ch.DN); err != nil {
		return "", err
	}
	req := ldap.NewAddRequest(ch.DN, nil)
	req.Attribute("objectClass", t.ObjectClasses)
	attrs := ch.Attrs
	if c.root.dialect == ActiveDirectory {
		attrs = adAddDefaults(attrs)
	}
	for _, name := range attrs.Names() {
		if strings.EqualFold(name, "objectClass") || strings.EqualFold(name, c.anchorAttr(c.root.dialect)) {
			continue
		}
		if isPasswordAttr(name) && !c.adPassword(name) {
			return "", fmt.Errorf("%s: passwords are set with SetPassword, not exported as attributes: %w", name, connector.ErrInvalidObject)
		}
		vs, err := c.values(ctx, name, attrs[name])
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		if len(vs) > 0 {
			req.Attribute(name, vs)
		}
	}
	err := c.s.run(ctx, func(conn *ldap.Conn) error { return conn.Add(req) })
	if err != nil {
		err = mapErr(err)
		if errors.Is(err, connector.ErrNoSuchObject) {
			return "", fmt.Errorf("%w: %s: %w", ErrParentMissing, parentOf(ch.DN), err)
		}
		return "", err
	}
	return c.readAnchor(ctx, ch.DN)
}

// readAnchor reads back the anchor the server gave a new entry.
func (c *Connector) readAnchor(ctx context.Context, dn string) (connector.Anchor, error) {
	attr := c.anchorAttr(c.root.dialect)
	e, err := c.readEntry(ctx, dn, []string{attr})
	if err != nil {
		return "", fmt.Errorf("reading the anchor of the new entry: %w", mapErr(err))
	}
	if e == nil {
		return "", fmt.Errorf("the new entry %s has no %s: %w", dn, attr, connector.ErrNoSuchObject)
	}
	raw := e.GetRawAttributeValue(attr)
	if len(raw) == 16 && strings.EqualFold(attr, "objectGUID") {
		return connector.Anchor(adcodec.GUIDString(raw)), nil
	}
	return connector.Anchor(e.GetAttributeValue(attr)), nil
}

func parentOf(dn string) string {
	parsed, err := ldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) < 2 {
		return ""
	}
	parent := &ldap.DN{RDNs: parsed.RDNs[1:]}
	return parent.String()
}

// update renames or moves the object when its DN changes, then applies the
// modifications, chunked. It returns the object's DN after the change.
func (c *Connector) update(ctx context.Context, ch connector.Change) (string, error) {
	dn, err := c.dnOf(ctx, ch)
	if err != nil {
		return ch.DN, err
	}
	if err := c.inScope(dn); err != nil {
		return ch.DN, err
	}
	if ch.OldDN != "" && ch.DN != "" && connector.FoldDN(ch.OldDN) != connector.FoldDN(ch.DN) {
		if err := c.inScope(ch.DN); err != nil {
			return dn, err
		}
		if err := c.rename(ctx, dn, ch.DN); err != nil {
			return dn, err
		}
		dn = ch.DN
	}
	if len(ch.Mods) == 0 {
		return dn, nil
	}
	var mods []ldap.Change
	for _, m := range ch.Mods {
		if isPasswordAttr(m.Name) && !c.adPassword(m.Name) {
			return dn, fmt.Errorf("%s: passwords are set with SetPassword, not exported as attributes: %w", m.Name, connector.ErrInvalidObject)
		}
		vs, err := c.values(ctx, m.Name, m.Values)
		if err != nil {
			return dn, fmt.Errorf("%s: %w", m.Name, err)
		}
		op := map[connector.ModOp]uint{connector.ModAdd: ldap.AddAttribute, connector.ModRemove: ldap.DeleteAttribute, connector.ModReplace: ldap.ReplaceAttribute}[m.Op]
		if (m.Op == connector.ModAdd || m.Op == connector.ModRemove) && len(vs) > c.cfg.MaxValuesPerModify {
			for i := 0; i < len(vs); i += c.cfg.MaxValuesPerModify {
				mods = append(mods, ldap.Change{Operation: op, Modification: ldap.PartialAttribute{Type: m.Name, Vals: vs[i:min(i+c.cfg.MaxValuesPerModify, len(vs))]}})
			}
			continue
		}
		if m.Op == connector.ModAdd && len(vs) == 0 {
			continue
		}
		mods = append(mods, ldap.Change{Operation: op, Modification: ldap.PartialAttribute{Type: m.Name, Vals: vs}})
	}
	// One request per chunk of values, so that no request carries more
	// than MaxValuesPerModify values (AD refuses very large requests).
	var batch []ldap.Change
	count := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.modify(ctx, dn, batch)
		batch, count = nil, 0
		return err
	}
	for _, m := range mods {
		if count+len(m.Modification.Vals) > c.cfg.MaxValuesPerModify && len(batch) > 0 {
			if err := flush(); err != nil {
				return dn, err
			}
		}
		batch = append(batch, m)
		count += len(m.Modification.Vals)
	}
	return dn, flush()
}

func isPasswordAttr(name string) bool {
	return strings.EqualFold(name, "unicodePwd") || strings.EqualFold(name, "userPassword")
}

// adPassword reports whether name is Active Directory's unicodePwd on an
// AD connection: an initial password a rule sets on a new account, which
// adExportValues encodes and refuses to send without TLS. Every other
// password attribute goes through SetPassword.
func (c *Connector) adPassword(name string) bool {
	return c.root.dialect == ActiveDirectory && strings.EqualFold(name, attrUnicodePwd)
}

// rename moves dn to newDN with ModifyDN (a new RDN and, when the parent
// changes, a new superior).
func (c *Connector) rename(ctx context.Context, dn, newDN string) error {
	parsed, err := ldap.ParseDN(newDN)
	if err != nil || len(parsed.RDNs) == 0 {
		return fmt.Errorf("new DN %q: %w", newDN, connector.ErrInvalidObject)
	}
	rdn := (&ldap.DN{RDNs: parsed.RDNs[:1]}).String()
	newParent := parentOf(newDN)
	sup := ""
	if connector.FoldDN(newParent) != connector.FoldDN(parentOf(dn)) {
		sup = newParent
	}
	req := ldap.NewModifyDNRequest(dn, rdn, true, sup)
	return mapErr(c.s.run(ctx, func(conn *ldap.Conn) error { return conn.ModifyDN(req) }))
}

func (c *Connector) delete(ctx context.Context, ch connector.Change) error {
	dn, err := c.dnOf(ctx, ch)
	if err != nil {
		return err
	}
	if err := c.inScope(dn); err != nil {
		return err
	}
	return mapErr(c.s.run(ctx, func(conn *ldap.Conn) error { return conn.Del(ldap.NewDelRequest(dn, nil)) }))
}

// readEntry reads one entry's attributes (nil when the search finds none).
func (c *Connector) readEntry(ctx context.Context, dn string, attrs []string) (*ldap.Entry, error) {
	var e *ldap.Entry
	err := c.s.run(ctx, func(conn *ldap.Conn) error {
		res, err := conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", attrs, nil))
		if err != nil {
			return err
		}
		if len(res.Entries) == 1 {
			e = res.Entries[0]
		}
		return nil
	})
	return e, err
}
