// Command quickstart syncs a sample Active Directory export (an LDIF file of
// a fictional company, Contoso) through the bundled sync rules to a cloud
// directory written as an LDIF change file, and prints a run report.
//
//	go run ./examples/quickstart
//
// State is kept in an embedded bbolt store (by default under the user's
// cache directory), so the second run is a true delta from the first: it
// finds nothing new. Edit the source file given with -source and run again
// to see only your change flow through; -reset starts over.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldif"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/boltstore"
	"github.com/idbridge/idbridge/rules"
)

//go:embed data/contoso-ad.ldif
var sampleAD []byte

//go:embed rules.yaml
var ruleFile []byte

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// cloudSchema is the target directory's schema: Entra ID-like users and
// groups.
func cloudSchema() *connector.Schema {
	str := func(n string) connector.Attribute { return connector.Attribute{Name: n, Type: connector.String} }
	return &connector.Schema{Types: []connector.ObjectType{
		{Name: "user", Attributes: []connector.Attribute{
			str("userPrincipalName"), str("displayName"), str("givenName"), str("surname"), str("mail"),
			{Name: "proxyAddresses", Type: connector.String, Multi: true},
			str("department"), str("jobTitle"), str("employeeId"),
			{Name: "accountEnabled", Type: connector.Boolean},
			str("onPremisesImmutableId"),
			{Name: "manager", Type: connector.Reference},
		}},
		{Name: "group", Attributes: []connector.Attribute{
			str("displayName"), str("mailNickname"),
			{Name: "securityEnabled", Type: connector.Boolean},
			str("onPremisesImmutableId"),
			{Name: "members", Type: connector.Reference, Multi: true},
		}},
	}}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	defaultState := filepath.Join(os.TempDir(), "idbridge-quickstart")
	if dir, err := os.UserCacheDir(); err == nil {
		defaultState = filepath.Join(dir, "idbridge", "quickstart")
	}
	state := fs.String("state", defaultState, "directory for the store and the output")
	source := fs.String("source", "", "AD export to sync (default: the bundled Contoso sample, copied into -state)")
	reset := fs.Bool("reset", false, "delete the state first")
	verbose := fs.Bool("v", false, "log at debug level")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *reset {
		if err := os.RemoveAll(*state); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(*state, 0o755); err != nil {
		return err
	}
	if *source == "" {
		*source = filepath.Join(*state, "contoso-ad.ldif")
		if _, err := os.Stat(*source); errors.Is(err, os.ErrNotExist) {
			if err := os.WriteFile(*source, sampleAD, 0o644); err != nil {
				return err
			}
		}
	}
	changes := filepath.Join(*state, "cloud-changes.ldif")
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	store, err := boltstore.Open(filepath.Join(*state, "idbridge.db"), nil)
	if err != nil {
		return err
	}
	defer store.Close()

	ad, err := ldif.New(ldif.Config{
		Path:   *source,
		Anchor: "objectGUID",
		Schema: ldif.ActiveDirectorySchema(),
		Types: []ldif.TypeMap{
			{Type: "user", ObjectClasses: []string{"user"}},
			{Type: "group", ObjectClasses: []string{"group"}},
		},
	})
	if err != nil {
		return err
	}
	cloud, err := ldif.New(ldif.Config{ExportPath: changes, Schema: cloudSchema()})
	if err != nil {
		return err
	}
	rf, err := rules.Parse("rules.yaml", ruleFile)
	if err != nil {
		return err
	}
	eng, err := idbridge.New(ctx, idbridge.Config{
		Store:      store,
		Connectors: map[string]connector.Connector{"ad": ad, "cloud": cloud},
		Rules:      rf,
		Options:    idbridge.Options{Logger: logger},
	})
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "idbridge quickstart\n  source: %s\n  state:  %s\n  output: %s\n\n", *source, *state, changes)
	// The cloud side is an export-only file, so the cycle is run step by
	// step: import and sync AD, export to the cloud. (Engine.Cycle would
	// also import the cloud connector, to confirm exports.)
	var runs []*idbridge.RunResult
	for _, step := range []func(context.Context, string) (*idbridge.RunResult, error){eng.DeltaImport, eng.DeltaSync} {
		r, err := step(ctx, "ad")
		if err != nil {
			return err
		}
		runs = append(runs, r)
	}
	r, err := eng.Export(ctx, "cloud")
	if err != nil {
		return err
	}
	runs = append(runs, r)

	for _, r := range runs {
		fmt.Fprintf(out, "%-22s %s\n", r.Profile, strings.TrimPrefix(r.String(), r.Connector+" "+string(r.Profile)+": "))
		for _, e := range r.Errors {
			fmt.Fprintf(out, "    ! %v\n", e)
		}
	}
	if err := report(ctx, out, store, runs); err != nil {
		return err
	}
	return nil
}

// report prints what the metaverse holds and what this run changed.
func report(ctx context.Context, out io.Writer, store metaverse.Store, runs []*idbridge.RunResult) error {
	types := map[string]int{}
	disabled := 0
	err := store.View(ctx, func(tx metaverse.Tx) error {
		after := ""
		for {
			page, err := tx.Entries(ctx, after, 500)
			if err != nil || len(page) == 0 {
				return err
			}
			for _, e := range page {
				types[e.Type]++
				if v, ok := e.Attrs.First("accountEnabled"); ok && !v.Bool() {
					disabled++
				}
			}
			after = page[len(page)-1].ID
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nmetaverse: %d people (%d disabled), %d groups\n", types["person"], disabled, types["group"])
	exported := runs[len(runs)-1].Exported
	imp := runs[0]
	if exported == 0 && imp.Adds+imp.Updates+imp.Deletes+imp.Renames == 0 {
		fmt.Fprintln(out, "nothing new since the last run: every object is in sync.")
		return nil
	}
	fmt.Fprintf(out, "%d changes written to the cloud change file. Run again: the next run finds nothing new.\n", exported)
	return nil
}
