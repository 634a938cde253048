// Command multiforest syncs two Active Directory forests into one cloud
// tenant: Fabrikam, the account forest, and Contoso, an acquired forest
// where some of the same people have a second account. Both are LDIF
// exports read by the LDIF connector; the cloud is the in-process Graph
// emulator (graphsync/graphtest) reached through the real Graph connector.
//
//	go run ./examples/multiforest
//
// The rules (rules.yaml) join a person's accounts by mail and let
// precedence decide each attribute: Contoso's job title and phone number
// win over Fabrikam's, Fabrikam's identity (UPN, names, department, source
// anchor) wins over Contoso's, and a person found only in Contoso is
// projected from Contoso. The program runs one initial cycle, Fabrikam
// first (Options.CycleOrder), prints each cloud user with the forest that
// gave each attribute, and then asks the engine what raising Contoso's
// identity rule above Fabrikam's would change (Engine.WhatIf, which
// writes nothing).
package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldif"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

var (
	//go:embed fabrikam.ldif
	fabrikamLDIF []byte
	//go:embed contoso.ldif
	contosoLDIF []byte
	//go:embed rules.yaml
	ruleFile []byte
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "multiforest:", err)
		os.Exit(1)
	}
}

// forest is an AD forest read from an LDIF export.
func forest(data []byte) (*ldif.Connector, error) {
	return ldif.New(ldif.Config{
		Open:   func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		Anchor: "objectGUID",
		Schema: ldif.ActiveDirectorySchema(),
		Types:  []ldif.TypeMap{{Type: "user", ObjectClasses: []string{"user"}}},
	})
}

func run(ctx context.Context, out io.Writer) error {
	fabrikam, err := forest(fabrikamLDIF)
	if err != nil {
		return err
	}
	contoso, err := forest(contosoLDIF)
	if err != nil {
		return err
	}
	tenant := graphtest.NewServer(graphtest.Options{Token: "multiforest", Domains: []string{"contoso.com"}, InitialDomain: "contoso.onmicrosoft.com"})
	defer tenant.Close()
	cloud, err := graphsync.New(graphsync.Config{
		BaseURL:     tenant.URL() + "/v1.0",
		Credential:  graphsync.StaticToken("multiforest"),
		HTTPClient:  tenant.Client(),
		Types:       []string{graphsync.TypeUser},
		WriteBudget: graphsync.Unlimited,
	})
	if err != nil {
		return err
	}
	rf, err := rules.Parse("rules.yaml", ruleFile)
	if err != nil {
		return err
	}
	store := memstore.New()
	defer store.Close()
	eng, err := idbridge.New(ctx, idbridge.Config{
		Store:      store,
		Connectors: map[string]connector.Connector{"fabrikam": fabrikam, "contoso": contoso, "cloud": cloud},
		Rules:      rf,
		// The account forest first: it projects the people, and
		// Contoso's accounts join them by mail.
		Options: idbridge.Options{CycleOrder: []string{"fabrikam", "contoso", "cloud"}},
	})
	if err != nil {
		return err
	}
	cr, err := eng.Cycle(ctx, idbridge.Initial)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "initial cycle, in the order %s:\n", strings.Join(eng.CycleOrder(), ", "))
	for _, r := range cr.Runs {
		fmt.Fprintf(out, "  %s\n", r)
		for _, e := range r.Errors {
			fmt.Fprintf(out, "    ! %v\n", e)
		}
	}
	if err := printPeople(ctx, out, store, tenant); err != nil {
		return err
	}
	return whatIf(ctx, out, eng)
}

// whatIf shows, without applying it, what raising Contoso's identity rule
// above Fabrikam's would change in the cloud.
func whatIf(ctx context.Context, out io.Writer, eng *idbridge.Engine) error {
	rf, err := rules.Parse("rules.yaml", ruleFile)
	if err != nil {
		return err
	}
	for i := range rf.Rules {
		if rf.Rules[i].Name == "In from Contoso - User" {
			rf.Rules[i].Precedence = 90
		}
	}
	rep, err := eng.WhatIf(ctx, rf, idbridge.WhatIfOptions{Samples: -1})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nwhat if Contoso's identity rule took precedence 90, above Fabrikam's:\n")
	for _, c := range rep.Connectors {
		var attrs []string
		for _, a := range slices.Sorted(maps.Keys(c.Attributes)) {
			attrs = append(attrs, fmt.Sprintf("%s %d", a, c.Attributes[a]))
		}
		fmt.Fprintf(out, "  %s %s: %d updates (%s)\n", c.Connector, c.Type, c.Updates, strings.Join(attrs, ", "))
	}
	return nil
}

// printPeople prints each cloud user, and for the attributes both forests
// hold, which forest's value won.
func printPeople(ctx context.Context, out io.Writer, store metaverse.Store, tenant *graphtest.Server) error {
	sources := map[string]map[string]metaverse.Source{} // immutableId → attribute → source
	err := store.View(ctx, func(tx metaverse.Tx) error {
		page, err := tx.Entries(ctx, "", 1000)
		for _, e := range page {
			if v, ok := e.Attrs.First("sourceAnchor"); ok {
				sources[v.Str()] = e.Sources
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	users := tenant.Users()
	slices.SortFunc(users, func(a, b map[string]any) int {
		return strings.Compare(fmt.Sprint(a["userPrincipalName"]), fmt.Sprint(b["userPrincipalName"]))
	})
	fmt.Fprintf(out, "\nthe cloud holds %d users:\n", len(users))
	for _, u := range users {
		src := sources[fmt.Sprint(u["onPremisesImmutableId"])]
		from := func(attr string) string { return src[attr].Connector }
		fmt.Fprintf(out, "  %s\n", u["userPrincipalName"])
		fmt.Fprintf(out, "    %-12s %-22v (%s)\n", "department", u["department"], from("department"))
		fmt.Fprintf(out, "    %-12s %-22v (%s)\n", "jobTitle", u["jobTitle"], from("title"))
		fmt.Fprintf(out, "    %-12s %-22v (%s)\n", "phone", phone(u["businessPhones"]), from("telephoneNumber"))
	}
	return nil
}

func phone(v any) any {
	if ps, ok := v.([]any); ok && len(ps) > 0 {
		return ps[0]
	}
	return v
}
