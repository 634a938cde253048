package ldap

import (
	"context"
	"fmt"
	"slices"
	"strings"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
)

// rootDSE is what the connector reads from the server's root entry.
type rootDSE struct {
	dialect          Dialect
	subschema        string
	syncrepl         bool
	dirsync          bool
	highestUSN       string
	dsServiceName    string
	defaultNamingCtx string
}

const (
	oidADCapability   = "1.2.840.113556.1.4.800"
	oidSyncRequest    = "1.3.6.1.4.1.4203.1.9.1.1"
	oidDirSyncControl = "1.2.840.113556.1.4.841"
)

func (c *Connector) readRootDSE(ctx context.Context) (*rootDSE, error) {
	var e *ldap.Entry
	err := c.s.run(ctx, func(conn *ldap.Conn) error {
		res, err := conn.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"supportedCapabilities", "supportedControl", "subschemaSubentry",
				"highestCommittedUSN", "dsServiceName", "defaultNamingContext"}, nil))
		if err != nil {
			return err
		}
		if len(res.Entries) == 0 {
			return fmt.Errorf("ldap: the server returned no root DSE")
		}
		e = res.Entries[0]
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ldap: reading the root DSE: %w", mapErr(err))
	}
	r := &rootDSE{
		subschema:        e.GetAttributeValue("subschemaSubentry"),
		highestUSN:       e.GetAttributeValue("highestCommittedUSN"),
		dsServiceName:    e.GetAttributeValue("dsServiceName"),
		defaultNamingCtx: e.GetAttributeValue("defaultNamingContext"),
	}
	controls := e.GetAttributeValues("supportedControl")
	r.syncrepl = slices.Contains(controls, oidSyncRequest)
	r.dirsync = slices.Contains(controls, oidDirSyncControl)
	switch {
	case slices.Contains(e.GetAttributeValues("supportedCapabilities"), oidADCapability):
		r.dialect = ActiveDirectory
	case r.syncrepl:
		r.dialect = OpenLDAP
	default:
		r.dialect = Generic
	}
	if c.cfg.Dialect != Auto {
		r.dialect = c.cfg.Dialect
	}
	return r, nil
}

// attrDef is an attribute type of the server's schema.
type attrDef struct {
	names  []string
	sup    string
	syntax string
	single bool
	noUser bool // NO-USER-MODIFICATION
}

// classDef is an object class of the server's schema.
type classDef struct {
	names []string
	sup   []string
	must  []string
	may   []string
}

// serverSchema is the subschema subentry, parsed.
type serverSchema struct {
	attrs   map[string]*attrDef // lower-cased name → definition
	classes map[string]*classDef
}

func (c *Connector) readSchema(ctx context.Context, dn string) (*serverSchema, error) {
	if dn == "" {
		return nil, fmt.Errorf("ldap: the server announces no subschemaSubentry")
	}
	var e *ldap.Entry
	err := c.s.run(ctx, func(conn *ldap.Conn) error {
		res, err := conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"attributeTypes", "objectClasses"}, nil))
		if err != nil {
			return err
		}
		if len(res.Entries) == 0 {
			return fmt.Errorf("ldap: no subschema entry at %s", dn)
		}
		e = res.Entries[0]
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ldap: reading the schema at %s: %w", dn, mapErr(err))
	}
	s := &serverSchema{attrs: map[string]*attrDef{}, classes: map[string]*classDef{}}
	for _, def := range e.GetAttributeValues("attributeTypes") {
		f := parseDef(def)
		a := &attrDef{names: f.list("NAME"), syntax: f.one("SYNTAX"), sup: f.one("SUP"), single: f.has("SINGLE-VALUE"), noUser: f.has("NO-USER-MODIFICATION")}
		if i := strings.IndexByte(a.syntax, '{'); i >= 0 {
			a.syntax = a.syntax[:i]
		}
		for _, n := range a.names {
			s.attrs[strings.ToLower(n)] = a
		}
	}
	for _, def := range e.GetAttributeValues("objectClasses") {
		f := parseDef(def)
		cd := &classDef{names: f.list("NAME"), sup: f.list("SUP"), must: f.list("MUST"), may: f.list("MAY")}
		for _, n := range cd.names {
			s.classes[strings.ToLower(n)] = cd
		}
	}
	return s, nil
}

