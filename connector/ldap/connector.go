package ldap

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/idbridge/idbridge/connector"
)

// Connector is the LDAP / Active Directory connector. See the package
// documentation.
type Connector struct {
	cfg Config
	s   *session

	mu     sync.Mutex
	root   *rootDSE
	schema *connector.Schema
	types  []*objType
}

// objType is a configured object type with what the schema says of it.
type objType struct {
	TypeConfig
	container bool                           // one of the default container types
	filter    string                         // selection filter of the type
	attrs     map[string]connector.Attribute // lower-cased name → attribute
	names     []string                       // attributes to request
}

var (
	_ connector.Connector      = (*Connector)(nil)
	_ connector.DeltaImporter  = (*Connector)(nil)
	_ connector.Watcher        = (*Connector)(nil)
	_ connector.PasswordSetter = (*Connector)(nil)
)

// New returns a connector for cfg. It does not connect: the first call
// that needs the server does.
func New(cfg Config) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s, err := newSession(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.InsecureSkipVerify {
		cfg.Logger.Warn("ldap: InsecureSkipVerify is set: the server's certificate is not verified, and the bind password goes to whatever server answers",
			"url", cfg.URL, "bindDN", cfg.BindDN)
	}
	return &Connector{cfg: cfg, s: s}, nil
}

// Close closes the connection.
func (c *Connector) Close() error { return c.s.close() }

// anchorAttr returns the anchor attribute for the dialect.
func (c *Connector) anchorAttr(d Dialect) string {
	switch {
	case c.cfg.Anchor != "":
		return c.cfg.Anchor
	case d == ActiveDirectory:
		return "objectGUID"
	}
	return "entryUUID"
}

// init reads the root DSE and the schema once.
func (c *Connector) init(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.schema != nil {
		return nil
	}
	root, err := c.readRootDSE(ctx)
	if err != nil {
		return err
	}
	ss, err := c.readSchema(ctx, root.subschema)
	if err != nil {
		return err
	}
	anchor := c.anchorAttr(root.dialect)
	schema := &connector.Schema{}
	var types []*objType
	configured := c.cfg.Types
	if !c.cfg.NoContainerTypes {
		configured = append(slices.Clone(configured), containerTypes(configured, ss)...)
	}
	for i, tc := range configured {
		t := &objType{TypeConfig: tc, attrs: map[string]connector.Attribute{}, container: i >= len(c.cfg.Types)}
		var classes []string
		for _, oc := range tc.ObjectClasses {
			if ss.classes[strings.ToLower(oc)] == nil {
				return fmt.Errorf("ldap: type %q: object class %q is not in the server's schema", tc.Name, oc)
			}
			classes = append(classes, "(objectClass="+escape(oc)+")")
		}
		t.filter = classes[0]
		if len(classes) > 1 {
			t.filter = "(|" + strings.Join(classes, "") + ")"
		}
		if tc.Filter != "" {
			t.filter = "(&" + t.filter + tc.Filter + ")"
		}
		names := tc.Attributes
		if len(names) == 0 {
			names = ss.attrsOf(tc.ObjectClasses)
		}
		ot := connector.ObjectType{Name: tc.Name, Anchor: anchor}
		add := func(name string, readOnly bool) error {
			def := ss.attrs[strings.ToLower(name)]
			if def == nil {
				return fmt.Errorf("ldap: type %q: attribute %q is not in the server's schema", tc.Name, name)
			}
			if _, dup := t.attrs[strings.ToLower(name)]; dup {
				return nil
			}
			a := connector.Attribute{Name: name, Type: attrType(ss.syntaxOf(def)), Multi: !def.single, ReadOnly: readOnly || def.noUser}
			if strings.EqualFold(name, anchor) {
				a.Multi, a.ReadOnly = false, true
			}
			if strings.EqualFold(name, "objectClass") {
				a.ReadOnly = true
			}
			t.attrs[strings.ToLower(name)] = a
			t.names = append(t.names, name)
			ot.Attributes = append(ot.Attributes, a)
			return nil
		}
		if err := add(anchor, true); err != nil {
			return err
		}
		for _, n := range names {
			if strings.EqualFold(n, "unicodePwd") || strings.EqualFold(n, "userPassword") {
				continue // write-only secrets are never imported
			}
			if err := add(n, false); err != nil {
				return err
			}
		}
		types = append(types, t)
		schema.Types = append(schema.Types, ot)
	}
	if err := schema.Validate(); err != nil {
		return fmt.Errorf("ldap: schema: %w", err)
	}
	c.root, c.schema, c.types = root, schema, types
	return nil
}

