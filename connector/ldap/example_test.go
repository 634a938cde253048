package ldap_test

import (
	"fmt"
	"log"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldap"
)

// A connector to Active Directory's users and groups under one OU, leaving
// out its service accounts. Nothing connects until the first call.
func Example() {
	c, err := ldap.New(ldap.Config{
		URL:      "ldaps://dc1.contoso.com",
		BindDN:   "CN=svc-idbridge,OU=Service Accounts,DC=contoso,DC=com",
		Password: connector.NewSecret("from your secret store"),
		Containers: []ldap.Container{{
			DN:      "OU=Contoso,DC=contoso,DC=com",
			Exclude: []string{"OU=Service Accounts,OU=Contoso,DC=contoso,DC=com"},
		}},
		Types: []ldap.TypeConfig{
			{Name: "user", ObjectClasses: []string{"user"}, Filter: "(!(objectClass=computer))"},
			{Name: "group", ObjectClasses: []string{"group"}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println("configured")
	// Output: configured
}

// Configuration errors name what is wrong.
func ExampleConfig_Validate() {
	cfg := ldap.Config{URL: "http://dc1", Containers: []ldap.Container{{DN: "OU=A,DC=x", Exclude: []string{"OU=B,DC=y"}}}}
	fmt.Println(cfg.Validate())
	// Output:
	// ldap: invalid config: url "http://dc1": scheme must be ldap or ldaps
	// bindDN is required
	// containers[0]: exclude "OU=B,DC=y" is not under "OU=A,DC=x"
	// types: at least one is required
}
