package metaverse

import (
	"fmt"
	"slices"
	"time"

	"github.com/idbridge/idbridge/connector"
)

// LinkType says how a connector-space object came to be linked to a
// metaverse entry, and so whether its disappearance deletes the entry.
type LinkType uint8

// Link types, as in Entra Connect's sync rules.
const (
	// Provision: the object projected the entry (inbound), or the entry
	// provisioned the object (outbound). A Provision source keeps the entry
	// alive.
	Provision LinkType = iota + 1
	// Join: the object was joined to an existing entry. It does not keep the
	// entry alive.
	Join
	// StickyJoin: joined, and keeps the entry alive like Provision.
	StickyJoin
)

func (t LinkType) String() string {
	switch t {
	case Provision:
		return "Provision"
	case Join:
		return "Join"
	case StickyJoin:
		return "StickyJoin"
	}
	return fmt.Sprintf("LinkType(%d)", uint8(t))
}

// ParseLinkType parses the names returned by LinkType.String.
func ParseLinkType(s string) (LinkType, error) {
	for _, t := range []LinkType{Provision, Join, StickyJoin} {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("metaverse: unknown link type %q", s)
}

// Authoritative reports whether a link of this type keeps an entry alive.
func (t LinkType) Authoritative() bool { return t == Provision || t == StickyJoin }

// Entry is one identity in the metaverse.
type Entry struct {
	ID    string               // assigned by the engine, immutable
	Type  string               // metaverse object type ("person", "group")
	Attrs connector.Attributes // reference values hold metaverse entry IDs as anchors
	// Sources says, per attribute, which connector and rule contributed the
	// current value (precedence, lineage, explain).
	Sources map[string]Source
	Links   []Link
	Created time.Time
	Updated time.Time
}

// Source is the contributor of one metaverse attribute.
type Source struct {
	Connector string `json:"c"`
	Rule      string `json:"r"`
}

// Link ties an entry to one connector-space object.
type Link struct {
	Connector string   // connector name
	ObjectID  string   // CSObject.ID
	Type      LinkType // how the link was made
	Rule      string   // the sync rule that made it
	Inbound   bool     // true when the object is a source of the entry, false when the entry provisioned or joined it as a target
}

// LinkTo returns the links of e to the given connector.
func (e *Entry) LinkTo(connectorName string) []Link {
	var out []Link
	for _, l := range e.Links {
		if l.Connector == connectorName {
			out = append(out, l)
		}
	}
	return out
}

// Clone returns a deep copy.
func (e *Entry) Clone() *Entry {
	if e == nil {
		return nil
	}
	c := *e
	c.Attrs = e.Attrs.Clone()
	if e.Sources != nil {
		c.Sources = make(map[string]Source, len(e.Sources))
		for k, v := range e.Sources {
			c.Sources[k] = v
		}
	}
	c.Links = slices.Clone(e.Links)
	return &c
}
