// Command adsync is a ready sync daemon built only from idbridge's public
// API: a YAML configuration names the connectors (ldap for Active Directory
// and OpenLDAP, graph for Entra ID, ldif), the rule file, the store and the
// schedule; `adsync run` syncs on the schedule and on change notification,
// with /metrics, /healthz, /readyz and the admin page over HTTP, and stops
// cleanly on SIGTERM. The other subcommands are for operators: status,
// history, errors, search, preview, pending and export.
//
//	adsync run -config adsync.yaml
//	adsync status -config adsync.yaml
//	adsync export -config adsync.yaml -connector entra   # shows what is pending, asks, exports
//
// See "Running the daemon" in the repository's README for the configuration
// reference.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/admin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one kills at once.
		<-ctx.Done()
		stop()
	}()
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, terminal: isTerminal(os.Stderr)}
	err := c.run(ctx, os.Args[1:])
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "adsync:", err)
		os.Exit(1)
	}
}

// cli is the command line: its streams, and hooks for tests.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// terminal says stderr is a terminal: long runs show their progress.
	terminal bool
	// listening, when set, is told the HTTP server's address.
	listening func(net.Addr)
	// cycled, when set, is called after each cycle of run.
	cycled func(*idbridge.CycleResult, error)
}

var errUsage = errors.New("usage")

const usage = `usage: adsync <command> [flags]

commands:
  run      run the daemon: cycles on the schedule and on change notification, HTTP endpoints
  status   connectors, store counts, pending exports and the last runs
  history  the run history (-connector, -n)
  errors   objects with a sync or export error (-connector)
  search   find connector-space objects by DN, anchor or attribute value
  preview  what syncing one object would do (-connector, -anchor)
  pending  what an export would send (-connector)
  export   show what is pending, ask, and export it (-connector, -yes)

Every command takes -config FILE (default $ADSYNC_CONFIG, else adsync.yaml).
Run "adsync <command> -h" for its flags.
`

func (c *cli) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return errUsage
	}
	cmds := map[string]func(context.Context, []string) error{
		"run":     c.runDaemon,
		"status":  c.status,
		"history": c.history,
		"errors":  c.errorsCmd,
		"search":  c.search,
		"preview": c.preview,
		"pending": c.pending,
		"export":  c.export,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			fmt.Fprint(c.stdout, usage)
			return nil
		}
		fmt.Fprintf(c.stderr, "adsync: unknown command %q\n\n%s", args[0], usage)
		return errUsage
	}
	return cmd(ctx, args[1:])
}

func (c *cli) flags(name, what string) *flag.FlagSet {
	fs := flag.NewFlagSet("adsync "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: adsync %s [flags]\n\n%s\n\n", name, what)
		fs.PrintDefaults()
	}
	return fs
}

func (c *cli) configFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("ADSYNC_CONFIG")
	if def == "" {
		def = "adsync.yaml"
	}
	return fs.String("config", def, "configuration file")
}

// logger writes to stderr at the configured level and format.
func (c *cli) logger(lc LogConfig) *slog.Logger {
	var level slog.Level
	switch lc.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if lc.Format == "json" {
		return slog.New(slog.NewJSONHandler(c.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(c.stderr, opts))
}

// isTerminal reports whether f is a character device (a terminal), where
// progress lines that rewrite themselves make sense.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// adminHandler is the admin page of eng, read-only (the daemon has no
// authentication of its own to put actions behind), mounted under /admin/.
func adminHandler(eng *idbridge.Engine, logger *slog.Logger, live *admin.Live) http.Handler {
	return http.StripPrefix("/admin", admin.New(eng, admin.Options{Logger: logger, Title: "adsync", Live: live}))
}
