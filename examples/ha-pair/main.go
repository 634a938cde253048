// Command ha-pair runs one node of an active/standby pair: start it twice
// on one PostgreSQL, and the two processes elect a leader (ha/pgelector),
// which syncs an LDIF source to a directory of JSON files through one
// shared pgstore, while the other waits. Kill the leader (Ctrl-C, or kill
// -9) and the other takes over within the lease TTL.
//
//	go run ./examples/ha-pair -dsn postgres://… -node a   # terminal 1
//	go run ./examples/ha-pair -dsn postgres://… -node b   # terminal 2
//
// The source is DIR/source.ldif (a sample is written when missing: edit
// it to see changes flow), the target DIR/target/*.json.
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
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldif"
	"github.com/idbridge/idbridge/ha"
	"github.com/idbridge/idbridge/ha/pgelector"
	"github.com/idbridge/idbridge/metaverse/pgstore"
	"github.com/idbridge/idbridge/rules"
)

//go:embed rules.yaml
var ruleFile []byte

//go:embed source.ldif
var sampleSource []byte

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "ha-pair:", err)
		os.Exit(1)
	}
}

var (
	sourceSchema = &connector.Schema{Types: []connector.ObjectType{{Name: "user", Attributes: []connector.Attribute{
		{Name: "uid", Type: connector.String}, {Name: "cn", Type: connector.String},
		{Name: "mail", Type: connector.String}, {Name: "title", Type: connector.String},
	}}}}
	targetSchema = &connector.Schema{Types: []connector.ObjectType{{Name: "user", Attributes: []connector.Attribute{
		{Name: "displayName", Type: connector.String}, {Name: "mail", Type: connector.String}, {Name: "title", Type: connector.String},
	}}}}
)

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("ha-pair", flag.ContinueOnError)
	dsn := fs.String("dsn", os.Getenv("IDBRIDGE_PG_DSN"), "PostgreSQL DSN (default $IDBRIDGE_PG_DSN)")
	schema := fs.String("schema", "idbridge_ha_pair", "PostgreSQL schema of the store and the leases")
	dir := fs.String("dir", filepath.Join(os.TempDir(), "idbridge-ha-pair"), "directory of the source and the target")
	host, _ := os.Hostname()
	node := fs.String("node", fmt.Sprintf("%s-%d", host, os.Getpid()), "this node's name")
	ttl := fs.Duration("ttl", ha.DefaultTTL, "lease time to live")
	interval := fs.Duration("interval", 5*time.Second, "time between sync cycles")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dsn == "" {
		return errors.New("give -dsn or set IDBRIDGE_PG_DSN")
	}
	targetDir := filepath.Join(*dir, "target")
	if err := os.MkdirAll(targetDir, 0o755); err != nil {
		return err
	}
	source := filepath.Join(*dir, "source.ldif")
	if _, err := os.Stat(source); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(source, sampleSource, 0o644); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	store, err := pgstore.Open(ctx, *dsn, &pgstore.Options{Schema: *schema, ApplicationName: "ha-pair " + *node})
	if err != nil {
		return err
	}
	defer store.Close()
	elector, err := pgelector.Open(ctx, *dsn, &pgelector.Options{Schema: *schema, TTL: *ttl, Holder: *node, Logger: log})
	if err != nil {
		return err
	}
	defer elector.Close()
	src, err := ldif.New(ldif.Config{Path: source, Schema: sourceSchema, Anchor: "uid",
		Types: []ldif.TypeMap{{Type: "user", ObjectClasses: []string{"inetOrgPerson"}}}})
	if err != nil {
		return err
	}
	defer src.Close()
	rf, err := rules.Parse("rules.yaml", ruleFile)
	if err != nil {
		return err
	}
	runner, err := ha.NewRunner(ha.RunnerConfig{
		Elector: elector,
		Key:     "ha-pair",
		Engine: idbridge.Config{Store: store, Rules: rf, Options: idbridge.Options{Logger: log},
			Connectors: map[string]connector.Connector{"source": src, "target": &fileTarget{dir: targetDir, schema: targetSchema}}},
		Schedule: idbridge.Schedule{Interval: *interval, OnCycle: func(cr *idbridge.CycleResult, err error) {
			if err != nil {
				fmt.Fprintf(out, "%s  cycle failed: %v\n", *node, err)
				return
			}
			for _, r := range cr.Runs {
				if r.Profile == idbridge.Export && r.Exported > 0 {
					fmt.Fprintf(out, "%s  exported %d changes to %s\n", *node, r.Exported, targetDir)
				}
			}
		}},
		Logger: log,
		OnLead: func(l ha.Lease) {
			fmt.Fprintf(out, "%s  leads (term %d); the other node waits\n", *node, l.Term())
		},
		OnLoss: func(l ha.Lease, err error) {
			fmt.Fprintf(out, "%s  no longer leads (term %d): %v\n", *node, l.Term(), err)
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s  started; campaigning (TTL %v)\n", *node, *ttl)
	return runner.Run(ctx)
}
