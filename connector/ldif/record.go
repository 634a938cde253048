package ldif

import "strings"

// Change types of a change record (RFC 2849 "changetype:").
const (
	ChangeAdd    = "add"
	ChangeDelete = "delete"
	ChangeModify = "modify"
	ChangeModRDN = "modrdn" // also written "moddn"; the Reader reports both as modrdn
)

// Modification operations of a modify change record.
const (
	ModAdd     = "add"
	ModDelete  = "delete"
	ModReplace = "replace"
)

// Record is one LDIF record: a content record (ChangeType empty, the entry
// in Attrs) or a change record.
type Record struct {
	// Line is the line number (1-based) of the record's dn line.
	Line int
	// DN is the distinguished name, decoded when given in base64.
	DN string
	// ChangeType is "" for a content record, else ChangeAdd, ChangeDelete,
	// ChangeModify or ChangeModRDN.
	ChangeType string
	// Attrs holds a content record's or an add's attribute values, one per
	// line, in file order.
	Attrs []Attr
	// Mods holds a modify's modifications, in order.
	Mods []Mod
	// NewRDN, DeleteOldRDN and NewSuperior describe a modrdn. NewSuperior
	// is empty when the entry stays under the same parent.
	NewRDN       string
	DeleteOldRDN bool
	NewSuperior  string
	// Controls are the record's "control:" lines, unparsed (the connector
	// ignores them).
	Controls []string
}

// Attr is one attribute value line.
type Attr struct {
	// Name is the attribute description as written, options included:
	// "cn", "userCertificate;binary", "description;lang-fr".
	Name string
	// Value is the value's octets (decoded from base64 when given so); not
	// necessarily UTF-8.
	Value string
	// Line is the value's line number.
	Line int
}

// Base returns the attribute type without options ("cn" for
// "cn;lang-fr") and the options, separated by ';'.
func (a Attr) Base() (name, options string) {
	name, options, _ = strings.Cut(a.Name, ";")
	return name, options
}

// Mod is one modification of a modify record.
type Mod struct {
	Op     string   // ModAdd, ModDelete or ModReplace
	Name   string   // attribute description
	Values []string // none for a delete of all values or a replace by nothing
}

// Get returns the values of the attribute named name (matched
// case-insensitively, options included).
func (r *Record) Get(name string) []string {
	var vs []string
	for _, a := range r.Attrs {
		if strings.EqualFold(a.Name, name) {
			vs = append(vs, a.Value)
		}
	}
	return vs
}
