//go:build unix

package crashtest

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/boltstore"
	"github.com/idbridge/idbridge/metaverse/pgstore"
	"github.com/idbridge/idbridge/rules"
)

// The child process is this test binary run again with childEnv set: it
// runs delta cycles until one finds nothing to do, and kills itself at the
// killEnv-th hook event.
const (
	childEnv   = "IDBRIDGE_CRASH_CHILD"   // the work directory (journals)
	backendEnv = "IDBRIDGE_CRASH_BACKEND" // "boltstore" or "pgstore"
	locEnv     = "IDBRIDGE_CRASH_STORE"   // bolt file or PostgreSQL schema
	killEnv    = "IDBRIDGE_CRASH_KILL"    // 1-based hook event to die at; 0 or unset: none
	traceEnv   = "IDBRIDGE_CRASH_TRACE"   // file to write every hook event to
	dsnEnv     = "IDBRIDGE_PG_DSN"

	maxCycles = 6
	// Exit codes of the child besides 0.
	exitFailed   = 2 // a cycle failed or reported object errors
	exitNotQuiet = 3 // cycles kept finding work
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(child(dir))
	}
	os.Exit(m.Run())
}

var (
	srcSchema = &connector.Schema{Types: []connector.ObjectType{
		{Name: "user", Attributes: []connector.Attribute{str("uid"), str("cn"), str("mail"), str("title"), {Name: "manager", Type: connector.Reference}}},
		{Name: "group", Attributes: []connector.Attribute{str("cn"), {Name: "member", Type: connector.Reference, Multi: true}}},
	}}
	tgtSchema = &connector.Schema{Types: []connector.ObjectType{
		{Name: "user", Attributes: []connector.Attribute{str("displayName"), str("mail"), str("title"), str("uid"), str("immutableId"), {Name: "manager", Type: connector.Reference}}},
		{Name: "group", Attributes: []connector.Attribute{str("displayName"), str("immutableId"), {Name: "members", Type: connector.Reference, Multi: true}}},
	}}
)

func str(name string) connector.Attribute {
	return connector.Attribute{Name: name, Type: connector.String}
}

func openSrc(dir string) (*Dir, error) {
	d, err := OpenDir(filepath.Join(dir, "src.journal"), "src", "s-", srcSchema)
	if err != nil {
		return nil, err
	}
	d.CheckpointEvery = 4
	return d, nil
}

func openTgt(dir string) (*Dir, error) {
	d, err := OpenDir(filepath.Join(dir, "tgt.journal"), "tgt", "t-", tgtSchema)
	if err != nil {
		return nil, err
	}
	d.CheckpointEvery = 25
	return d, nil
}

func openStore(ctx context.Context, backend, loc string) (metaverse.Store, error) {
	switch backend {
	case "boltstore":
		return boltstore.Open(loc, nil)
	case "pgstore":
		return pgstore.Open(ctx, os.Getenv(dsnEnv), &pgstore.Options{Schema: loc, ApplicationName: loc, MaxConns: 2})
	}
	return nil, fmt.Errorf("unknown backend %q", backend)
}

