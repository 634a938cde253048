// Command quickstart syncs a sample Active Directory export (an LDIF file of
// a fictional company, Contoso) through the bundled sync rules to Microsoft
// Entra ID — here the in-process Graph emulator (graphsync/graphtest),
// reached through the real Graph connector and SDK — and prints a run
// report and the resulting cloud users.
//
//	go run ./examples/quickstart
//
// State is kept in an embedded bbolt store (by default under the user's
// cache directory) and the emulated tenant is saved next to it, so the
// second run is a true delta from the first: it finds nothing new. Edit the
// source file given with -source and run again to see only your change
// flow through; -reset starts over.
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
	"sort"
	"strings"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldif"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
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

// groupAnchor is the directory extension that carries a group's source
// anchor: Graph has onPremisesImmutableId on users only.
const groupAnchor = "extension_8f1a2b3c4d5e4f60a1b2c3d4e5f60718_sourceAnchor"

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
	tenantFile := filepath.Join(*state, "cloud-tenant.json")
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

	// The cloud: the Graph emulator, with the tenant the last run left.
	tenant := graphtest.NewServer(graphtest.Options{Token: "quickstart", Domains: []string{"contoso.com"}, InitialDomain: "contoso.onmicrosoft.com"})
	defer tenant.Close()
	if f, err := os.Open(tenantFile); err == nil {
		err = tenant.Restore(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w (-reset starts over)", tenantFile, err)
		}
	}

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
	// Against a real tenant: Credential is an azidentity credential,
	// BaseURL and HTTPClient are left out, and WriteBudget keeps its
	// default (Graph's documented write limit).
	cloud, err := graphsync.New(graphsync.Config{
		BaseURL:     tenant.URL() + "/v1.0",
		Credential:  graphsync.StaticToken("quickstart"),
		HTTPClient:  tenant.Client(),
		Types:       []string{graphsync.TypeUser, graphsync.TypeGroup},
		Extensions:  []string{groupAnchor},
		GroupAnchor: groupAnchor,
		WriteBudget: graphsync.Unlimited,
		Logger:      logger,
	})
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

	fmt.Fprintf(out, "idbridge quickstart\n  source: %s\n  state:  %s\n  cloud:  Graph emulator at %s (tenant saved in %s)\n\n", *source, *state, tenant.URL(), tenantFile)
	// A delta cycle: import both sides (the cloud import confirms the last
	// run's exports), sync, export. The first run has no watermarks, so
	// its delta imports read everything.
	cycle, err := eng.Cycle(ctx, idbridge.Delta)
	if cycle == nil {
		return err
	}
	if err := saveTenant(tenant, tenantFile); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	for _, r := range cycle.Runs {
		fmt.Fprintf(out, "%-6s %-12s %s\n", r.Connector, r.Profile, strings.TrimPrefix(r.String(), r.Connector+" "+string(r.Profile)+": "))
		for _, e := range r.Errors {
			fmt.Fprintf(out, "    ! %v\n", e)
		}
		for _, w := range r.Warnings {
			fmt.Fprintf(out, "    ~ %v\n", w)
		}
	}
	if err := report(ctx, out, store, cycle.Runs); err != nil {
		return err
	}
	printCloud(out, tenant)
	return nil
}

// saveTenant writes the emulated tenant for the next run (through a
// temporary file, so that a crash leaves the last good one).
func saveTenant(t *graphtest.Server, path string) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := t.Snapshot(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// printCloud lists the cloud's users and groups as Graph holds them.
func printCloud(out io.Writer, t *graphtest.Server) {
	users, groups := t.Users(), t.Groups()
	sort.Slice(users, func(i, j int) bool {
		return fmt.Sprint(users[i]["userPrincipalName"]) < fmt.Sprint(users[j]["userPrincipalName"])
	})
	fmt.Fprintf(out, "\nthe cloud (Entra ID, emulated) holds %d users and %d groups:\n", len(users), len(groups))
	const show = 8
	for i, u := range users {
		if i == show {
			fmt.Fprintf(out, "  … and %d more\n", len(users)-show)
			break
		}
		enabled := ""
		if u["accountEnabled"] == false {
			enabled = " (disabled)"
		}
		fmt.Fprintf(out, "  %-34v %-24v %-14v immutableId %v%s\n", u["userPrincipalName"], u["displayName"], orDash(u["department"]), u["onPremisesImmutableId"], enabled)
	}
	sort.Slice(groups, func(i, j int) bool {
		return fmt.Sprint(groups[i]["displayName"]) < fmt.Sprint(groups[j]["displayName"])
	})
	for i, g := range groups {
		if i == 3 {
			fmt.Fprintf(out, "  … and %d more groups\n", len(groups)-3)
			break
		}
		members, _ := g["members"].([]string)
		fmt.Fprintf(out, "  group %-28v %d members\n", g["displayName"], len(members))
	}
}

func orDash(v any) any {
	if v == nil {
		return "-"
	}
	return v
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
	exported, imported := 0, 0
	for _, r := range runs {
		exported += r.Exported
		if r.Connector == "ad" {
			imported += r.Adds + r.Updates + r.Deletes + r.Renames
		}
	}
	if exported == 0 && imported == 0 {
		fmt.Fprintln(out, "nothing new since the last run: every object is in sync.")
		return nil
	}
	fmt.Fprintf(out, "%d changes exported to the cloud. Run again: the next run finds nothing new.\n", exported)
	return nil
}
