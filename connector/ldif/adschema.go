package ldif

import "github.com/idbridge/idbridge/connector"

// ActiveDirectorySchema returns the schema of an Active Directory export
// (ldifde, or ldapsearch against a domain controller) for users and groups,
// with the attributes Entra Connect's default rules read. objectGUID (16
// octets) is the anchor. Use it with TypeMaps "user" → objectClass user,
// "group" → objectClass group, and Anchor "objectGUID" (or leave Anchor
// empty: the schema names it).
//
// Each call returns a new Schema, which the caller may extend.
func ActiveDirectorySchema() *connector.Schema {
	str := func(n string) connector.Attribute { return connector.Attribute{Name: n, Type: connector.String} }
	common := func() []connector.Attribute {
		return []connector.Attribute{
			{Name: "objectGUID", Type: connector.Bytes, ReadOnly: true},
			{Name: "mS-DS-ConsistencyGuid", Type: connector.Bytes},
			{Name: "objectSid", Type: connector.Bytes, ReadOnly: true},
			{Name: "isCriticalSystemObject", Type: connector.Boolean, ReadOnly: true},
			str("cn"),
			str("sAMAccountName"),
			str("displayName"),
			{Name: "description", Type: connector.String, Multi: true},
			str("mail"),
			{Name: "proxyAddresses", Type: connector.String, Multi: true},
			{Name: "whenCreated", Type: connector.Time, ReadOnly: true},
			{Name: "whenChanged", Type: connector.Time, ReadOnly: true},
		}
	}
	user := append(common(),
		str("userPrincipalName"),
		str("givenName"),
		str("sn"),
		str("initials"),
		str("department"),
		str("title"),
		str("company"),
		str("employeeID"),
		str("employeeType"),
		str("physicalDeliveryOfficeName"),
		str("telephoneNumber"),
		str("mobile"),
		str("streetAddress"),
		str("l"),
		str("st"),
		str("postalCode"),
		str("c"),
		connector.Attribute{Name: "manager", Type: connector.Reference},
		connector.Attribute{Name: "userAccountControl", Type: connector.Integer},
		connector.Attribute{Name: "accountExpires", Type: connector.Integer},
		connector.Attribute{Name: "pwdLastSet", Type: connector.Integer, ReadOnly: true},
	)
	group := append(common(),
		connector.Attribute{Name: "groupType", Type: connector.Integer},
		connector.Attribute{Name: "member", Type: connector.Reference, Multi: true},
		connector.Attribute{Name: "managedBy", Type: connector.Reference},
		str("info"),
	)
	return &connector.Schema{Types: []connector.ObjectType{
		{Name: "user", Anchor: "objectGUID", Attributes: user},
		{Name: "group", Anchor: "objectGUID", Attributes: group},
	}}
}
