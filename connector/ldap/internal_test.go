package ldap

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idbridge/idbridge/connector"
)

func TestParseDef(t *testing.T) {
	d := parseDef(`( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'RFC4519: common name(s)' SUP name )`)
	assert.Equal(t, []string{"cn", "commonName"}, d.list("NAME"))
	assert.Equal(t, "name", d.one("SUP"))
	d = parseDef(`( 1.3.6.1.1.16.4 NAME 'entryUUID' EQUALITY UUIDMatch SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )`)
	assert.True(t, d.has("SINGLE-VALUE"))
	assert.True(t, d.has("NO-USER-MODIFICATION"))
	assert.Equal(t, "1.3.6.1.1.16.1", d.one("SYNTAX"))
	d = parseDef(`( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( userPassword $ telephoneNumber ) )`)
	assert.Equal(t, []string{"sn", "cn"}, d.list("MUST"))
	assert.Equal(t, []string{"userPassword", "telephoneNumber"}, d.list("MAY"))
	assert.Equal(t, []string{"top"}, d.list("SUP"))
}

func TestAttrType(t *testing.T) {
	for syntax, want := range map[string]connector.AttrType{
		"1.3.6.1.4.1.1466.115.121.1.12": connector.Reference,
		"1.3.6.1.4.1.1466.115.121.1.27": connector.Integer,
		"1.2.840.113556.1.4.906":        connector.Integer,
		"1.3.6.1.4.1.1466.115.121.1.7":  connector.Boolean,
		"1.3.6.1.4.1.1466.115.121.1.24": connector.Time,
		"1.3.6.1.4.1.1466.115.121.1.40": connector.Bytes,
		"1.3.6.1.4.1.1466.115.121.1.15": connector.String,
	} {
		assert.Equal(t, want, attrType(syntax), syntax)
	}
}

func TestEncodePassword(t *testing.T) {
	assert.Equal(t, "\"\x00a\x00\xe9\x00\"\x00", encodePassword("aé"), `"aé" in UTF-16LE`)
}

func TestIsUnder(t *testing.T) {
	assert.True(t, isUnder("CN=A,OU=Staff,DC=x", "ou=staff,dc=x"))
	assert.True(t, isUnder("OU=Staff,DC=x", "ou=staff,dc=x"))
	assert.False(t, isUnder("CN=A,OU=StaffX,DC=x", "ou=staff,dc=x"))
}
