package connector

import "fmt"

// Object is an object of a connected system as a connector reads it.
type Object struct {
	Anchor Anchor     // immutable identifier; see Anchor
	DN     string     // distinguished name, or another path-like name; may change
	Type   string     // object type, one of the Schema's ObjectTypes
	Attrs  Attributes // typed values, keyed by schema attribute name
}

// ChangeKind says what a Change does.
type ChangeKind uint8

// Change kinds.
const (
	// Add carries the whole object. In an import it means "this object is
	// now as follows" whether or not it was seen before; a full import is a
	// stream of Adds. In an export it creates the object.
	Add ChangeKind = iota + 1
	// Update carries attribute modifications (Mods) and, when the object was
	// renamed or moved, its new DN.
	Update
	// Delete removes the object.
	Delete
)

func (k ChangeKind) String() string {
	switch k {
	case Add:
		return "add"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return fmt.Sprintf("ChangeKind(%d)", uint8(k))
}

// ModOp is the operation of one attribute modification.
type ModOp uint8

// Modification operations, as in LDAP.
const (
	ModAdd     ModOp = iota + 1 // add these values (keeping the others)
	ModRemove                   // remove these values; all values when none are given
	ModReplace                  // replace all values with these
)

func (o ModOp) String() string {
	switch o {
	case ModAdd:
		return "add"
	case ModRemove:
		return "remove"
	case ModReplace:
		return "replace"
	}
	return fmt.Sprintf("ModOp(%d)", uint8(o))
}

// Mod is one attribute modification.
type Mod struct {
	Name   string
	Op     ModOp
	Values []Value
}

// Change is an add, update, delete or rename/move of one object, read by an
// import or applied by an export.
//
// DN is always the object's DN after the change. OldDN is its DN before the
// change when it is renamed or moved, and empty otherwise: a rename is an
// Update whose OldDN differs from DN, never a Delete and an Add, and the
// object keeps its Anchor. An import may report a rename simply by giving a
// new DN with an empty OldDN; the engine compares it with the DN it knew.
//
// In an export, Anchor is empty for an Add (the connected system assigns
// it and the ExportResult returns it) and set for Update and Delete.
type Change struct {
	Kind   ChangeKind
	Anchor Anchor
	Type   string
	DN     string
	OldDN  string
	Attrs  Attributes // Add: the whole object
	Mods   []Mod      // Update: the modifications, in order
}

// Renamed reports whether the change moves the object to a new DN.
func (c *Change) Renamed() bool { return c.OldDN != "" && FoldDN(c.OldDN) != FoldDN(c.DN) }

// Object returns the object an Add describes.
func (c *Change) Object() Object {
	return Object{Anchor: c.Anchor, DN: c.DN, Type: c.Type, Attrs: c.Attrs}
}

// ExportResult is the outcome of exporting one Change.
type ExportResult struct {
	// Anchor is the object's anchor: for an Add, the one the connected
	// system assigned; otherwise the Change's.
	Anchor Anchor
	// DN is the object's DN after the export when the connected system chose
	// or changed it (for example a quarantined name); empty means the
	// Change's DN.
	DN string
	// Err is nil when the change was applied. Otherwise it should be an
	// *ObjectError wrapping one of this package's sentinel errors, so that
	// the engine can tell retryable failures from permanent ones.
	Err error
	// Warnings are non-fatal notes, such as an attribute value quarantined
	// because it conflicted with another object's (duplicate attribute
	// resiliency). The change counts as applied.
	Warnings []string
}
