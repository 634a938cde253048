// Command embed is the embedding example of the README: an Active Directory
// export synced to an LDIF change file through an in-memory metaverse, in one
// cycle. Run it from the repository root:
//
//	go run ./examples/embed
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldif"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

func main() {
	ctx := context.Background()
	ad, err := ldif.New(ldif.Config{
		Path:   "examples/quickstart/data/contoso-ad.ldif",
		Schema: ldif.ActiveDirectorySchema(), // objectGUID is the anchor
		Types:  []ldif.TypeMap{{Type: "user", ObjectClasses: []string{"user"}}},
	})
	check(err)
	people, err := ldif.New(ldif.Config{
		ExportPath: filepath.Join(os.TempDir(), "people-changes.ldif"),
		Schema: &connector.Schema{Types: []connector.ObjectType{{Name: "person", Attributes: []connector.Attribute{
			{Name: "mail", Type: connector.String}, {Name: "cn", Type: connector.String}}}}},
	})
	check(err)
	rf, err := rules.ParseFile("examples/embed/rules.yaml") // CEL flows
	check(err)
	eng, err := idbridge.New(ctx, idbridge.Config{
		Store:      memstore.New(), // or boltstore.Open, pgstore.Open
		Connectors: map[string]connector.Connector{"ad": ad, "people": people},
		Rules:      rf, // type-checked against the schemas here: errors carry file:line:col
	})
	check(err)
	for _, step := range []func(context.Context, string) (*idbridge.RunResult, error){
		eng.FullImport, eng.FullSync} {
		r, err := step(ctx, "ad")
		check(err)
		fmt.Println(r)
	}
	r, err := eng.Export(ctx, "people") // the deletion threshold and staging mode apply here
	check(err)
	fmt.Println(r)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
