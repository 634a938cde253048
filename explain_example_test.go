package idbridge_test

import (
	"context"
	"fmt"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

// Three sources contribute to one person: HR (precedence 10), Active
// Directory (20) and a CRM (30), joined on employeeID; a fourth rule of
// AD only sets title for Sales, and a cloud directory gets displayName,
// mail and title.
const explainRules = `
metaverse:
  types:
    - name: person
      attributes:
        - {name: employeeID, type: string}
        - {name: displayName, type: string}
        - {name: mail, type: string}
        - {name: title, type: string}
rules:
  - name: In from HR
    direction: inbound
    connector: hr
    source: worker
    target: person
    precedence: 10
    linkType: Provision
    join: [[{source: source.id, target: employeeID}]]
    flows:
      - {target: employeeID, source: id}
      - {target: displayName, source: name}
      - {target: mail, expression: 'Null()'}
  - name: In from AD - Sales title
    direction: inbound
    connector: ad
    source: user
    target: person
    precedence: 5
    scope: 'source.department == "Sales"'
    flows:
      - {target: title, expression: '"Sales " + source.title'}
  - name: In from AD
    direction: inbound
    connector: ad
    source: user
    target: person
    precedence: 20
    join: [[{source: source.employeeID, target: employeeID}]]
    flows:
      - {target: displayName, source: displayName}
      - {target: mail, source: mail}
      - {target: title, source: title}
  - name: In from CRM
    direction: inbound
    connector: crm
    source: contact
    target: person
    precedence: 30
    join: [[{source: source.employeeNumber, target: employeeID}]]
    flows:
      - {target: displayName, source: fullName}
      - {target: mail, source: email}
      - {target: title, expression: 'IgnoreThisFlow()'}
  - name: Out to Cloud
    direction: outbound
    connector: cloud
    source: person
    target: user
    precedence: 10
    linkType: Provision
    flows:
      - {target: dn, expression: '"uid=" + source.employeeID'}
      - {target: displayName, source: displayName}
      - {target: mail, source: mail}
      - {target: jobTitle, source: title}
`

// Explain says, per attribute, which of three sources won and why the
// others lost, and what the cloud directory's pending export is.
func ExampleEngine_Explain() {
	ctx := context.Background()
	system := func(typ string, attrs ...string) *memconn.System {
		t := connector.ObjectType{Name: typ}
		for _, a := range attrs {
			t.Attributes = append(t.Attributes, connector.Attribute{Name: a, Type: connector.String})
		}
		return memconn.New(&connector.Schema{Types: []connector.ObjectType{t}})
	}
	object := func(typ, anchor string, kv ...string) connector.Object {
		o := connector.Object{Anchor: connector.Anchor(anchor), DN: typ + "=" + anchor, Type: typ, Attrs: connector.Attributes{}}
		for i := 0; i < len(kv); i += 2 {
			o.Attrs[kv[i]] = []connector.Value{connector.StringValue(kv[i+1])}
		}
		return o
	}
	hr := system("worker", "id", "name")
	ad := system("user", "employeeID", "displayName", "mail", "title", "department")
	crm := system("contact", "employeeNumber", "fullName", "email")
	cloud := system("user", "displayName", "mail", "jobTitle")
	hr.Put(object("worker", "w1", "id", "1001", "name", "Ada Lovelace"))
	ad.Put(object("user", "u1", "employeeID", "1001", "displayName", "Lovelace, Ada", "mail", "ada@contoso.com", "title", "Analyst", "department", "Research"))
	crm.Put(object("contact", "c1", "employeeNumber", "1001", "fullName", "Ada L.", "email", "ada@crm.example"))

	rf, err := rules.Parse("explain.yaml", []byte(explainRules))
	if err != nil {
		fmt.Println(err)
		return
	}
	eng, err := idbridge.New(ctx, idbridge.Config{
		Store: memstore.New(),
		Connectors: map[string]connector.Connector{
			"hr": hr.Connector(), "ad": ad.Connector(), "crm": crm.Connector(), "cloud": cloud.Connector(),
		},
		Rules: rf,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The first cycle syncs ad and crm before hr projects Ada: a second
	// joins them, a third confirms the cloud's exports.
	for _, mode := range []idbridge.CycleMode{idbridge.Initial, idbridge.Initial, idbridge.Delta} {
		if _, err := eng.Cycle(ctx, mode); err != nil {
			fmt.Println(err)
			return
		}
	}
	// Ada marries: HR has her new name, not yet synced.
	hr.Put(object("worker", "w1", "id", "1001", "name", "Ada King"))
	if _, err := eng.DeltaImport(ctx, "hr"); err != nil {
		fmt.Println(err)
		return
	}

	x, err := eng.Explain(ctx, idbridge.ExplainTarget{Connector: "hr", Anchor: "w1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range x.Attributes {
		fmt.Printf("%s = %v (%s, %q)\n", a.Name, a.Values, a.Connector, a.Rule)
		for _, c := range a.Contributions {
			fmt.Printf("  %-14s %-3s %2d %v: %s\n", c.Outcome, c.Connector, c.Precedence, c.Values, c.Reason)
		}
	}
	for _, o := range x.Outbound {
		if o.Export != nil {
			fmt.Printf("%s %s %s:", o.Connector, o.Export.Kind, o.DN)
			for _, m := range o.Export.Mods {
				fmt.Printf(" %s %s %v", m.Op, m.Name, m.Values)
			}
			fmt.Println()
		}
	}
	// Output:
	// displayName = [Ada King] (hr, "In from HR")
	//   won            hr  10 [Ada King]: the lowest precedence number with a value
	//   precedence     ad  20 [Lovelace, Ada]: precedence 20 loses to 10 (rule "In from HR" of hr)
	//   precedence     crm 30 [Ada L.]: precedence 30 loses to 10 (rule "In from HR" of hr)
	// employeeID = [1001] (hr, "In from HR")
	//   won            hr  10 [1001]: the lowest precedence number with a value
	// mail = [ada@contoso.com] (ad, "In from AD")
	//   null           hr  10 []: Null: the flow gave no value, so it does not contribute
	//   won            ad  20 [ada@contoso.com]: the lowest precedence number with a value
	//   precedence     crm 30 [ada@crm.example]: precedence 30 loses to 20 (rule "In from AD" of ad)
	// title = [Analyst] (ad, "In from AD")
	//   won            ad  20 [Analyst]: the lowest precedence number with a value
	//   ignoreThisFlow crm 30 []: IgnoreThisFlow: no contribution
	//   outOfScope     ad   5 [Sales Analyst]: the object is not in the rule's scope
	// cloud update uid=1001: replace displayName [Ada King]
}
