package entraconnect_test

import (
	"errors"
	"fmt"

	"github.com/idbridge/idbridge/rules"
	"github.com/idbridge/idbridge/rules/entraconnect"
)

// A product loads the default rules and layers its own file over them, as
// an Entra Connect administrator clones a default rule and disables the
// original: here a cloned rule with a higher precedence (a lower number)
// sets displayName, the ConsistencyGuid writeback of groups is disabled,
// and a rule is added.
func Example() {
	defaults, err := entraconnect.Load(entraconnect.Options{
		GroupAnchor: "extension_8f1a2b3c4d5e4f60a1b2c3d4e5f60718_sourceAnchor",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	product, err := rules.Parse("product.yaml", []byte(`
metaverse:
  types:
    - name: person
      attributes:
        - {name: costCenter, type: string}
rules:
  - name: In from AD - User DisplayName    # a clone, winning over "User Common"
    direction: inbound
    connector: ad
    source: user
    target: person
    precedence: 50
    linkType: Join
    flows:
      - {target: displayName, expression: 'source.sn.upperAscii() + ", " + source.givenName'}
  - name: Out to AD - Group ImmutableId    # the default, disabled
    direction: outbound
    connector: ad
    source: group
    target: group
    disabled: true
  - name: In from AD - User Cost Center
    direction: inbound
    connector: ad
    source: user
    target: person
    precedence: 60
    linkType: Join
    flows:
      - {target: costCenter, source: department}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := entraconnect.Overlay(defaults, product)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range f.Rules {
		state := ""
		if r.Disabled {
			state = " (disabled)"
		}
		fmt.Printf("%-8s %-5s %3d  %s%s\n", r.Direction, r.Connector, r.Precedence, r.Name, state)
	}

	// An override that could mean two things is refused.
	_, err = entraconnect.Overlay(defaults, &rules.File{Rules: []rules.Rule{{
		Name: "In from AD - User Common", Direction: rules.Inbound, Connector: "hr", SourceType: "user", TargetType: "person",
	}}})
	fmt.Println(errors.Is(err, entraconnect.ErrInvalidOverride))
	// Output:
	// inbound  ad    100  In from AD - User Join
	// inbound  ad    110  In from AD - User AccountEnabled
	// inbound  ad    130  In from AD - User Common
	// inbound  ad    140  In from AD - Group Join
	// inbound  ad    150  In from AD - Group Common
	// outbound ad    100  Out to AD - User ImmutableId
	// outbound ad    110  Out to AD - Group ImmutableId (disabled)
	// outbound cloud 100  Out to AAD - User Join
	// outbound cloud 110  Out to AAD - User Common
	// outbound cloud 120  Out to AAD - Group Join
	// inbound  ad     50  In from AD - User DisplayName
	// inbound  ad     60  In from AD - User Cost Center
	// true
}
