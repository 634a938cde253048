package graphsync

import (
	"fmt"

	"github.com/idbridge/idbridge/connector"
)

// Object types.
const (
	TypeUser   = "user"
	TypeGroup  = "group"
	TypeDevice = "device"
)

// collection is the Graph resource path of each type.
var collection = map[string]string{TypeUser: "users", TypeGroup: "groups", TypeDevice: "devices"}

// typeOfODataType maps @odata.type to our types; members that are
// contacts or service principals keep their collection in their DN.
var odataCollection = map[string]string{
	"#microsoft.graph.user":             "users",
	"#microsoft.graph.group":            "groups",
	"#microsoft.graph.device":           "devices",
	"#microsoft.graph.orgContact":       "contacts",
	"#microsoft.graph.servicePrincipal": "servicePrincipals",
}

func attr(name string, t connector.AttrType) connector.Attribute {
	return connector.Attribute{Name: name, Type: t}
}

func multi(name string, t connector.AttrType) connector.Attribute {
	return connector.Attribute{Name: name, Type: t, Multi: true}
}

func ro(a connector.Attribute) connector.Attribute { a.ReadOnly = true; return a }

// The properties of each type, from the Graph v1.0 resources
// (https://learn.microsoft.com/graph/api/resources/user,
// /group, /device). Read-only ones are imported, never written.
var builtin = map[string][]connector.Attribute{
	TypeUser: {
		ro(attr("id", connector.String)),
		attr("userPrincipalName", connector.String),
		attr("displayName", connector.String),
		attr("givenName", connector.String),
		attr("surname", connector.String),
		attr("mail", connector.String),
		attr("mailNickname", connector.String),
		multi("otherMails", connector.String),
		ro(multi("proxyAddresses", connector.String)),
		attr("jobTitle", connector.String),
		attr("department", connector.String),
		attr("companyName", connector.String),
		attr("employeeId", connector.String),
		attr("employeeType", connector.String),
		attr("officeLocation", connector.String),
		attr("mobilePhone", connector.String),
		multi("businessPhones", connector.String),
		attr("faxNumber", connector.String),
		attr("streetAddress", connector.String),
		attr("city", connector.String),
		attr("state", connector.String),
		attr("postalCode", connector.String),
		attr("country", connector.String),
		attr("usageLocation", connector.String),
		attr("preferredLanguage", connector.String),
		attr("userType", connector.String),
		attr("accountEnabled", connector.Boolean),
		attr("onPremisesImmutableId", connector.String),
		ro(attr("onPremisesSyncEnabled", connector.Boolean)),
		ro(attr("onPremisesDistinguishedName", connector.String)),
		ro(attr("onPremisesSamAccountName", connector.String)),
		ro(attr("onPremisesSecurityIdentifier", connector.String)),
		ro(attr("onPremisesUserPrincipalName", connector.String)),
		ro(attr("onPremisesDomainName", connector.String)),
		ro(attr("onPremisesLastSyncDateTime", connector.Time)),
		ro(attr("createdDateTime", connector.Time)),
		// manager is a navigation property: read by user delta
		// (manager@delta), written by $ref (export.go).
		attr("manager", connector.Reference),
	},
	TypeGroup: {
		ro(attr("id", connector.String)),
		attr("displayName", connector.String),
		attr("description", connector.String),
		attr("mailNickname", connector.String),
		ro(attr("mail", connector.String)),
		attr("mailEnabled", connector.Boolean),
		attr("securityEnabled", connector.Boolean),
		multi("groupTypes", connector.String),
		attr("visibility", connector.String),
		ro(multi("proxyAddresses", connector.String)),
		ro(attr("onPremisesSyncEnabled", connector.Boolean)),
		ro(attr("onPremisesSecurityIdentifier", connector.String)),
		ro(attr("onPremisesSamAccountName", connector.String)),
		ro(attr("onPremisesLastSyncDateTime", connector.Time)),
		ro(attr("createdDateTime", connector.Time)),
		multi("members", connector.Reference),
		// owners are read by a full import (Graph's delta does not track
		// them) and written by $ref.
		multi("owners", connector.Reference),
	},
	TypeDevice: {
		ro(attr("id", connector.String)),
		ro(attr("deviceId", connector.String)),
		ro(attr("displayName", connector.String)),
		ro(attr("operatingSystem", connector.String)),
		ro(attr("operatingSystemVersion", connector.String)),
		ro(attr("accountEnabled", connector.Boolean)),
		ro(attr("trustType", connector.String)),
		ro(attr("isCompliant", connector.Boolean)),
		ro(attr("isManaged", connector.Boolean)),
		ro(attr("profileType", connector.String)),
		ro(multi("physicalIds", connector.String)),
		ro(attr("approximateLastSignInDateTime", connector.Time)),
		ro(attr("registrationDateTime", connector.Time)),
		ro(attr("onPremisesSyncEnabled", connector.Boolean)),
	},
}

// schema builds the connector's schema from the configuration.
func buildSchema(cfg Config) *connector.Schema {
	s := &connector.Schema{}
	for _, t := range cfg.Types {
		ot := connector.ObjectType{Name: t, Anchor: "id"}
		ot.Attributes = append(ot.Attributes, builtin[t]...)
		if t == TypeDevice {
			ot.Attributes = append(ot.Attributes, deviceAttributes()...) // device.go
		}
		if t != TypeDevice {
			for _, e := range cfg.Extensions {
				ot.Attributes = append(ot.Attributes, attr(e, connector.String))
			}
			if t == TypeGroup && cfg.GroupAnchor != "" {
				if _, ok := ot.Attr(cfg.GroupAnchor); !ok {
					ot.Attributes = append(ot.Attributes, attr(cfg.GroupAnchor, connector.String))
				}
			}
		}
		if sel := cfg.Select[t]; len(sel) > 0 {
			keep := ot.Attributes[:0:0]
			for _, a := range ot.Attributes {
				if a.Name == "id" || contains(sel, a.Name) {
					keep = append(keep, a)
				}
			}
			ot.Attributes = keep
		}
		s.Types = append(s.Types, ot)
	}
	return s
}

// checkSelect reports names in cfg.Select that are not properties.
func checkSelect(cfg Config) error {
	full := cfg
	full.Select = nil
	schema := buildSchema(full)
	for t, names := range cfg.Select {
		ot, ok := schema.Type(t)
		if !ok {
			return fmt.Errorf("select: %q is not one of Types", t)
		}
		for _, n := range names {
			if _, ok := ot.Attr(n); !ok {
				return fmt.Errorf("select: %s has no property %q", t, n)
			}
		}
	}
	return nil
}
