package ldif

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/idbridge/idbridge/connector"
)

// Export implements connector.Connector: it appends one or more LDIF change
// records per change to ExportPath, in the order of the changes, and
// returns one result per change. An Add writes "changetype: add" with
// objectClass first and the other attributes sorted by name, their values
// sorted; an Update writes a "changetype: modrdn" record when it renames
// or moves the object (deleteoldrdn: 1, newsuperior when the parent
// changes), then a "changetype: modify" record on the new DN for its Mods;
// a Delete writes "changetype: delete".
//
// A change the file cannot express (an attribute or type not in the schema,
// a value of the wrong type, a reference without DN, a change without DN)
// fails alone with an *connector.ObjectError; the others are written. The
// file is written once per call: if that fails, Export returns the error.
func (c *Connector) Export(ctx context.Context, changes []connector.Change) ([]connector.ExportResult, error) {
	if c.cfg.ExportPath == "" {
		return nil, fmt.Errorf("ldif: no ExportPath configured: %w", connector.ErrUnsupported)
	}
	if c.isClosed() {
		return nil, errClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	res := make([]connector.ExportResult, len(changes))
	for i := range changes {
		ch := &changes[i]
		res[i].Anchor = ch.Anchor
		recs, anchor, err := c.records(ch)
		if err == nil {
			mark := buf.Len()
			for _, r := range recs {
				if err = w.Write(r); err != nil {
					buf.Truncate(mark)
					err = fmt.Errorf("%w: %w", connector.ErrInvalidObject, err)
					break
				}
			}
		}
		if err != nil {
			op := ch.Kind.String()
			if ch.Kind == connector.Update && ch.Renamed() {
				op = "rename"
			}
			res[i].Err = &connector.ObjectError{Anchor: ch.Anchor, DN: ch.DN, Op: op, Err: err}
			continue
		}
		res[i].Anchor = anchor
	}
	if buf.Len() == 0 {
		return res, nil
	}
	f, err := os.OpenFile(c.cfg.ExportPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ldif: export: %w", err)
	}
	_, err = f.Write(buf.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("ldif: export to %s: %w", c.cfg.ExportPath, err)
	}
	return res, nil
}

// records returns the LDIF change records for ch, and the object's anchor.
func (c *Connector) records(ch *connector.Change) ([]*Record, connector.Anchor, error) {
	if ch.DN == "" {
		return nil, "", fmt.Errorf("no DN: %w", connector.ErrInvalidObject)
	}
	var ti *typeInfo
	for _, t := range c.types {
		if t.t.Name == ch.Type {
			ti = t
		}
	}
	if ti == nil && ch.Kind != connector.Delete {
		return nil, "", fmt.Errorf("object type %q is not in the schema: %w", ch.Type, connector.ErrUnsupported)
	}
	switch ch.Kind {
	case connector.Add:
		return c.addRecord(ti, ch)
	case connector.Update:
		var recs []*Record
		if ch.Renamed() {
			r, err := modRDN(ch.OldDN, ch.DN)
			if err != nil {
				return nil, "", err
			}
			recs = append(recs, r)
		}
		if len(ch.Mods) > 0 {
			r := &Record{DN: ch.DN, ChangeType: ChangeModify}
			for _, m := range ch.Mods {
				vals, err := ti.texts(m.Name, m.Values)
				if err != nil {
					return nil, "", err
				}
				op := ModReplace
				switch m.Op {
				case connector.ModAdd:
					op = ModAdd
					if len(vals) == 0 {
						continue
					}
				case connector.ModRemove:
					op = ModDelete
				case connector.ModReplace:
				default:
					return nil, "", fmt.Errorf("modification %v of %s: %w", m.Op, m.Name, connector.ErrUnsupported)
				}
				r.Mods = append(r.Mods, Mod{Op: op, Name: m.Name, Values: vals})
			}
			if len(r.Mods) > 0 {
				recs = append(recs, r)
			}
		}
		return recs, ch.Anchor, nil
	case connector.Delete:
		return []*Record{{DN: ch.DN, ChangeType: ChangeDelete}}, ch.Anchor, nil
	}
	return nil, "", fmt.Errorf("change kind %v: %w", ch.Kind, connector.ErrUnsupported)
}

func (c *Connector) addRecord(ti *typeInfo, ch *connector.Change) ([]*Record, connector.Anchor, error) {
	attrs := ch.Attrs
	anchor := ch.Anchor
	if vs := attrs[ti.anchor]; anchor == "" && ti.anchor != "" && len(vs) > 0 {
		raw, err := formatValue(vs[0])
		if err != nil {
			return nil, "", fmt.Errorf("%s: %v: %w", ti.anchor, err, connector.ErrInvalidObject)
		}
		if anchor, err = anchorText(ti.anchorType, raw); err != nil {
			return nil, "", fmt.Errorf("%s: %v: %w", ti.anchor, err, connector.ErrInvalidObject)
		}
	}
	if anchor == "" {
		anchor = c.newAnchor()
		// Write the anchor attribute when the schema has one, so that
		// importing the file gives the object the same anchor.
		if a, ok := ti.attr(ti.anchor); ok {
			var v connector.Value
			switch a.Type {
			case connector.Bytes:
				if b, err := ParseGUID(string(anchor)); err == nil {
					v = connector.BytesValue(b)
				}
			case connector.String:
				v = connector.StringValue(string(anchor))
			}
			if !v.IsZero() {
				attrs = attrs.Clone()
				attrs.Set(a.Name, v)
			}
		}
	}
	r := &Record{DN: ch.DN, ChangeType: ChangeAdd}
	hasClass := false
	for _, name := range attrs.Names() {
		if strings.EqualFold(name, "objectClass") {
			hasClass = true
		}
	}
	if !hasClass {
		r.Attrs = append(r.Attrs, Attr{Name: "objectClass", Value: ti.class})
	}
	names := attrs.Names()
	slices.SortStableFunc(names, func(a, b string) int {
		// objectClass first, as directories expect.
		ao, bo := strings.EqualFold(a, "objectClass"), strings.EqualFold(b, "objectClass")
		switch {
		case ao && !bo:
			return -1
		case bo && !ao:
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, name := range names {
		vs := slices.Clone(attrs[name])
		slices.SortFunc(vs, connector.Value.Compare)
		texts, err := ti.texts(name, vs)
		if err != nil {
			return nil, "", err
		}
		for _, t := range texts {
			r.Attrs = append(r.Attrs, Attr{Name: name, Value: t})
		}
	}
	return []*Record{r}, anchor, nil
}

// texts checks values of the attribute name against the schema and returns
// their LDIF text.
func (ti *typeInfo) texts(name string, vs []connector.Value) ([]string, error) {
	if strings.EqualFold(name, "objectClass") {
		if _, ok := ti.attr(name); !ok {
			out := make([]string, len(vs))
			for i, v := range vs {
				out[i] = v.Str()
			}
			return out, nil
		}
	}
	a, ok := ti.attr(name)
	if !ok {
		return nil, fmt.Errorf("attribute %s is not in schema type %q: %w", name, ti.t.Name, connector.ErrInvalidObject)
	}
	if !a.Multi && len(vs) > 1 {
		return nil, fmt.Errorf("single-valued attribute %s given %d values: %w", name, len(vs), connector.ErrInvalidObject)
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		if v.Type() != a.Type {
			return nil, fmt.Errorf("attribute %s: %s value for a %s attribute: %w", name, v.Type(), a.Type, connector.ErrInvalidObject)
		}
		t, err := formatValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %v: %w", name, err, connector.ErrInvalidObject)
		}
		out[i] = t
	}
	return out, nil
}

// modRDN returns the modrdn record that moves oldDN to newDN.
func modRDN(oldDN, newDN string) (*Record, error) {
	rdn, parent := splitDN(newDN)
	_, oldParent := splitDN(oldDN)
	if rdn == "" {
		return nil, fmt.Errorf("rename to %q: no RDN: %w", newDN, connector.ErrInvalidObject)
	}
	r := &Record{DN: oldDN, ChangeType: ChangeModRDN, NewRDN: rdn, DeleteOldRDN: true}
	if connector.FoldDN(parent) != connector.FoldDN(oldParent) {
		if parent == "" {
			return nil, fmt.Errorf("move of %s to the root: %w", oldDN, connector.ErrUnsupported)
		}
		r.NewSuperior = parent
	}
	return r, nil
}

// splitDN splits a DN at its first unescaped comma into the RDN and the
// parent DN.
func splitDN(dn string) (rdn, parent string) {
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',':
			return strings.TrimSpace(dn[:i]), strings.TrimSpace(dn[i+1:])
		}
	}
	return strings.TrimSpace(dn), ""
}

func (c *Connector) newAnchor() connector.Anchor {
	if c.cfg.NewAnchor != nil {
		return c.cfg.NewAnchor()
	}
	return newUUID()
}

// newUUID returns a random (version 4) UUID.
func newUUID() connector.Anchor {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexd[x>>4], hexd[x&0xf])
	}
	return connector.Anchor(out)
}
