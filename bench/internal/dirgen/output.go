package dirgen

import (
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldif"
)

// User account control values.
const (
	uacNormal   = 512 // NORMAL_ACCOUNT
	uacDisabled = 514 // NORMAL_ACCOUNT | ACCOUNTDISABLE
)

// Group types: global security, and global distribution.
const (
	globalSecurity     = -2147483646
	globalDistribution = 2
)

// Records yields the directory as LDIF content records in the dialect:
// organizational units first (parents first), then users, then groups.
func (d *Directory) Records(dialect Dialect) iter.Seq[*ldif.Record] {
	return func(yield func(*ldif.Record) bool) {
		for _, ou := range d.OUs() {
			name, _, _ := strings.Cut(strings.TrimPrefix(ou, "OU="), ",")
			rec := &ldif.Record{DN: ou, Attrs: []ldif.Attr{
				{Name: "objectClass", Value: "top"},
				{Name: "objectClass", Value: "organizationalUnit"},
				{Name: "ou", Value: name},
			}}
			if !yield(rec) {
				return
			}
		}
		for i := 0; i < d.Users; i++ {
			if !yield(d.userRecord(d.User(i), dialect)) {
				return
			}
		}
		for j := 0; j < d.Groups(); j++ {
			if !yield(d.groupRecord(d.Group(j), dialect)) {
				return
			}
		}
	}
}

// WriteLDIF writes the whole directory to w as LDIF.
func (d *Directory) WriteLDIF(w io.Writer, dialect Dialect) error {
	lw := ldif.NewWriter(w)
	if err := lw.WriteVersion(); err != nil {
		return err
	}
	for rec := range d.Records(dialect) {
		if err := lw.Write(rec); err != nil {
			return fmt.Errorf("dirgen: writing %s: %w", rec.DN, err)
		}
	}
	return nil
}

type attrs []ldif.Attr

func (a *attrs) add(name string, values ...string) {
	for _, v := range values {
		*a = append(*a, ldif.Attr{Name: name, Value: v})
	}
}

func (d *Directory) userRecord(u User, dialect Dialect) *ldif.Record {
	var a attrs
	switch dialect {
	case OpenLDAP:
		a.add("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson")
		a.add("uid", u.Account)
		a.add("employeeNumber", u.EmployeeID)
		a.add("departmentNumber", u.Department)
	default:
		a.add("objectClass", "top", "person", "organizationalPerson", "user")
		a = append(a, ldif.Attr{Name: "objectGUID", Value: string(u.GUID[:])})
		a.add("sAMAccountName", u.Account)
		a.add("userPrincipalName", u.UPN)
		a.add("employeeID", u.EmployeeID)
		a.add("department", u.Department)
		a.add("proxyAddresses", u.Proxy...)
		uac := uacNormal
		if u.Disabled {
			uac = uacDisabled
		}
		a.add("userAccountControl", strconv.Itoa(uac))
	}
	a.add("cn", u.CN)
	a.add("givenName", u.GivenName)
	a.add("sn", u.Surname)
	a.add("displayName", u.DisplayName)
	a.add("mail", u.Mail)
	a.add("title", u.Title)
	a.add("telephoneNumber", u.Phone)
	if u.ManagerDN != "" {
		a.add("manager", u.ManagerDN)
	}
	return &ldif.Record{DN: u.DN, Attrs: a}
}

func (d *Directory) groupRecord(g Group, dialect Dialect) *ldif.Record {
	var a attrs
	switch dialect {
	case OpenLDAP:
		a.add("objectClass", "top", "groupOfNames")
	default:
		a.add("objectClass", "top", "group")
		a = append(a, ldif.Attr{Name: "objectGUID", Value: string(g.GUID[:])})
		a.add("sAMAccountName", strings.ReplaceAll(g.Name, " ", ""))
		gt := globalDistribution
		if g.Security {
			gt = globalSecurity
		}
		a.add("groupType", strconv.Itoa(gt))
	}
	a.add("cn", g.Name)
	if dialect != OpenLDAP {
		a.add("displayName", g.Name)
	}
	a.add("description", "Generated group "+strconv.Itoa(g.Index))
	for _, i := range g.Members {
		a.add("member", d.UserDN(i))
	}
	for _, j := range g.Nested {
		a.add("member", d.GroupDN(j))
	}
	return &ldif.Record{DN: g.DN, Attrs: a}
}