// syntaxOf follows SUP to the attribute's syntax.
func (s *serverSchema) syntaxOf(a *attrDef) string {
	for i := 0; a != nil && i < 10; i++ {
		if a.syntax != "" {
			return a.syntax
		}
		a = s.attrs[strings.ToLower(a.sup)]
	}
	return ""
}

// attrsOf returns the attributes classes allow, with their superclasses'.
func (s *serverSchema) attrsOf(classes []string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(name string, depth int)
	walk = func(name string, depth int) {
		cd := s.classes[strings.ToLower(name)]
		if cd == nil || depth > 20 {
			return
		}
		for _, a := range append(slices.Clone(cd.must), cd.may...) {
			if k := strings.ToLower(a); !seen[k] {
				seen[k] = true
				out = append(out, a)
			}
		}
		for _, sup := range cd.sup {
			walk(sup, depth+1)
		}
	}
	for _, c := range classes {
		walk(c, 0)
	}
	return out
}

// attrType maps an LDAP syntax OID to the connector's attribute type.
func attrType(syntax string) connector.AttrType {
	switch syntax {
	case "1.3.6.1.4.1.1466.115.121.1.12", "1.2.840.113556.1.4.903": // DN, AD DN-with-binary
		return connector.Reference
	case "1.3.6.1.4.1.1466.115.121.1.27", "1.2.840.113556.1.4.906": // INTEGER, AD large integer
		return connector.Integer
	case "1.3.6.1.4.1.1466.115.121.1.7": // Boolean
		return connector.Boolean
	case "1.3.6.1.4.1.1466.115.121.1.24", "1.3.6.1.4.1.1466.115.121.1.53": // GeneralizedTime, UTCTime
		return connector.Time
	case "1.3.6.1.4.1.1466.115.121.1.40", "1.3.6.1.4.1.1466.115.121.1.5", "1.3.6.1.4.1.1466.115.121.1.28",
		"1.3.6.1.4.1.1466.115.121.1.8", "1.3.6.1.4.1.1466.115.121.1.9", "1.3.6.1.4.1.1466.115.121.1.10",
		"1.2.840.113556.1.4.907", "1.2.840.113556.1.4.904": // octets, binary, JPEG, certificates, security descriptor
		return connector.Bytes
	}
	return connector.String
}

// def is an RFC 4512 schema definition, as keyword → values.
type def map[string][]string

func (d def) list(k string) []string { return d[k] }
func (d def) has(k string) bool      { _, ok := d[k]; return ok }
func (d def) one(k string) string {
	if v := d[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// parseDef parses "( oid NAME ( 'a' 'b' ) SUP top MUST ( x $ y ) SINGLE-VALUE )".
func parseDef(s string) def {
	toks := tokenize(s)
	d := def{}
	// toks[0] is "(" and toks[1] the OID.
	for i := 2; i < len(toks); i++ {
		t := toks[i]
		if t == "(" || t == ")" || t == "$" {
			continue
		}
		if !isKeyword(t) {
			continue
		}
		key := t
		d[key] = nil
		if i+1 >= len(toks) || isKeyword(toks[i+1]) || toks[i+1] == ")" && i+2 >= len(toks) {
			continue
		}
		if toks[i+1] == "(" {
			j := i + 2
			for ; j < len(toks) && toks[j] != ")"; j++ {
				if toks[j] != "$" {
					d[key] = append(d[key], strings.Trim(toks[j], "'"))
				}
			}
			i = j
			continue
		}
		if toks[i+1] != ")" {
			d[key] = append(d[key], strings.Trim(toks[i+1], "'"))
			i++
		}
	}
	return d
}

// isKeyword reports whether t is a schema keyword (NAME, SUP, X-ORIGIN…).
func isKeyword(t string) bool {
	if t == "" || t[0] == '\'' {
		return false
	}
	for _, r := range t {
		if !(r >= 'A' && r <= 'Z' || r == '-') {
			return false
		}
	}
	return true
}

func tokenize(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '(' || c == ')' || c == '$':
			toks = append(toks, string(c))
			i++
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				toks = append(toks, s[i:])
				return toks
			}
			toks = append(toks, s[i:i+j+2])
			i += j + 2
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '(' && s[j] != ')' && s[j] != '$' {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}
