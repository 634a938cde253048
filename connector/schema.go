package connector

import (
	"errors"
	"fmt"
)

// Schema describes the object types of a connected system (or of the
// metaverse) and their attributes. Rules are type-checked against it.
type Schema struct {
	Types []ObjectType `json:"types" yaml:"types"`
}

// ObjectType describes one object type.
type ObjectType struct {
	Name string `json:"name" yaml:"name"`
	// Anchor names the attribute that holds the anchor (objectGUID,
	// entryUUID, id); empty when the anchor is not an attribute.
	Anchor     string      `json:"anchor,omitempty" yaml:"anchor,omitempty"`
	Attributes []Attribute `json:"attributes" yaml:"attributes"`
}

// Attribute describes one attribute of an object type.
type Attribute struct {
	// Name is the attribute's name as rules and Attributes spell it.
	Name string `json:"name" yaml:"name"`
	// Type is the type of every value of the attribute.
	Type AttrType `json:"type" yaml:"type"`
	// Multi: the attribute may hold more than one value. A single-valued
	// attribute holds at most one.
	Multi bool `json:"multi,omitempty" yaml:"multi,omitempty"`
	// ReadOnly: the connected system sets the attribute itself (objectGUID,
	// whenChanged, uSNChanged, Graph's createdDateTime) and refuses
	// writes. Imports report it and inbound rules may read it; an outbound
	// rule that flows into it is refused when the rules are compiled, so
	// the engine never exports it.
	ReadOnly bool `json:"readOnly,omitempty" yaml:"readOnly,omitempty"`
}

// Type returns the object type with the given name.
func (s *Schema) Type(name string) (*ObjectType, bool) {
	if s == nil {
		return nil, false
	}
	for i := range s.Types {
		if s.Types[i].Name == name {
			return &s.Types[i], true
		}
	}
	return nil, false
}

// Attr returns the attribute with the given name.
func (t *ObjectType) Attr(name string) (*Attribute, bool) {
	for i := range t.Attributes {
		if t.Attributes[i].Name == name {
			return &t.Attributes[i], true
		}
	}
	return nil, false
}

// Validate reports duplicate or empty names and invalid types.
func (s *Schema) Validate() error {
	var errs []error
	types := map[string]bool{}
	for _, t := range s.Types {
		if t.Name == "" {
			errs = append(errs, errors.New("object type with empty name"))
			continue
		}
		if types[t.Name] {
			errs = append(errs, fmt.Errorf("object type %q declared twice", t.Name))
		}
		types[t.Name] = true
		attrs := map[string]bool{}
		for _, a := range t.Attributes {
			switch {
			case a.Name == "":
				errs = append(errs, fmt.Errorf("object type %q: attribute with empty name", t.Name))
			case attrs[a.Name]:
				errs = append(errs, fmt.Errorf("object type %q: attribute %q declared twice", t.Name, a.Name))
			case a.Type < String || a.Type > Reference:
				errs = append(errs, fmt.Errorf("object type %q: attribute %q has invalid type %v", t.Name, a.Name, a.Type))
			}
			attrs[a.Name] = true
		}
		if t.Anchor != "" && !attrs[t.Anchor] {
			errs = append(errs, fmt.Errorf("object type %q: anchor attribute %q is not declared", t.Name, t.Anchor))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("connector: invalid schema: %w", err)
	}
	return nil
}
