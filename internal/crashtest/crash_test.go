//go:build unix

package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/internal/testenv"
	"github.com/idbridge/idbridge/metaverse/pgstore"
)

// backend is a persistent store under test.
type backend struct {
	name string
	// newLoc returns the location of a new, empty store (removed after
	// the test).
	newLoc func(t *testing.T) string
	// clone copies the store at from to a new location.
	clone func(t *testing.T, from string) string
	// env is added to the child's environment.
	env []string
}

// withParam adds a run-time parameter to a PostgreSQL URL. The test kills
// the client, not the server: a commit the server acknowledged is kept
// whether or not it waited for its WAL flush (synchronous_commit off),
// and not waiting makes the runs several times faster.
func withParam(dsn, name, value string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + name + "=" + value
}

func boltBackend(*testing.T) *backend {
	b := &backend{name: "boltstore"}
	b.newLoc = func(t *testing.T) string { return filepath.Join(t.TempDir(), "idbridge.db") }
	b.clone = func(t *testing.T, from string) string {
		to := b.newLoc(t)
		copyFile(t, from, to)
		return to
	}
	return b
}

func pgBackend(t *testing.T) *backend {
	dsn := testenv.Get(t, dsnEnv, "PostgreSQL")
	b := &backend{name: "pgstore", env: []string{dsnEnv + "=" + withParam(dsn, "synchronous_commit", "off")}}
	// Each store is a fresh schema, dropped after the test.
	b.newLoc = func(t *testing.T) string {
		return testenv.PGSchema(t, dsn, "crash_")
	}
	b.clone = func(t *testing.T, from string) string {
		ctx := context.Background()
		to := b.newLoc(t)
		src, err := pgstore.Open(ctx, dsn, &pgstore.Options{Schema: from})
		require.NoError(t, err)
		defer src.Close()
		var buf bytes.Buffer
		require.NoError(t, src.Backup(ctx, &buf))
		dst, err := pgstore.Open(ctx, dsn, &pgstore.Options{Schema: to})
		require.NoError(t, err)
		defer dst.Close()
		require.NoError(t, dst.Restore(ctx, &buf))
		return to
	}
	return b
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.Create(to)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}

// killPoint names a hook event of a clean run by its label
// ("event@cycle/run") and its position among the events of that label: at
// 0 is the first, 1 the last; nth, when set, is the nth (1-based).
type killPoint struct {
	label string
	at    float64
	nth   int
}

func (k killPoint) String() string {
	if k.nth > 0 {
		return fmt.Sprintf("%s#%d", k.label, k.nth)
	}
	return fmt.Sprintf("%s@%.0f%%", k.label, k.at*100)
}

// resolve returns the 1-based index of the kill point's event in a trace.
func (k killPoint) resolve(t *testing.T, trace []string) int {
	t.Helper()
	var idx []int
	for i, l := range trace {
		if l == k.label {
			idx = append(idx, i+1)
		}
	}
	require.NotEmpty(t, idx, "no %s event in the clean run", k.label)
	if k.nth > 0 {
		require.LessOrEqual(t, k.nth, len(idx), "%s events in the clean run", k.label)
		return idx[k.nth-1]
	}
	return idx[int(math.Round(k.at*float64(len(idx)-1)))]
}

