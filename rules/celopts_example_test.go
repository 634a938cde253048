package rules_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/rules"
)

// A custom function, declared with Go types, used in a rule file: Compile
// type-checks its calls, and refuses a call with a wrong argument at its
// file:line:col.
func ExampleFunction() {
	normalizePhone := rules.Function("normalizePhone", func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' || r == '+' {
				return r
			}
			return -1
		}, s)
	})
	eval := rules.NewCEL(normalizePhone) // for an Engine: idbridge.Options{Evaluator: eval}

	schemas := func(f *rules.File) rules.Schemas {
		return rules.Schemas{Metaverse: f.Metaverse, Connectors: map[string]*connector.Schema{"hr": {Types: []connector.ObjectType{{
			Name: "worker", Anchor: "id",
			Attributes: []connector.Attribute{{Name: "id", Type: connector.String}, {Name: "phone", Type: connector.String}, {Name: "grade", Type: connector.Integer}},
		}}}}}
	}
	const file = `metaverse:
  types:
    - name: person
      attributes:
        - {name: telephoneNumber, type: string}
rules:
  - name: In from HR
    direction: inbound
    connector: hr
    source: worker
    target: person
    flows:
      - {target: telephoneNumber, expression: '%s'}
`
	good, _ := rules.Parse("hr.yaml", fmt.Appendf(nil, file, "normalizePhone(source.phone)"))
	set, err := rules.Compile(good.Rules, schemas(good), rules.Options{Evaluator: eval})
	if err != nil {
		fmt.Println(err)
		return
	}
	worker := &rules.Input{Type: "worker", Attrs: connector.Attributes{"phone": {connector.StringValue("+1 (555) 010-2030")}}}
	results, _ := set.Inbound("hr", "worker")[0].Flows(context.Background(), worker)
	fmt.Println(results[0].Target, results[0].Values)

	bad, _ := rules.Parse("hr.yaml", fmt.Appendf(nil, file, "normalizePhone(source.grade)"))
	_, err = rules.Compile(bad.Rules, schemas(bad), rules.Options{Evaluator: eval})
	fmt.Println(err)
	// Output:
	// telephoneNumber [+15550102030]
	// hr.yaml:13:9: rule "In from HR": flow telephoneNumber: `normalizePhone(source.grade)`: column 15: found no matching overload for 'normalizePhone' applied to '(int)'
}
