// Command quickstart syncs a sample Active Directory export (an LDIF file of
// a fictional company, Contoso) through Entra Connect's default sync rules
// (rules/entraconnect, with the quickstart's rules.yaml over them) to Microsoft
// Entra ID — here the in-process Graph emulator (graphsync/graphtest),
// reached through the real Graph connector and SDK — and prints a run
// report and the resulting cloud users.
//
//	go run ./examples/quickstart
//
// The first run is an initial cycle, as an Entra Connect administrator runs
// one: Full Import of both connectors, Full Sync, Export. State is kept in
// an embedded bbolt store (by default under the user's cache directory) and
// the emulated tenant is saved next to it, so every later run is a delta
// cycle (Delta Import, Delta Sync, Export) that finds only what changed.
//
// Flags:
//
//	-state DIR   where the store, the tenant and the copied sample live
//	-source FILE an AD export (LDIF) to sync instead of the bundled sample
//	-reset       delete the state first: store, tenant and the copied
//	             sample, which is copied afresh (your edits to it are lost)
//	-v           log at debug level, to standard error
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
	"github.com/idbridge/idbridge/rules/entraconnect"
)

//go:embed data/contoso-ad.ldif
var sampleAD []byte

//go:embed rules.yaml
var ruleFile []byte

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout)
	switch {
	case errors.Is(err, flag.ErrHelp): // -h: the usage was printed
	case err != nil:
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
	state := fs.String("state", defaultState, "directory for the store, the emulated tenant and the copied sample")
	source := fs.String("source", "", "AD export (LDIF) to sync (default: the bundled Contoso sample, copied into -state on first use)")
	reset := fs.Bool("reset", false, "delete the state first: store, tenant and the copied sample (your edits to it are lost)")
	verbose := fs.Bool("v", false, "log at debug level to standard error")
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: quickstart [flags]\n\n"+
			"Syncs a sample Active Directory export to an emulated Entra ID tenant:\n"+
			"an initial cycle the first time, delta cycles after.\n\n")
		fs.PrintDefaults()
	}
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
	// Entra Connect's default rules, with the quickstart's own over them.
	defaults, err := entraconnect.Load(entraconnect.Options{Forests: []entraconnect.Forest{{Connector: "ad"}}, Cloud: "cloud", GroupAnchor: groupAnchor})
	if err != nil {
		return err
	}
	own, err := rules.Parse("rules.yaml", ruleFile)
	if err != nil {
		return err
	}
	rf, err := entraconnect.Overlay(defaults, own)
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
	// The first run (no watermark yet) is an initial cycle: Full Import
	// of both connectors, Full Sync, Export. Later runs are delta cycles:
	// Delta Import (the cloud's confirms the last run's exports), Delta
	// Sync, Export.
	mode := idbridge.Delta
	if first, err := firstRun(ctx, store); err != nil {
		return err
	} else if first {
		mode = idbridge.Initial
	}
	fmt.Fprintf(out, "%s cycle:\n", map[idbridge.CycleMode]string{idbridge.Initial: "initial", idbridge.Delta: "delta"}[mode])
	cycle, err := eng.Cycle(ctx, mode)
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
	if mode == idbridge.Initial {
		printFlows(out, rf, "cloud")
	}
	printCloud(out, tenant)
	return nil
}

// firstRun reports whether the store has no watermark of the AD connector
// yet: nothing was ever imported.
func firstRun(ctx context.Context, store metaverse.Store) (bool, error) {
	var wm []byte
	err := store.View(ctx, func(tx metaverse.Tx) error {
		var err error
		wm, err = tx.Watermark(ctx, "ad")
		return err
	})
	return wm == nil, err
}

// printFlows lists, per object type, the attributes the outbound rules
// write to a connector: only these reach it.
func printFlows(out io.Writer, rf *rules.File, conn string) {
	fmt.Fprintf(out, "\nattributes the rules export to the %s (edit one of these in the source to see it flow):\n", conn)
	for _, r := range rf.Rules {
		if r.Direction != rules.Outbound || r.Connector != conn {
			continue
		}
		var targets []string
		for _, f := range r.Flows {
			targets = append(targets, f.Target)
		}
		fmt.Fprintf(out, "  %-6s %s\n", r.TargetType, strings.Join(targets, ", "))
	}
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

// report prints what the metaverse holds and what this run changed, with
// the counts explained: objects read, out of scope, created and updated.
func report(ctx context.Context, out io.Writer, store metaverse.Store, runs []*idbridge.RunResult) error {
	types := map[string]int{}
	disabled := 0
	adTypes, outOfScope := map[string]int{}, map[string]int{}
	err := store.View(ctx, func(tx metaverse.Tx) error {
		after := ""
		for {
			page, err := tx.Entries(ctx, after, 500)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				types[e.Type]++
				if v, ok := e.Attrs.First("accountEnabled"); ok && !v.Bool() {
					disabled++
				}
			}
			after = page[len(page)-1].ID
		}
		after = ""
		for {
			page, err := tx.Objects(ctx, "ad", after, 500)
			if err != nil || len(page) == 0 {
				return err
			}
			for _, o := range page {
				adTypes[o.Type]++
				if o.EntryID == "" {
					outOfScope[o.Type]++
				}
			}
			after = page[len(page)-1].ID
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nthe AD connector space holds %d users and %d groups", adTypes["user"], adTypes["group"])
	if n := outOfScope["user"]; n > 0 {
		fmt.Fprintf(out, "; %d users are out of scope (OU=Service Accounts stays on-premises, rule \"In from AD - User Join\" in rules.yaml)", n)
	}
	fmt.Fprintf(out, ".\nmetaverse: %d people (%d disabled), %d groups.\n", types["person"], disabled, types["group"])
	exported, created, imported := 0, 0, 0
	for _, r := range runs {
		switch {
		case r.Profile == idbridge.FullSync || r.Profile == idbridge.DeltaSync:
			created += r.Provisions // in the cloud's connector space, by the sync of ad
		case r.Connector == "cloud" && r.Profile == idbridge.Export:
			exported += r.Exported
		case r.Connector == "ad":
			imported += r.Adds + r.Updates + r.Deletes + r.Renames
		}
	}
	if exported == 0 && imported == 0 {
		fmt.Fprintln(out, "nothing new since the last run: every object is in sync.")
		return nil
	}
	fmt.Fprintf(out, "%s exported to the cloud", plural(exported, "change"))
	if created > 0 {
		fmt.Fprintf(out, ": %d objects created", created)
		if updated := exported - created; updated > 0 {
			fmt.Fprintf(out, ", then %s (a user or group is created before the users it refers to have cloud ids; its manager and members follow once they do)", plural(updated, "update"))
		}
	}
	fmt.Fprintln(out, ". Run again: the next run finds nothing new.")
	return nil
}

// plural formats n with its noun: "1 change", "2 changes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
