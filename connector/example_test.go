package connector_test

import (
	"fmt"

	"github.com/idbridge/idbridge/connector"
)

// A connector reports an object it read as an Add; values are typed.
func ExampleChange() {
	c := connector.Change{
		Kind:   connector.Add,
		Anchor: "6b1f0c52-7a7e-4f3c-9d41-0d1e2c3b4a59",
		Type:   "user",
		DN:     "CN=Ada Lovelace,OU=Engineering,DC=contoso,DC=com",
		Attrs: connector.Attributes{
			"givenName":          {connector.StringValue("Ada")},
			"userAccountControl": {connector.IntValue(512)},
			"manager":            {connector.RefValue("", "CN=Grace Hopper,OU=Engineering,DC=contoso,DC=com")},
		},
	}
	for _, name := range c.Attrs.Names() {
		v, _ := c.Attrs.First(name)
		fmt.Printf("%s (%s): %s\n", name, v.Type(), v)
	}
	// Output:
	// givenName (string): Ada
	// manager (reference): CN=Grace Hopper,OU=Engineering,DC=contoso,DC=com
	// userAccountControl (integer): 512
}

// Diff computes the modifications an export sends: one-value changes to
// multi-valued attributes, replacements of single-valued ones.
func ExampleDiff() {
	before := connector.Attributes{
		"title":  {connector.StringValue("Engineer")},
		"member": {connector.StringValue("ada"), connector.StringValue("bob")},
	}
	after := connector.Attributes{
		"title":  {connector.StringValue("Principal Engineer")},
		"member": {connector.StringValue("ada"), connector.StringValue("eve")},
	}
	for _, m := range connector.Diff(before, after, nil, func(n string) bool { return n == "member" }) {
		fmt.Println(m.Op, m.Name, m.Values)
	}
	// Output:
	// add member [eve]
	// remove member [bob]
	// replace title [Principal Engineer]
}
