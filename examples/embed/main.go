// Command embed is the embedding example of the README: an Active Directory
// export synced to an LDIF change file through an in-memory metaverse, with
// the run profiles an Entra Connect administrator knows (Full Import, Full
// Sync, Export). It runs from the repository root or from its own
// directory:
//
//	go run ./examples/embed            # from the repository root
//	cd examples/embed && go run .      # from here
//
// It reads the quickstart's sample (or -source FILE) and writes the change
// records it exports to -out (default: people-changes.ldif in the system's
// temporary directory, replaced at each run), and says where.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
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

//go:embed rules.yaml
var ruleFile []byte

func main() {
	source := flag.String("source", findSample(), "AD export (LDIF) to read")
	out := flag.String("out", filepath.Join(os.TempDir(), "people-changes.ldif"), "LDIF file the exported change records are written to (replaced)")
	flag.Parse()
	if err := os.Remove(*out); err != nil && !errors.Is(err, os.ErrNotExist) {
		log.Fatal(err)
	}
	if err := run(context.Background(), *source, *out); err != nil {
		log.Fatal(err)
	}
	fmt.Println("change records written to", *out)
}

// run is the embedding itself; the README shows it as it is here.
func run(ctx context.Context, source, out string) error {
	ad, err := ldif.New(ldif.Config{
		Path:   source,
		Schema: ldif.ActiveDirectorySchema(), // objectGUID is the anchor
		Types:  []ldif.TypeMap{{Type: "user", ObjectClasses: []string{"user"}}},
	})
	if err != nil {
		return err
	}
	people, err := ldif.New(ldif.Config{
		ExportPath: out, // a target: Export appends LDIF change records
		Schema: &connector.Schema{Types: []connector.ObjectType{{Name: "person", Attributes: []connector.Attribute{
			{Name: "mail", Type: connector.String}, {Name: "cn", Type: connector.String}}}}},
	})
	if err != nil {
		return err
	}
	rf, err := rules.Parse("rules.yaml", ruleFile) // CEL flows; rules.ParseFile reads a file
	if err != nil {
		return err
	}
	eng, err := idbridge.New(ctx, idbridge.Config{
		Store:      memstore.New(), // or boltstore.Open, pgstore.Open
		Connectors: map[string]connector.Connector{"ad": ad, "people": people},
		Rules:      rf, // type-checked against the schemas here: errors carry file:line:col
	})
	if err != nil {
		return err
	}
	for _, step := range []func(context.Context, string) (*idbridge.RunResult, error){eng.FullImport, eng.FullSync} {
		r, err := step(ctx, "ad") // ad FullImport: adds=299 errors=4, then ad FullSync: projections=299 provisions=284
		if err != nil {
			return err
		}
		fmt.Println(r)
	}
	r, err := eng.Export(ctx, "people") // people Export: exported=284; the deletion threshold and staging mode apply here
	if err != nil {
		return err
	}
	fmt.Println(r)
	// Or, for every connector at once: res, err := eng.Cycle(ctx, idbridge.Initial)
	return nil
}

// findSample returns the quickstart's sample AD export as seen from the
// repository root or from this directory.
func findSample() string {
	candidates := []string{
		filepath.Join("examples", "quickstart", "data", "contoso-ad.ldif"),
		filepath.Join("..", "quickstart", "data", "contoso-ad.ldif"),
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return candidates[0]
}
