package rules_test

import (
	"context"
	"fmt"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/rules"
)

// adSchema is what an Active Directory connector's Schema method returns.
var adSchema = &connector.Schema{Types: []connector.ObjectType{{
	Name:   "user",
	Anchor: "objectGUID",
	Attributes: []connector.Attribute{
		{Name: "objectGUID", Type: connector.Bytes},
		{Name: "ms-DS-ConsistencyGuid", Type: connector.Bytes},
		{Name: "objectClass", Type: connector.String, Multi: true},
		{Name: "givenName", Type: connector.String},
		{Name: "sn", Type: connector.String},
		{Name: "mail", Type: connector.String},
		{Name: "employeeID", Type: connector.String},
		{Name: "userAccountControl", Type: connector.Integer},
	},
}}}

const ruleFile = `
metaverse:
  types:
    - name: person
      attributes:
        - {name: displayName, type: string}
        - {name: mail, type: string}
        - {name: employeeID, type: string}
        - {name: company, type: string}
        - {name: cloudSourceAnchor, type: string}
        - {name: accountEnabled, type: boolean}
rules:
  - name: In from AD - User
    direction: inbound
    connector: ad
    source: user
    target: person
    precedence: 100
    linkType: Provision
    scope: 'source.objectClass.exists(c, c == "user")'
    join:
      - [{source: source.employeeID, target: employeeID}]
    flows:
      - {target: displayName, expression: 'source.givenName + " " + source.sn'}
      - {target: mail, source: mail}
      - {target: employeeID, source: employeeID}
      - {target: company, constant: Contoso}
      - target: cloudSourceAnchor
        expression: 'base64(has(source.ms_DS_ConsistencyGuid) ? source.ms_DS_ConsistencyGuid : source.objectGUID)'
        applyOnce: true
      - {target: accountEnabled, expression: '!isBitSet(source.userAccountControl, 2)'}
`

// Parse and compile a rule file, then run an inbound rule on an object.
func Example() {
	f, err := rules.Parse("rules.yaml", []byte(ruleFile))
	if err != nil {
		fmt.Println(err)
		return
	}
	set, err := rules.Compile(f.Rules, rules.Schemas{
		Metaverse:  f.Metaverse,
		Connectors: map[string]*connector.Schema{"ad": adSchema},
	}, rules.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}

	user := &rules.Input{
		Anchor: "00112233-4455-6677-8899-aabbccddeeff",
		DN:     "CN=John Doe,OU=Sales,DC=contoso,DC=com",
		Type:   "user",
		Attrs: connector.Attributes{
			"objectGUID":         {connector.BytesValue([]byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff})},
			"objectClass":        {connector.StringValue("top"), connector.StringValue("user")},
			"givenName":          {connector.StringValue("John")},
			"sn":                 {connector.StringValue("Doe")},
			"employeeID":         {connector.StringValue("E123")},
			"userAccountControl": {connector.IntValue(514)}, // disabled
		},
	}
	ctx := context.Background()
	for _, r := range set.Inbound("ad", "user") {
		ok, err := r.InScope(ctx, user)
		if err != nil || !ok {
			continue
		}
		keys, _ := r.JoinKeys(ctx, user, 0)
		fmt.Printf("join on %s = %v\n", keys[0].Attr, keys[0].Values)
		results, err := r.Flows(ctx, user)
		if err != nil {
			fmt.Println(err)
		}
		for _, fr := range results {
			fmt.Printf("%s: %v %v\n", fr.Target, fr.Values, fr.Null)
		}
	}
	// Output:
	// join on employeeID = [E123]
	// displayName: [John Doe] NotNull
	// mail: [] Null
	// employeeID: [E123] NotNull
	// company: [Contoso] NotNull
	// cloudSourceAnchor: [MyIRAFVEd2aImaq7zN3u/w==] NotNull
	// accountEnabled: [false] NotNull
}

// Compile refuses expressions that do not type-check, naming the file,
// line and column of the flow, the rule, the expression and the column in
// the expression.
func Example_typeError() {
	f, err := rules.Parse("rules.yaml", []byte(`
metaverse:
  types:
    - name: person
      attributes:
        - {name: displayName, type: string}
        - {name: accountEnabled, type: boolean}
        - {name: mail, type: string}
rules:
  - name: In from AD - User
    direction: inbound
    connector: ad
    source: user
    target: person
    flows:
      - {target: displayName, expression: 'source.givenName + 1'}
      - {target: accountEnabled, expression: 'source.userAccountControl'}
      - {target: mail, expression: 'source.surname'}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = rules.Compile(f.Rules, rules.Schemas{
		Metaverse:  f.Metaverse,
		Connectors: map[string]*connector.Schema{"ad": adSchema},
	}, rules.Options{})
	fmt.Println(err)
	// Output:
	// rules.yaml:16:9: rule "In from AD - User": flow displayName: `source.givenName + 1`: column 18: found no matching overload for '_+_' applied to '(string, int)'
	// rules.yaml:17:9: rule "In from AD - User": flow accountEnabled: `source.userAccountControl`: result of type int cannot be assigned to bool
	// rules.yaml:18:9: rule "In from AD - User": flow mail: `source.surname`: column 7: undefined field 'surname'
}

// Special results: Null() contributes nothing, so that a lower-precedence
// rule may set the attribute; AuthoritativeNull() clears it whatever other
// rules say; IgnoreThisFlow() keeps the current value.
func ExampleNullKind() {
	src, _ := adSchema.Type("user")
	p, err := rules.NewCEL().Compile(`source.mail.endsWith("@contoso.com") ? source.mail
		: source.mail == "" ? Null()
		: source.mail.endsWith(".test") ? IgnoreThisFlow()
		: AuthoritativeNull()`,
		&rules.Env{Source: src, SourceName: "ad.user", Result: rules.ResultType{Type: connector.String}, CostLimit: rules.DefaultCostLimit})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, mail := range []string{"jd@contoso.com", "", "jd@lab.test", "jd@gmail.com"} {
		attrs := connector.Attributes{}
		attrs.Set("mail", connector.StringValue(mail))
		vals, kind, _ := p.Eval(context.Background(), &rules.Input{Attrs: attrs}, nil)
		fmt.Printf("%q: %v %v\n", mail, kind, vals)
	}
	// Output:
	// "jd@contoso.com": NotNull [jd@contoso.com]
	// "": Null []
	// "jd@lab.test": IgnoreThisFlow []
	// "jd@gmail.com": AuthoritativeNull []
}
