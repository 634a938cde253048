package graphtest

import "strings"

// kind is the entity type of a directory object.
type kind int

const (
	kindUser kind = iota
	kindGroup
	kindDevice
	kindRole
	numKinds
)

func (k kind) collection() string {
	switch k {
	case kindUser:
		return "users"
	case kindGroup:
		return "groups"
	case kindDevice:
		return "devices"
	default:
		return "directoryRoles"
	}
}

func (k kind) odataType() string {
	switch k {
	case kindUser:
		return "#microsoft.graph.user"
	case kindGroup:
		return "#microsoft.graph.group"
	case kindDevice:
		return "#microsoft.graph.device"
	default:
		return "#microsoft.graph.directoryRole"
	}
}

func (k kind) typeName() string { return strings.TrimPrefix(k.odataType(), "#") }

// resourceName is used in error messages such as "Invalid value specified
// for property 'x' of resource 'User'."
func (k kind) resourceName() string {
	switch k {
	case kindUser:
		return "User"
	case kindGroup:
		return "Group"
	case kindDevice:
		return "Device"
	default:
		return "DirectoryRole"
	}
}

// propType is the JSON shape a property accepts.
type propType int

const (
	tString propType = iota
	tBool
	tStrings // collection of strings
	tObject  // complex type, stored as given
	tObjects // collection of complex types
	tNumber
)

type propDef struct {
	typ      propType
	readOnly bool
}

// schema describes one entity type. Property lists follow the v1.0
// resource pages:
// https://learn.microsoft.com/graph/api/resources/user
// https://learn.microsoft.com/graph/api/resources/group
// https://learn.microsoft.com/graph/api/resources/device
// https://learn.microsoft.com/graph/api/resources/directoryrole
type schema struct {
	kind  kind
	props map[string]propDef
	// defaults is the property set returned without $select. nil means
	// every declared property.
	defaults []string
	// required properties on create.
	required []string
	// extensions reports whether directory extension properties
	// (extension_<appid>_<name>) are accepted.
	extensions bool
}