// Anchor returns the anchor an Active Directory connector gives user i
// (objectGUID in AD's text form).
func (d *Directory) Anchor(i int) connector.Anchor {
	g := d.guid(1, i)
	return connector.Anchor(ldif.GUIDString(g[:]))
}

// GroupAnchor returns the anchor of group j.
func (d *Directory) GroupAnchor(j int) connector.Anchor {
	g := d.guid(2, j)
	return connector.Anchor(ldif.GUIDString(g[:]))
}

// Objects yields the directory as connector objects shaped by
// ldif.ActiveDirectorySchema (users then groups), as an Active Directory
// connector would import them: the anchor is objectGUID, and manager and
// member are references by anchor.
func (d *Directory) Objects() iter.Seq[connector.Object] {
	return func(yield func(connector.Object) bool) {
		for i := 0; i < d.Users; i++ {
			if !yield(d.UserObject(i)) {
				return
			}
		}
		for j := 0; j < d.Groups(); j++ {
			if !yield(d.GroupObject(j)) {
				return
			}
		}
	}
}

func str(s string) []connector.Value { return []connector.Value{connector.StringValue(s)} }

// UserObject returns user i as a connector object.
func (d *Directory) UserObject(i int) connector.Object {
	u := d.User(i)
	uac := int64(uacNormal)
	if u.Disabled {
		uac = uacDisabled
	}
	proxy := make([]connector.Value, len(u.Proxy))
	for k, p := range u.Proxy {
		proxy[k] = connector.StringValue(p)
	}
	o := connector.Object{
		Anchor: connector.Anchor(ldif.GUIDString(u.GUID[:])),
		DN:     u.DN,
		Type:   "user",
		Attrs: connector.Attributes{
			"objectGUID":         {connector.BytesValue(u.GUID[:])},
			"cn":                 str(u.CN),
			"sAMAccountName":     str(u.Account),
			"userPrincipalName":  str(u.UPN),
			"givenName":          str(u.GivenName),
			"sn":                 str(u.Surname),
			"displayName":        str(u.DisplayName),
			"mail":               str(u.Mail),
			"proxyAddresses":     proxy,
			"department":         str(u.Department),
			"title":              str(u.Title),
			"employeeID":         str(u.EmployeeID),
			"telephoneNumber":    str(u.Phone),
			"userAccountControl": {connector.IntValue(uac)},
		},
	}
	if u.Manager >= 0 {
		o.Attrs["manager"] = []connector.Value{connector.RefValue(d.Anchor(u.Manager), u.ManagerDN)}
	}
	return o
}

// GroupObject returns group j as a connector object.
func (d *Directory) GroupObject(j int) connector.Object {
	g := d.Group(j)
	gt := int64(globalDistribution)
	if g.Security {
		gt = globalSecurity
	}
	members := make([]connector.Value, 0, len(g.Members)+len(g.Nested))
	for _, i := range g.Members {
		members = append(members, connector.RefValue(d.Anchor(i), d.UserDN(i)))
	}
	for _, k := range g.Nested {
		members = append(members, connector.RefValue(d.GroupAnchor(k), d.GroupDN(k)))
	}
	return connector.Object{
		Anchor: connector.Anchor(ldif.GUIDString(g.GUID[:])),
		DN:     g.DN,
		Type:   "group",
		Attrs: connector.Attributes{
			"objectGUID":     {connector.BytesValue(g.GUID[:])},
			"cn":             str(g.Name),
			"sAMAccountName": str(strings.ReplaceAll(g.Name, " ", "")),
			"displayName":    str(g.Name),
			"groupType":      {connector.IntValue(gt)},
			"member":         members,
		},
	}
}