// The kill points of the initial phase: the source's 200 objects are
// imported, projected and provisioned (cycle 1), and the target's import
// confirms the exports (cycle 2).
var initialKills = []killPoint{
	// Import staging: objects buffered, some batches committed, all
	// committed but not yet the watermark and the full import's
	// generation.
	{label: "src.import.object@c1/import src", at: 0},
	{label: "src.import.object@c1/import src", at: 0.5},
	{label: "src.import.object@c1/import src", at: 1},
	{label: "store.fn@c1/import src", at: 0.5},
	{label: "store.commit@c1/import src", at: 0.5},
	{label: "src.import.checkpoint@c1/import src", at: 0},
	{label: "store.commit@c1/import src", at: 1},
	{label: "store.commit@c1/import tgt", at: 0},
	// Mid-sync: a batch rolled back or committed, first, middle and last.
	{label: "store.fn@c1/sync src", at: 0},
	{label: "store.commit@c1/sync src", at: 0},
	{label: "store.fn@c1/sync src", at: 0.5},
	{label: "store.commit@c1/sync src", at: 0.5},
	{label: "store.fn@c1/sync src", at: 1},
	{label: "store.commit@c1/sync src", at: 1},
	{label: "run.recorded@c1/sync src", at: 0},
	// Export: applied by the target, result not returned (first change,
	// inside a batch, a batch's last change) or not recorded.
	{label: "tgt.export.applied@c1/export tgt", nth: 1},
	{label: "tgt.export.applied@c1/export tgt", nth: 3},
	{label: "tgt.export.applied@c1/export tgt", nth: 6},
	{label: "tgt.export.applied@c1/export tgt", at: 0.5},
	{label: "tgt.export.applied@c1/export tgt", at: 1},
	{label: "store.fn@c1/export tgt", at: 0},
	{label: "store.fn@c1/export tgt", at: 0.5},
	{label: "store.commit@c1/export tgt", at: 0.5},
	{label: "store.fn@c1/export tgt", at: 1},
	{label: "run.recorded@c1/export tgt", at: 0},
	// The confirming import of the target and its sync.
	{label: "tgt.import.object@c2/import tgt", at: 0.5},
	{label: "tgt.import.checkpoint@c2/import tgt", at: 0.5},
	{label: "store.fn@c2/import tgt", at: 0.5},
	{label: "store.commit@c2/sync tgt", at: 0.5},
	{label: "store.fn@c2/sync tgt", at: 1},
}

// The kill points of the delta phase: after the initial phase, the source
// changes (titles, renames, deletes, adds) and a delta cycle carries them.
var deltaKills = []killPoint{
	{label: "src.import.object@c1/import src", at: 0},
	{label: "src.import.object@c1/import src", at: 0.5},
	{label: "src.import.object@c1/import src", at: 1},
	{label: "src.import.checkpoint@c1/import src", at: 0.3},
	{label: "src.import.checkpoint@c1/import src", at: 0.7},
	{label: "store.fn@c1/import src", at: 0.5},
	{label: "store.commit@c1/sync src", at: 0.5},
	{label: "store.fn@c1/sync src", at: 1},
	{label: "tgt.export.applied@c1/export tgt", at: 0},
	{label: "tgt.export.applied@c1/export tgt", at: 0.5},
	{label: "tgt.export.applied@c1/export tgt", at: 1},
	{label: "store.fn@c1/export tgt", at: 0.5},
	{label: "tgt.import.object@c2/import tgt", at: 0.5},
	{label: "store.commit@c2/sync tgt", at: 0.5},
}

// TestCrashRestart kills a sync cycle at each kill point, restarts it,
// and compares the outcome with a clean run's.
func TestCrashRestart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		backend func(t *testing.T) *backend
	}{
		{"boltstore", boltBackend},
		{"pgstore", pgBackend},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := tc.backend(t)
			start := time.Now()
			ref := cleanRun(t, b)
			t.Logf("clean run: %s", time.Since(start).Round(time.Millisecond))
			var wg sync.WaitGroup
			sem := make(chan struct{}, 3)
			for _, ph := range []struct {
				name  string
				kills []killPoint
				trace []string
				want  *state
				setup func(t *testing.T) (dir, loc string)
			}{
				{"initial", initialKills, ref.trace1, ref.state1, ref.initialSetup},
				{"delta", deltaKills, ref.trace2, ref.state2, ref.deltaSetup},
			} {
				for i, kp := range ph.kills {
					n := kp.resolve(t, ph.trace)
					// The children wait on fsyncs more than they compute:
					// run several at once, more than -test.parallel (the
					// number of CPUs) would allow parallel subtests.
					sem <- struct{}{}
					wg.Go(func() {
						defer func() { <-sem }()
						t.Run(fmt.Sprintf("%s/%02d/%s", ph.name, i+1, kp), func(t *testing.T) {
							dir, loc := ph.setup(t)
							require.True(t, runChild(t, b, dir, loc, n, ""), "the child did not reach event %d (%s)", n, kp)
							require.False(t, runChild(t, b, dir, loc, 0, ""), "restarted child")
							checkState(t, ph.want, capture(t, b, dir, loc))
						})
					})
				}
			}
			wg.Wait()
			t.Logf("%d kill points in %s", len(initialKills)+len(deltaKills), time.Since(start).Round(time.Millisecond))
		})
	}
}