// isExtensionName reports whether name is a directory extension property,
// extension_<app id without dashes>_<name>
// (https://learn.microsoft.com/graph/extensibility-overview#directory-microsoft-entra-id-extensions).
func isExtensionName(name string) bool {
	rest, ok := strings.CutPrefix(name, "extension_")
	if !ok || len(rest) < 34 || rest[32] != '_' {
		return false
	}
	for i := 0; i < 32; i++ {
		c := rest[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	for _, c := range rest[33:] {
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func (sc *schema) lookup(name string) (propDef, bool) {
	if name == "id" {
		return propDef{typ: tString, readOnly: true}, true
	}
	if d, ok := sc.props[name]; ok {
		return d, true
	}
	if sc.extensions && isExtensionName(name) {
		return propDef{typ: -1}, true // any JSON scalar or string collection
	}
	return propDef{}, false
}

// defaultProps returns the names rendered without $select.
func (sc *schema) defaultProps() []string {
	if sc.defaults != nil {
		return sc.defaults
	}
	out := make([]string, 0, len(sc.props)+1)
	out = append(out, "id")
	for name := range sc.props {
		if name == "passwordProfile" {
			continue
		}
		out = append(out, name)
	}
	return out
}

func w(t propType) propDef  { return propDef{typ: t} }
func ro(t propType) propDef { return propDef{typ: t, readOnly: true} }

func newSchemas() [numKinds]*schema {
	var s [numKinds]*schema
	s[kindUser] = &schema{
		kind:       kindUser,
		extensions: true,
		// https://learn.microsoft.com/graph/api/user-list: default properties.
		defaults: []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
			"officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"},
		// https://learn.microsoft.com/graph/api/user-post-users: required properties.
		required: []string{"accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile"},
		props: map[string]propDef{
			"accountEnabled":                  w(tBool),
			"ageGroup":                        w(tString),
			"businessPhones":                  w(tStrings),
			"city":                            w(tString),
			"companyName":                     w(tString),
			"consentProvidedForMinor":         w(tString),
			"country":                         w(tString),
			"department":                      w(tString),
			"displayName":                     w(tString),
			"employeeHireDate":                w(tString),
			"employeeLeaveDateTime":           w(tString),
			"employeeId":                      w(tString),
			"employeeOrgData":                 w(tObject),
			"employeeType":                    w(tString),
			"faxNumber":                       w(tString),
			"givenName":                       w(tString),
			"jobTitle":                        w(tString),
			"mail":                            w(tString),
			"mailNickname":                    w(tString),
			"mobilePhone":                     w(tString),
			"officeLocation":                  w(tString),
			"onPremisesExtensionAttributes":   w(tObject),
			"onPremisesImmutableId":           w(tString),
			"otherMails":                      w(tStrings),
			"passwordPolicies":                w(tString),
			"passwordProfile":                 w(tObject),
			"postalCode":                      w(tString),
			"preferredLanguage":               w(tString),
			"showInAddressList":               w(tBool),
			"state":                           w(tString),
			"streetAddress":                   w(tString),
			"surname":                         w(tString),
			"usageLocation":                   w(tString),
			"userPrincipalName":               w(tString),
			"userType":                        w(tString),
			"createdDateTime":                 ro(tString),
			"creationType":                    ro(tString),
			"deletedDateTime":                 ro(tString),
			"externalUserState":               ro(tString),
			"imAddresses":                     ro(tStrings),
			"lastPasswordChangeDateTime":      ro(tString),
			"onPremisesDistinguishedName":     ro(tString),
			"onPremisesDomainName":            ro(tString),
			"onPremisesLastSyncDateTime":      ro(tString),
			"onPremisesSamAccountName":        ro(tString),
			"onPremisesSecurityIdentifier":    ro(tString),
			"onPremisesSyncEnabled":           ro(tBool),
			"onPremisesUserPrincipalName":     ro(tString),
			"proxyAddresses":                  ro(tStrings),
			"securityIdentifier":              ro(tString),
			"signInSessionsValidFromDateTime": ro(tString),
		},
	}
	s[kindGroup] = &schema{
		kind:       kindGroup,
		extensions: true,
		// https://learn.microsoft.com/graph/api/group-post-groups: required properties.
		required: []string{"displayName", "mailEnabled", "mailNickname", "securityEnabled"},
		props: map[string]propDef{
			"classification":                w(tString),
			"description":                   w(tString),
			"displayName":                   w(tString),
			"groupTypes":                    w(tStrings),
			"isAssignableToRole":            w(tBool),
			"mailEnabled":                   w(tBool),
			"mailNickname":                  w(tString),
			"membershipRule":                w(tString),
			"membershipRuleProcessingState": w(tString),
			"preferredDataLocation":         w(tString),
			"preferredLanguage":             w(tString),
			"securityEnabled":               w(tBool),
			"theme":                         w(tString),
			"visibility":                    w(tString),
			"createdDateTime":               ro(tString),
			"deletedDateTime":               ro(tString),
			"expirationDateTime":            ro(tString),
			"mail":                          ro(tString),
			"onPremisesDomainName":          ro(tString),
			"onPremisesLastSyncDateTime":    ro(tString),
			"onPremisesNetBiosName":         ro(tString),
			"onPremisesSamAccountName":      ro(tString),
			"onPremisesSecurityIdentifier":  ro(tString),
			"onPremisesSyncEnabled":         ro(tBool),
			"proxyAddresses":                ro(tStrings),
			"renewedDateTime":               ro(tString),
			"securityIdentifier":            ro(tString),
		},
	}
	s[kindDevice] = &schema{
		kind: kindDevice,
		// https://learn.microsoft.com/graph/api/device-post-devices: required properties.
		required: []string{"accountEnabled", "alternativeSecurityIds", "deviceId", "displayName", "operatingSystem", "operatingSystemVersion"},
		props: map[string]propDef{
			"accountEnabled":                w(tBool),
			"alternativeSecurityIds":        w(tObjects),
			"deviceId":                      w(tString),
			"deviceOwnership":               w(tString),
			"displayName":                   w(tString),
			"enrollmentProfileName":         w(tString),
			"extensionAttributes":           w(tObject),
			"isCompliant":                   w(tBool),
			"isManaged":                     w(tBool),
			"operatingSystem":               w(tString),
			"operatingSystemVersion":        w(tString),
			"physicalIds":                   w(tStrings),
			"profileType":                   w(tString),
			"trustType":                     w(tString),
			"approximateLastSignInDateTime": ro(tString),
			"createdDateTime":               ro(tString),
			"deletedDateTime":               ro(tString),
			"onPremisesLastSyncDateTime":    ro(tString),
			"onPremisesSyncEnabled":         ro(tBool),
			"registrationDateTime":          ro(tString),
		},
	}
	s[kindRole] = &schema{
		kind: kindRole,
		props: map[string]propDef{
			"description":     ro(tString),
			"displayName":     ro(tString),
			"roleTemplateId":  ro(tString),
			"deletedDateTime": ro(tString),
		},
	}
	return s
}

// roleTemplateID returns the template id of a built-in role
// (https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference),
// or "" for an unknown name.
func roleTemplateID(name string) string {
	switch name {
	case "Global Administrator":
		return "62e90394-69f5-4237-9190-012177145e10"
	case "User Administrator":
		return "fe930be7-5e62-47db-91af-98c3a49a38b1"
	case "Groups Administrator":
		return "fdd7a751-b60b-444a-984c-02652fe8fa1c"
	case "Privileged Role Administrator":
		return "e8611ab8-c189-46e8-94e1-60213ab1f814"
	case "Helpdesk Administrator":
		return "729827e3-9c14-49f7-bb1b-9608f156bbb8"
	case "Global Reader":
		return "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	case "Security Administrator":
		return "194ae4cb-b126-40b2-bd5b-6091b380977d"
	case "Directory Readers":
		return "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
	}
	return ""
}