// child runs the cycles and returns the exit code.
func child(dir string) int {
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "crash child: "+format+"\n", args...)
		return code
	}
	ctx := context.Background()
	k := &killer{}
	if s := os.Getenv(killEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return fail(exitFailed, "%s: %v", killEnv, err)
		}
		k.kill = n
	}
	if p := os.Getenv(traceEnv); p != "" {
		f, err := os.Create(p)
		if err != nil {
			return fail(exitFailed, "%v", err)
		}
		defer f.Close()
		k.trace = bufio.NewWriter(f)
		defer k.trace.Flush()
	}
	src, err := openSrc(dir)
	if err != nil {
		return fail(exitFailed, "%v", err)
	}
	defer src.Close()
	src.Hook = k.hit
	var tgt connector.Connector
	rulesFile := "testdata/rules.yaml"
	if url := os.Getenv(graphEnv); url != "" {
		tgt, err = openGraph(url, os.Getenv(graphCAEnv), k.hit)
		rulesFile = "testdata/rules-graph.yaml"
	} else {
		var d *Dir
		d, err = openTgt(dir)
		if d != nil {
			d.Hook = k.hit
			tgt = d
		}
	}
	if err != nil {
		return fail(exitFailed, "%v", err)
	}
	defer tgt.Close()
	store, err := openStore(ctx, os.Getenv(backendEnv), os.Getenv(locEnv))
	if err != nil {
		return fail(exitFailed, "%v", err)
	}
	defer store.Close()
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		return fail(exitFailed, "%v", err)
	}
	rf, err := rules.Parse(rulesFile, data)
	if err != nil {
		return fail(exitFailed, "%v", err)
	}
	eng, err := idbridge.New(ctx, idbridge.Config{
		Store:      &hookStore{Store: store, hook: k.hit},
		Connectors: map[string]connector.Connector{"src": src, "tgt": tgt},
		Rules:      rf,
		// Small batches, so that kill points fall inside them.
		Options: idbridge.Options{BatchSize: 8, ExportBatchSize: 6, Logger: slog.New(k)},
	})
	if err != nil {
		return fail(exitFailed, "%v", err)
	}
	for c := 1; c <= maxCycles; c++ {
		k.startCycle(c)
		cr, err := eng.Cycle(ctx, idbridge.Delta)
		if err != nil {
			return fail(exitFailed, "cycle %d: %v", c, err)
		}
		if errs := cr.Errors(); len(errs) > 0 {
			return fail(exitFailed, "cycle %d: %d object errors, the first: %v", c, len(errs), errs[0])
		}
		quiet := true
		for _, r := range cr.Runs {
			quiet = quiet && strings.HasSuffix(r.String(), ": no changes")
		}
		if quiet {
			return 0
		}
	}
	return fail(exitNotQuiet, "%d cycles and still not in sync", maxCycles)
}

// cycleRuns names the runs of a delta cycle over src and tgt, in order
// (src has no outbound rules, so it never has an export).
var cycleRuns = []string{"import src", "import tgt", "sync src", "sync tgt", "export tgt"}

// killer counts hook events, writes them to the trace and kills the
// process at the chosen one. It is also the engine's slog.Handler: the
// "idbridge: run" record that ends each run profile moves it to the next
// phase of the cycle, and is itself an event ("run.recorded").
type killer struct {
	mu    sync.Mutex
	n     int
	kill  int
	trace *bufio.Writer
	cycle int
	runs  int
}

func (k *killer) startCycle(c int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cycle, k.runs = c, 0
}

func (k *killer) phase() string {
	run := "after"
	if k.runs < len(cycleRuns) {
		run = cycleRuns[k.runs]
	}
	return fmt.Sprintf("c%d/%s", k.cycle, run)
}

func (k *killer) hit(event string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.hitLocked(event)
}

func (k *killer) hitLocked(event string) {
	k.n++
	if k.trace != nil {
		fmt.Fprintf(k.trace, "%d %s@%s\n", k.n, event, k.phase())
	}
	if k.n == k.kill {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL cannot be caught: this never returns
	}
}

func (k *killer) Enabled(context.Context, slog.Level) bool { return true }
func (k *killer) WithAttrs([]slog.Attr) slog.Handler       { return k }
func (k *killer) WithGroup(string) slog.Handler            { return k }

func (k *killer) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "idbridge: run" {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.hitLocked("run.recorded")
	k.runs++
	return nil
}

// hookStore calls hook in each write transaction once its function has
// run, before the commit ("store.fn": killed there, the transaction is
// lost), and after each commit ("store.commit").
type hookStore struct {
	metaverse.Store
	hook func(event string)
}

func (s *hookStore) Update(ctx context.Context, fn func(tx metaverse.Tx) error) error {
	err := s.Store.Update(ctx, func(tx metaverse.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		s.hook("store.fn")
		return nil
	})
	if err == nil {
		s.hook("store.commit")
	}
	return err
}
