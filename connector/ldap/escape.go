package ldap

import ldap "github.com/go-ldap/ldap/v3"

// escape escapes a value for an LDAP filter (RFC 4515).
func escape(v string) string { return ldap.EscapeFilter(v) }
