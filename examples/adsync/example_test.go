package main

import (
	"fmt"
)

// A configuration error names the file, the line and column, and the field.
func Example_configError() {
	_, err := parseConfig("adsync.yaml", []byte(`connectors:
  hr:
    ldif:
      path: people.ldif
      schema: {types: [{name: person, attributes: [{name: cn, type: string}]}]}
rules: rules.yaml
store:
  type: bolt
  path: state.db
schedule:
  interval: 30 minutes
`))
	fmt.Println(err)
	// Output:
	// adsync.yaml:11:13: schedule.interval: connector: duration "30 minutes": want a number with a unit, as 30s, 5m or 1h30m
}
