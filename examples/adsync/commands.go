package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// The operator commands open the configured store themselves, as the
// daemon does: with a postgres store they run next to a running daemon
// (exports are serialised by the store's export lock); a bolt file is
// locked by the daemon that has it open, so they need it stopped (the read
// commands then open it read-only); a memory store lives only inside the
// daemon, whose admin page shows the same.

// session is what a command works with.
type session struct {
	cfg      *Config
	parts    *parts
	logger   *slog.Logger
	progress func(*idbridge.Options)
}

// open loads the configuration and opens the store (read-only when the
// command only reads) and the connectors, which connect only when used.
func (c *cli) open(ctx context.Context, fs *flag.FlagSet, args []string, readOnly bool) (*session, error) {
	configPath := c.configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 && fs.Name() != "adsync search" {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	cfg, err := LoadConfig(*configPath)
	if err != nil {
		return nil, err
	}
	if cfg.Store.Type == "memory" {
		return nil, errors.New("the store is in memory: it lives only inside the daemon; see its admin page, or configure a bolt or postgres store")
	}
	logger := c.logger(LogConfig{Level: "warn", Format: cfg.Log.Format})
	p, err := build(ctx, cfg, logger, readOnly)
	if err != nil {
		if cfg.Store.Type == "bolt" && strings.Contains(err.Error(), "timeout") {
			err = fmt.Errorf("%w (is the daemon running? a bolt store is locked by the process that has it open)", err)
		}
		return nil, err
	}
	return &session{cfg: cfg, parts: p, logger: logger, progress: c.withProgress}, nil
}

// engine builds an engine on the session's store. It reads each
// connector's schema, and so connects to the connected systems.
func (s *session) engine(ctx context.Context, staging bool) (*idbridge.Engine, error) {
	opts := engineOptions(s.cfg.Engine, s.logger)
	opts.Staging = staging
	s.progress(&opts)
	return idbridge.New(ctx, idbridge.Config{Store: s.parts.store, Connectors: s.parts.connectors, Rules: s.parts.rules, Options: opts})
}

// connectorNames returns name, or every connector when it is empty; an
// unknown name is an error.
func (s *session) connectorNames(name string) ([]string, error) {
	if name == "" {
		return slices.Sorted(maps.Keys(s.parts.connectors)), nil
	}
	if _, ok := s.parts.connectors[name]; !ok {
		return nil, fmt.Errorf("%w: %q (have %s)", idbridge.ErrUnknownConnector, name, strings.Join(slices.Sorted(maps.Keys(s.parts.connectors)), ", "))
	}
	return []string{name}, nil
}

func (c *cli) writeJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// connectorStatus is one line of status.
type connectorStatus struct {
	Name           string               `json:"name"`
	Objects        int                  `json:"objects"`
	PendingImports int                  `json:"pendingImports"`
	PendingExports int                  `json:"pendingExports"`
	LastRun        *metaverse.RunRecord `json:"lastRun,omitempty"`
}

type statusReport struct {
	Staging    bool              `json:"staging"`
	Store      string            `json:"store"`
	Entries    map[string]int    `json:"entries,omitempty"`
	Connectors []connectorStatus `json:"connectors"`
}

func (c *cli) status(ctx context.Context, args []string) error {
	fs := c.flags("status", "connectors, store counts, pending exports and the last run of each connector")
	asJSON := fs.Bool("json", false, "write JSON")
	s, err := c.open(ctx, fs, args, true)
	if err != nil {
		return err
	}
	defer s.parts.Close()
	rep := statusReport{Staging: s.cfg.Engine.Staging, Store: s.cfg.Store.Type}
	stats := metaverse.NewStats()
	if st, ok := s.parts.store.(metaverse.Statser); ok {
		if stats, err = st.Stats(ctx); err != nil {
			return err
		}
	}
	rep.Entries = stats.Entries
	names, _ := s.connectorNames("")
	err = s.parts.store.View(ctx, func(tx metaverse.Tx) error {
		for _, name := range names {
			cs := connectorStatus{Name: name, Objects: stats.Objects[name], PendingImports: stats.PendingImports[name], PendingExports: stats.PendingExports[name]}
			runs, err := tx.Runs(ctx, name, 1)
			if err != nil {
				return err
			}
			if len(runs) > 0 {
				cs.LastRun = runs[0]
			}
			rep.Connectors = append(rep.Connectors, cs)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return c.writeJSON(rep)
	}
	mode := "active"
	if rep.Staging {
		mode = "staging (exports held back: see adsync pending, adsync export)"
	}
	fmt.Fprintf(c.stdout, "mode: %s\nstore: %s\n", mode, rep.Store)
	for _, t := range slices.Sorted(maps.Keys(rep.Entries)) {
		fmt.Fprintf(c.stdout, "metaverse %s: %d\n", t, rep.Entries[t])
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCONNECTOR\tOBJECTS\tPENDING IMPORTS\tPENDING EXPORTS\tLAST RUN")
	for _, cs := range rep.Connectors {
		last := "never"
		if r := cs.LastRun; r != nil {
			last = fmt.Sprintf("%s %s %s", r.Profile, r.Ended.Local().Format(time.DateTime), outcome(r))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", cs.Name, cs.Objects, cs.PendingImports, cs.PendingExports, last)
	}
	return tw.Flush()
}

func outcome(r *metaverse.RunRecord) string {
	switch {
	case r.Err != "":
		return "failed: " + r.Err
	case len(r.Errors) > 0:
		return fmt.Sprintf("completed with %d object errors", len(r.Errors))
	}
	return "success"
}

func (c *cli) history(ctx context.Context, args []string) error {
	fs := c.flags("history", "the run history, newest first (Engine.History)")
	name := fs.String("connector", "", "only this connector's runs")
	outcomeFlag := fs.String("outcome", "", "only runs that ended so: success, completed-errors, failed, cancelled")
	n := fs.Int("n", 20, "how many runs (at most 1000)")
	asJSON := fs.Bool("json", false, "write JSON")
	s, err := c.open(ctx, fs, args, false)
	if err != nil {
		return err
	}
	defer s.parts.Close()
	if *name != "" {
		if _, err := s.connectorNames(*name); err != nil {
			return err
		}
	}
	eng, err := s.engine(ctx, true)
	if err != nil {
		return err
	}
	defer eng.Close()
	page, err := eng.History(ctx, idbridge.HistoryQuery{Connector: *name, Outcome: idbridge.Outcome(*outcomeFlag), Limit: *n})
	if err != nil {
		return err
	}
	if *asJSON {
		return c.writeJSON(page.Runs)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tCONNECTOR\tPROFILE\tSECONDS\tOUTCOME\tCOUNTS\tERROR")
	for _, r := range page.Runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.3f\t%s\t%s\t%s\n", r.Started.Local().Format(time.DateTime), r.Connector, r.Profile,
			r.Seconds, r.Outcome, counts(r.Counts), r.Err)
	}
	return tw.Flush()
}

// counts formats the non-zero counts in name order.
func counts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
		}
	}
	return strings.Join(parts, " ")
}

const pageSize = 500

func (c *cli) errorsCmd(ctx context.Context, args []string) error {
	fs := c.flags("errors", "objects in error now: import and sync errors, failed and parked exports (Engine.ObjectErrors)")
	name := fs.String("connector", "", "only this connector")
	asJSON := fs.Bool("json", false, "write JSON")
	s, err := c.open(ctx, fs, args, false)
	if err != nil {
		return err
	}
	defer s.parts.Close()
	if _, err := s.connectorNames(*name); err != nil {
		return err
	}
	eng, err := s.engine(ctx, true)
	if err != nil {
		return err
	}
	defer eng.Close()
	var out []idbridge.CurrentError
	for q := (idbridge.ErrorQuery{Connector: *name, Limit: 1000}); ; {
		page, err := eng.ObjectErrors(ctx, q)
		if err != nil {
			return err
		}
		out = append(out, page.Errors...)
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	if *asJSON {
		return c.writeJSON(out)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONNECTOR\tDN\tSTEP\tERROR")
	for _, e := range out {
		step := e.Step
		if e.Parked {
			step += " (parked)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Connector, e.DN, step, e.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%d errors\n", len(out))
	return nil
}

// eachObject pages through the connector spaces of names, one read
// transaction per page, until fn returns false.
func eachObject(ctx context.Context, store metaverse.Store, names []string, fn func(*metaverse.CSObject) bool) error {
	for _, name := range names {
		after := ""
		for {
			var page []*metaverse.CSObject
			err := store.View(ctx, func(tx metaverse.Tx) error {
				var err error
				page, err = tx.Objects(ctx, name, after, pageSize)
				return err
			})
			if err != nil {
				return err
			}
			for _, o := range page {
				if !fn(o) {
					return nil
				}
			}
			if len(page) < pageSize {
				break
			}
			after = page[len(page)-1].ID
		}
	}
	return nil
}

// searchHit is one object search found.
type searchHit struct {
	Connector string           `json:"connector"`
	ObjectID  string           `json:"objectID"`
	Anchor    connector.Anchor `json:"anchor,omitempty"`
	DN        string           `json:"dn"`
	Type      string           `json:"type"`
	EntryID   string           `json:"entryID,omitempty"`
	Match     string           `json:"match"` // anchor, dn or the attribute's name
}

func (c *cli) search(ctx context.Context, args []string) error {
	fs := c.flags("search", "find connector-space objects whose anchor is TEXT, or whose DN or an attribute value contains it (case-insensitive):\n  adsync search [flags] TEXT")
	name := fs.String("connector", "", "only this connector")
	limit := fs.Int("n", 50, "most objects listed")
	asJSON := fs.Bool("json", false, "write JSON")
	s, err := c.open(ctx, fs, args, true)
	if err != nil {
		return err
	}
	defer s.parts.Close()
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	q := strings.ToLower(fs.Arg(0))
	names, err := s.connectorNames(*name)
	if err != nil {
		return err
	}
	var hits []searchHit
	err = eachObject(ctx, s.parts.store, names, func(o *metaverse.CSObject) bool {
		if m := match(o, q); m != "" {
			hits = append(hits, searchHit{Connector: o.Connector, ObjectID: o.ID, Anchor: o.Anchor, DN: o.DN, Type: o.Type, EntryID: o.EntryID, Match: m})
		}
		return len(hits) < *limit
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return c.writeJSON(hits)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONNECTOR\tTYPE\tANCHOR\tDN\tMATCH")
	for _, h := range hits {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.Connector, h.Type, h.Anchor, h.DN, h.Match)
	}
	return tw.Flush()
}

// match says where q (lower case) is found in o: "anchor", "dn" or an
// attribute's name; "" when it is not.
func match(o *metaverse.CSObject, q string) string {
	switch {
	case strings.EqualFold(string(o.Anchor), q):
		return "anchor"
	case strings.Contains(strings.ToLower(o.DN), q):
		return "dn"
	}
	for _, name := range slices.Sorted(maps.Keys(o.Attrs)) {
		for _, v := range o.Attrs[name] {
			if strings.Contains(strings.ToLower(fmt.Sprint(v)), q) {
				return name
			}
		}
	}
	return ""
}

func (c *cli) preview(ctx context.Context, args []string) error {
	fs := c.flags("preview", "what syncing one object would do, without changing anything (the object's pending import, or a full re-evaluation)")
	name := fs.String("connector", "", "the object's connector (required)")
	anchor := fs.String("anchor", "", "the object's anchor (required; adsync search finds it)")
	asJSON := fs.Bool("json", false, "write JSON")
	s, err := c.open(ctx, fs, args, false)
	if err != nil {
		return err
	}
	defer s.parts.Close()
	if *name == "" || *anchor == "" {
		fs.Usage()
		return errUsage
	}
	eng, err := s.engine(ctx, true)
	if err != nil {
		return err
	}
	defer eng.Close()
	pv, err := eng.Preview(ctx, *name, connector.Anchor(*anchor))
	if err != nil {
		return err
	}
	if *asJSON {
		return c.writeJSON(previewJSON(pv))
	}
	w := c.stdout
	fmt.Fprintf(w, "object: %s (%s)\n", pv.Object.DN, pv.Object.Type)
	if pv.Err != nil {
		fmt.Fprintf(w, "sync would fail: %v\n", pv.Err)
	}
	fmt.Fprintf(w, "sync: %s\n", strings.TrimLeft(pv.Counts.String(), " :"))
	if pv.After != nil {
		fmt.Fprintf(w, "metaverse entry %s (%s):\n", pv.After.ID, pv.After.Type)
		for _, attr := range slices.Sorted(maps.Keys(pv.After.Attrs)) {
			mark := " "
			var before []connector.Value
			if pv.Before != nil {
				before = pv.Before.Attrs[attr]
			}
			if fmt.Sprint(before) != fmt.Sprint(pv.After.Attrs[attr]) {
				mark = "*"
			}
			src := pv.After.Sources[attr]
			fmt.Fprintf(w, " %s %s: %v  (from %s, rule %q)\n", mark, attr, pv.After.Attrs[attr], src.Connector, src.Rule)
		}
	}
	for _, x := range pv.Exports {
		printExport(w, x)
	}
	return nil
}

func previewJSON(pv *idbridge.Preview) map[string]any {
	m := map[string]any{"object": pv.Object, "before": pv.Before, "after": pv.After, "exports": pendingJSON(pv.Exports), "counts": pv.Counts}
	if pv.Err != nil {
		m["error"] = pv.Err.Error()
	}
	return m
}

// pendingExport is PendingExport for JSON output.
type pendingExport struct {
	Connector string               `json:"connector"`
	ObjectID  string               `json:"objectID"`
	State     string               `json:"state"`
	Kind      string               `json:"kind"`
	DN        string               `json:"dn"`
	Attrs     connector.Attributes `json:"attrs,omitempty"`
	Mods      []connector.Mod      `json:"mods,omitempty"`
	Attempts  int                  `json:"attempts,omitempty"`
	LastError string               `json:"lastError,omitempty"`
}

func pendingJSON(xs []idbridge.PendingExport) []pendingExport {
	out := make([]pendingExport, 0, len(xs))
	for _, x := range xs {
		out = append(out, pendingExport{Connector: x.Connector, ObjectID: x.ObjectID, State: fmt.Sprint(x.State), Kind: fmt.Sprint(x.Change.Kind),
			DN: x.Change.DN, Attrs: x.Change.Attrs, Mods: x.Change.Mods, Attempts: x.Attempts, LastError: x.LastError})
	}
	return out
}

func printExport(w io.Writer, x idbridge.PendingExport) {
	fmt.Fprintf(w, "%s %s %s [%v]\n", x.Connector, x.Change.Kind, x.Change.DN, x.State)
	for _, name := range slices.Sorted(maps.Keys(x.Change.Attrs)) {
		fmt.Fprintf(w, "    %s: %v\n", name, x.Change.Attrs[name])
	}
	for _, m := range x.Change.Mods {
		fmt.Fprintf(w, "    %v\n", m)
	}
	if x.LastError != "" {
		fmt.Fprintf(w, "    last error (%d attempts): %s\n", x.Attempts, x.LastError)
	}
}

// summary counts pending exports by kind.
func summary(xs []idbridge.PendingExport) string {
	n := map[string]int{}
	for _, x := range xs {
		n[strings.ToLower(fmt.Sprint(x.Change.Kind))]++
	}
	return counts(n)
}

func (c *cli) pending(ctx context.Context, args []string) error {
	fs := c.flags("pending", "what an export would send now (staging mode holds it back), by connector")
	name := fs.String("connector", "", "only this connector")
	limit := fs.Int("n", 0, "most exports listed per connector (0: all)")
	asJSON := fs.Bool("json", false, "write JSON")
	s, err := c.open(ctx, fs, args, false)
	if err != nil {
		return err
	}
	defer s.parts.Close()
	names, err := s.connectorNames(*name)
	if err != nil {
		return err
	}
	eng, err := s.engine(ctx, true)
	if err != nil {
		return err
	}
	defer eng.Close()
	var all []idbridge.PendingExport
	for _, n := range names {
		xs, err := eng.PendingExports(ctx, n, *limit)
		if err != nil {
			return err
		}
		all = append(all, xs...)
	}
	if *asJSON {
		return c.writeJSON(pendingJSON(all))
	}
	for _, x := range all {
		printExport(c.stdout, x)
	}
	fmt.Fprintf(c.stdout, "%d pending exports %s\n", len(all), summary(all))
	return nil
}

// export is Entra Connect's staging → confirm: it lists what is pending,
// asks (unless -yes), and runs the Export profile of each connector with
// an engine out of staging mode.
func (c *cli) export(ctx context.Context, args []string) error {
	fs := c.flags("export", "show what is pending, ask for confirmation, and export it (also from a daemon in staging mode)")
	name := fs.String("connector", "", "only this connector (default: every connector with pending exports)")
	yes := fs.Bool("yes", false, "do not ask")
	s, err := c.open(ctx, fs, args, false)
	if err != nil {
		return err
	}
	defer s.parts.Close()
	names, err := s.connectorNames(*name)
	if err != nil {
		return err
	}
	eng, err := s.engine(ctx, false)
	if err != nil {
		return err
	}
	defer eng.Close()
	todo := map[string][]idbridge.PendingExport{}
	for _, n := range names {
		xs, err := eng.PendingExports(ctx, n, 0)
		if err != nil {
			return err
		}
		if len(xs) > 0 {
			todo[n] = xs
		}
	}
	if len(todo) == 0 {
		fmt.Fprintln(c.stdout, "nothing to export")
		return nil
	}
	for _, n := range slices.Sorted(maps.Keys(todo)) {
		for _, x := range todo[n] {
			printExport(c.stdout, x)
		}
		fmt.Fprintf(c.stdout, "%s: %d pending exports %s\n", n, len(todo[n]), summary(todo[n]))
	}
	if !*yes {
		fmt.Fprint(c.stdout, "export these changes? [y/N] ")
		line, _ := bufio.NewReader(c.stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(c.stdout, "nothing exported")
			return nil
		}
	}
	var errs []error
	for _, n := range slices.Sorted(maps.Keys(todo)) {
		r, err := eng.Export(ctx, n)
		if r != nil {
			fmt.Fprintln(c.stdout, r)
			for _, oe := range r.Errors {
				fmt.Fprintf(c.stdout, "  %s: %v\n", oe.DN, oe.Err)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("export %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}