// reference is the clean run the crashed ones are compared with.
type reference struct {
	b              *backend
	dir            string // the clean run's work directory
	src1, src2     string // source journals of the initial and delta phases
	tgt1           string // target journal after the initial phase
	loc1           string // copy of the store after the initial phase
	trace1, trace2 []string
	state1, state2 *state
}

// cleanRun runs both phases without a kill, tracing the hook events.
func cleanRun(t *testing.T, b *backend) *reference {
	t.Helper()
	r := &reference{b: b, dir: t.TempDir()}
	keep := t.TempDir()
	src, err := openSrc(r.dir)
	require.NoError(t, err)
	s, err := writeInitial(src)
	require.NoError(t, err)
	r.src1 = filepath.Join(keep, "src1.journal")
	copyFile(t, journalPath(r.dir, "src"), r.src1)

	loc := b.newLoc(t)
	r.trace1 = traceRun(t, b, r.dir, loc)
	r.state1 = capture(t, b, r.dir, loc)
	checkState(t, r.state1, r.state1)
	require.Len(t, r.state1.Target, nUsers+nGroups)
	r.tgt1 = filepath.Join(keep, "tgt1.journal")
	copyFile(t, journalPath(r.dir, "tgt"), r.tgt1)
	r.loc1 = b.clone(t, loc)

	require.NoError(t, s.writeChanges(src))
	require.NoError(t, src.Close())
	r.src2 = filepath.Join(keep, "src2.journal")
	copyFile(t, journalPath(r.dir, "src"), r.src2)
	r.trace2 = traceRun(t, b, r.dir, loc)
	r.state2 = capture(t, b, r.dir, loc)
	checkState(t, r.state2, r.state2)
	require.Len(t, r.state2.Target, nUsers+nGroups+10-8)
	return r
}

func traceRun(t *testing.T, b *backend, dir, loc string) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trace")
	require.False(t, runChild(t, b, dir, loc, 0, path))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var trace []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n, label, ok := strings.Cut(sc.Text(), " ")
		require.True(t, ok)
		require.Equal(t, strconv.Itoa(len(trace)+1), n)
		trace = append(trace, label)
	}
	require.NoError(t, sc.Err())
	return trace
}

// initialSetup returns a work directory and a store for a run of the
// initial phase: the source's journal, no target, an empty store.
func (r *reference) initialSetup(t *testing.T) (dir, loc string) {
	dir = t.TempDir()
	copyFile(t, r.src1, journalPath(dir, "src"))
	return dir, r.b.newLoc(t)
}

// deltaSetup returns them for a run of the delta phase: the changed
// source, and the target and store as the clean initial phase left them.
func (r *reference) deltaSetup(t *testing.T) (dir, loc string) {
	dir = t.TempDir()
	copyFile(t, r.src2, journalPath(dir, "src"))
	copyFile(t, r.tgt1, journalPath(dir, "tgt"))
	return dir, r.b.clone(t, r.loc1)
}

// runChild runs the child process on a work directory and a store, killed
// at the kill-th hook event when kill > 0, and reports whether it died of
// SIGKILL. Any other failure fails the test.
func runChild(t *testing.T, b *backend, dir, loc string, kill int, trace string) (killed bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		childEnv+"="+dir, backendEnv+"="+b.name, locEnv+"="+loc,
		killEnv+"="+strconv.Itoa(kill), traceEnv+"="+trace)
	cmd.Env = append(cmd.Env, b.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err == nil {
		return false
	}
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "child: %v", err)
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL && kill > 0 {
		return true
	}
	t.Fatalf("child (kill at %d): %v\n%s", kill, err, out.String())
	return false
}