// defaultContainerTypes are the types added unless Config.NoContainerTypes is
// set, with the attributes imported for them.
var defaultContainerTypes = []TypeConfig{
	{Name: "organizationalUnit", ObjectClasses: []string{"organizationalUnit"}, Attributes: []string{"ou", "description"}},
	{Name: "container", ObjectClasses: []string{"container"}, Attributes: []string{"cn", "description"}},
}

// deltaOrder returns the indexes of the types in the order a delta import
// reads them: the container types first, so that an OU's new DN reaches
// the engine (which cascades it to the objects below) before the changes
// that name objects under it — a member added or removed under the OU's
// new DN right after its rename.
func (c *Connector) deltaOrder() []int {
	var first, rest []int
	for i, t := range c.types {
		if t.container {
			first = append(first, i)
		} else {
			rest = append(rest, i)
		}
	}
	return append(first, rest...)
}

// containerTypes returns the container types to add to the configured
// ones: those whose class the server has and no configured type takes.
func containerTypes(configured []TypeConfig, ss *serverSchema) []TypeConfig {
	var out []TypeConfig
	for _, ct := range defaultContainerTypes {
		taken := ss.classes[strings.ToLower(ct.ObjectClasses[0])] == nil
		for _, tc := range configured {
			if tc.Name == ct.Name || slices.ContainsFunc(tc.ObjectClasses, func(oc string) bool { return strings.EqualFold(oc, ct.ObjectClasses[0]) }) {
				taken = true
			}
		}
		if !taken {
			out = append(out, ct)
		}
	}
	return out
}

// Schema returns the configured object types with the attributes and
// types the server's schema gives them.
func (c *Connector) Schema(ctx context.Context) (*connector.Schema, error) {
	if err := c.init(ctx); err != nil {
		return nil, err
	}
	s := *c.schema
	s.Types = slices.Clone(s.Types)
	return &s, nil
}

// Dialect returns the detected (or configured) dialect.
func (c *Connector) Dialect(ctx context.Context) (Dialect, error) {
	if err := c.init(ctx); err != nil {
		return "", err
	}
	return c.root.dialect, nil
}

// typeOf returns the type of an entry with the given object classes.
func (c *Connector) typeOf(classes []string) *objType {
	for _, t := range c.types {
		for _, oc := range t.ObjectClasses {
			for _, have := range classes {
				if strings.EqualFold(oc, have) {
					return t
				}
			}
		}
	}
	return nil
}

func (c *Connector) typeNamed(name string) *objType {
	for _, t := range c.types {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// filter returns the search filter over every type.
func (c *Connector) filter() string {
	if len(c.types) == 1 {
		return c.types[0].filter
	}
	var b strings.Builder
	b.WriteString("(|")
	for _, t := range c.types {
		b.WriteString(t.filter)
	}
	b.WriteString(")")
	return b.String()
}

// attributes returns the attributes to request for every type.
func (c *Connector) attributes() []string {
	seen := map[string]bool{"objectclass": true}
	out := []string{"objectClass"}
	// On Active Directory multi-valued references are always asked for in
	// ranges, as AD itself returns them past MaxValRange (1,500): the
	// same code path then serves Windows and Samba, which has no limit.
	ranged := c.root.dialect == ActiveDirectory
	for _, t := range c.types {
		for _, n := range t.names {
			if k := strings.ToLower(n); !seen[k] {
				seen[k] = true
				if a := t.attrs[k]; ranged && a.Multi && a.Type == connector.Reference {
					n = rangedName(n, 0, c.rangeSize())
				}
				out = append(out, n)
			}
		}
	}
	return out
}

// excluded reports whether dn falls in an excluded container or outside
// every container.
func (c *Connector) excluded(dn string) bool {
	for _, ct := range c.cfg.Containers {
		if !isUnder(dn, ct.DN) {
			continue
		}
		for _, x := range ct.Exclude {
			if isUnder(dn, x) {
				return true
			}
		}
		return false
	}
	return true
}
