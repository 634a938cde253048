package ldif_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/ldif"
)

// Importing an Active Directory export: users and groups become typed
// objects anchored by objectGUID; a malformed record is reported with its
// line and skipped.
func Example() {
	const export = `version: 1

# An organizational unit: out of scope.
dn: OU=Staff,DC=contoso,DC=com
objectClass: organizationalUnit

dn: CN=Ada Lovelace,OU=Staff,DC=contoso,DC=com
objectClass: top
objectClass: person
objectClass: user
objectGUID:: UmFX7qWt3kW+7wEjRWeJqw==
sAMAccountName: ada
userAccountControl: 512
whenCreated: 20240101120000.0Z
manager: CN=Grace Hopper,OU=Staff,DC=contoso,DC=com
extensionAttribute1: not in the schema, dropped

dn: CN=Bad,OU=Staff,DC=contoso,DC=com
objectClass: user
objectGUID:: AAECAwQFBgcICQoLDA0ODw==
userAccountControl: abc
`
	c, err := ldif.New(ldif.Config{
		Open:   func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(export)), nil },
		Schema: ldif.ActiveDirectorySchema(),
		Types: []ldif.TypeMap{
			{Type: "user", ObjectClasses: []string{"user"}},
			{Type: "group", ObjectClasses: []string{"group"}},
		},
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	var rec connectortest.Recorder
	if err := c.Import(context.Background(), &rec); err != nil {
		panic(err)
	}
	for _, o := range rec.Objects() {
		fmt.Println(o.Type, o.Anchor, o.DN)
		for _, name := range o.Attrs.Names() {
			v, _ := o.Attrs.First(name)
			fmt.Printf("  %s (%s): %v\n", name, v.Type(), v)
		}
	}
	for _, e := range rec.Errors {
		fmt.Println("error:", e)
	}
	// Output:
	// user ee576152-ada5-45de-beef-0123456789ab CN=Ada Lovelace,OU=Staff,DC=contoso,DC=com
	//   manager (reference): CN=Grace Hopper,OU=Staff,DC=contoso,DC=com
	//   objectGUID (bytes): UmFX7qWt3kW+7wEjRWeJqw==
	//   sAMAccountName (string): ada
	//   userAccountControl (integer): 512
	//   whenCreated (time): 2024-01-01T12:00:00Z
	// error: connector: import CN=Bad,OU=Staff,DC=contoso,DC=com at input:18: ldif: line 21: userAccountControl: "abc" is not an integer
}

// Exporting changes appends LDIF change records to a file.
func ExampleConnector_Export() {
	dir, _ := os.MkdirTemp("", "ldif")
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "changes.ldif")
	schema := &connector.Schema{Types: []connector.ObjectType{{
		Name: "user", Anchor: "entryUUID",
		Attributes: []connector.Attribute{
			{Name: "entryUUID", Type: connector.String},
			{Name: "cn", Type: connector.String},
			{Name: "description", Type: connector.String},
			{Name: "mail", Type: connector.String, Multi: true},
		},
	}}}
	c, _ := ldif.New(ldif.Config{
		Schema:     schema,
		Types:      []ldif.TypeMap{{Type: "user", ObjectClasses: []string{"inetOrgPerson"}}},
		ExportPath: out,
		NewAnchor:  func() connector.Anchor { return "4f9c1a2e-0000-4000-8000-000000000001" },
	})
	defer c.Close()
	res, _ := c.Export(context.Background(), []connector.Change{
		{Kind: connector.Add, Type: "user", DN: "cn=Zoë,ou=people,dc=example", Attrs: connector.Attributes{
			"cn":   {connector.StringValue("Zoë")},
			"mail": {connector.StringValue("zoe@example.com"), connector.StringValue("z@example.com")},
		}},
		{Kind: connector.Update, Anchor: "a2", Type: "user", DN: "cn=Bo,ou=staff,dc=example", OldDN: "cn=Bob,ou=people,dc=example",
			Mods: []connector.Mod{{Name: "description", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue(" leading space")}}}},
		{Kind: connector.Delete, Anchor: "a3", Type: "user", DN: "cn=Eve,ou=people,dc=example"},
	})
	fmt.Println("anchor of the add:", res[0].Anchor)
	b, _ := os.ReadFile(out)
	fmt.Print(string(b))
	// Output:
	// anchor of the add: 4f9c1a2e-0000-4000-8000-000000000001
	// dn:: Y249Wm/DqyxvdT1wZW9wbGUsZGM9ZXhhbXBsZQ==
	// changetype: add
	// objectClass: inetOrgPerson
	// cn:: Wm/Dqw==
	// entryUUID: 4f9c1a2e-0000-4000-8000-000000000001
	// mail: z@example.com
	// mail: zoe@example.com
	//
	// dn: cn=Bob,ou=people,dc=example
	// changetype: modrdn
	// newrdn: cn=Bo
	// deleteoldrdn: 1
	// newsuperior: ou=staff,dc=example
	//
	// dn: cn=Bo,ou=staff,dc=example
	// changetype: modify
	// replace: description
	// description:: IGxlYWRpbmcgc3BhY2U=
	// -
	//
	// dn: cn=Eve,ou=people,dc=example
	// changetype: delete
	//
}
