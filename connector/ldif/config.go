package ldif

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/idbridge/idbridge/connector"
)

// Config configures a Connector. Schema is required; Path (or Open) makes
// the connector a source, ExportPath a target; it may be both.
type Config struct {
	// Path is the LDIF file to import (content records, or "changetype:
	// add" records as ldifde writes). Empty means nothing to import.
	Path string `json:"path,omitempty" yaml:"path,omitempty"`
	// Open, instead of Path, opens the input for each import: an embedded
	// file, a network stream. Delta imports then re-read the input to
	// fingerprint it.
	Open func() (io.ReadCloser, error) `json:"-" yaml:"-"`

	// Anchor names the attribute holding each object's anchor, for every
	// type; empty means each schema type's Anchor. A Bytes attribute of 16
	// octets (objectGUID) gives the GUID in Active Directory's text form,
	// "2b4e0a6c-1f1e-4b7a-9c3d-5e6f7a8b9c0d"; other Bytes give their base64;
	// other types (entryUUID, employeeID) their text. An attribute not in the
	// schema is read as text.
	Anchor string `json:"anchor,omitempty" yaml:"anchor,omitempty"`

	// Types maps objectClass values to the schema's object types. The first
	// TypeMap with a class among a record's objectClass values decides, so
	// list the more specific first (computer before user: an AD computer is
	// also a user). Records matching no TypeMap are out of scope and
	// skipped silently (organizational units, containers). Default: each
	// schema type matches the objectClass of its own name.
	Types []TypeMap `json:"types,omitempty" yaml:"types,omitempty"`

	// Schema gives the object types and attributes. Attributes not in the
	// schema are dropped on import; values are converted to the schema's
	// types (see the package documentation).
	Schema *connector.Schema `json:"schema" yaml:"schema"`

	// ExportPath is the file that Export appends LDIF change records to;
	// it is created when missing. Empty means exports are refused with
	// connector.ErrUnsupported.
	ExportPath string `json:"exportPath,omitempty" yaml:"exportPath,omitempty"`

	// NewAnchor generates the anchor of an exported Add that carries none.
	// Default: a random (version 4) UUID.
	NewAnchor func() connector.Anchor `json:"-" yaml:"-"`
}

// TypeMap maps objectClass values to an object type.
type TypeMap struct {
	Type          string   `json:"type" yaml:"type"`
	ObjectClasses []string `json:"objectClasses" yaml:"objectClasses"`
}

// Validate reports what is missing or inconsistent in c.
func (c *Config) Validate() error {
	var errs []error
	if c.Schema == nil {
		errs = append(errs, errors.New("a Schema is required"))
	} else if err := c.Schema.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Path != "" && c.Open != nil {
		errs = append(errs, errors.New("set either Path or Open, not both"))
	}
	if c.Schema != nil {
		for _, tm := range c.Types {
			if _, ok := c.Schema.Type(tm.Type); !ok {
				errs = append(errs, fmt.Errorf("object type %q of Types is not in the schema", tm.Type))
			}
			if len(tm.ObjectClasses) == 0 {
				errs = append(errs, fmt.Errorf("object type %q of Types has no ObjectClasses", tm.Type))
			}
		}
		if c.Path != "" || c.Open != nil {
			for _, t := range c.Schema.Types {
				if c.Anchor == "" && t.Anchor == "" {
					errs = append(errs, fmt.Errorf("type %q has no anchor attribute: set Config.Anchor or the schema type's Anchor", t.Name))
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ldif: invalid config: %w", err)
	}
	return nil
}

// typeInfo is what an import needs of one schema type, looked up once.
type typeInfo struct {
	t          *connector.ObjectType
	anchor     string             // anchor attribute (schema spelling when declared)
	anchorType connector.AttrType // its type (String when not declared)
	exact      map[string]*connector.Attribute
	folded     map[string]*connector.Attribute // lower-case names
	class      string                          // objectClass written on export
}

func newTypeInfo(cfg *Config, t *connector.ObjectType) *typeInfo {
	ti := &typeInfo{t: t, anchor: cfg.Anchor, anchorType: connector.String,
		exact: map[string]*connector.Attribute{}, folded: map[string]*connector.Attribute{}, class: t.Name}
	if ti.anchor == "" {
		ti.anchor = t.Anchor
	}
	for i := range t.Attributes {
		a := &t.Attributes[i]
		ti.exact[a.Name] = a
		ti.folded[strings.ToLower(a.Name)] = a
	}
	if a, ok := ti.folded[strings.ToLower(ti.anchor)]; ok {
		ti.anchor, ti.anchorType = a.Name, a.Type
	}
	for _, tm := range cfg.Types {
		if tm.Type == t.Name && len(tm.ObjectClasses) > 0 {
			ti.class = tm.ObjectClasses[0]
			break
		}
	}
	return ti
}

// attr returns the schema attribute an LDIF attribute description maps to:
// by name, case-insensitively; with options, the full description when the
// schema declares it, else the base name when the only option is the
// "binary" transfer option. Other options (language tags) are dropped.
func (ti *typeInfo) attr(desc string) (*connector.Attribute, bool) {
	if a, ok := ti.exact[desc]; ok {
		return a, true
	}
	if a, ok := ti.folded[lowerASCII(desc)]; ok {
		return a, true
	}
	base, opts, ok := strings.Cut(desc, ";")
	if !ok || !strings.EqualFold(opts, "binary") {
		return nil, false
	}
	if a, ok := ti.exact[base]; ok {
		return a, true
	}
	a, ok := ti.folded[lowerASCII(base)]
	return a, ok
}

// isAnchor reports whether desc names the anchor attribute.
func (ti *typeInfo) isAnchor(desc string) bool {
	if strings.EqualFold(desc, ti.anchor) {
		return true
	}
	base, opts, ok := strings.Cut(desc, ";")
	return ok && strings.EqualFold(opts, "binary") && strings.EqualFold(base, ti.anchor)
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
