// Command bench is idbridge's end-to-end benchmark harness: it measures
// what users care about (import, sync, whole cycles, change-to-cloud
// latency, throttled export) on generated directories, against targets and
// against the physical limits of the same servers, and prints one table row
// per scenario: the median of several runs with min and max.
//
//	go run ./bench                     # every scenario at N = 10,000
//	go run ./bench -n 100000 -runs 3   # one size
//	go run ./bench -full               # N = 10k, 100k and 1M
//	go run ./bench -scenario full-sync -cpuprofile /tmp/prof
//
// Each run is a child process (the same binary with -child), so that peak
// RSS is the run's own and profiles cover one run. Scenarios that need a
// server read it from the environment that `make bench` sets up (it starts
// slapd with scripts/servers/slapd.sh); without it they are reported as
// skipped, with the reason.
//
// See bench/README.md for the scenarios and bench/RESULTS.md for results.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// result is what one run of a scenario measured.
type result struct {
	Value   float64           `json:"value"`           // the scenario's metric
	Extra   map[string]string `json:"extra,omitempty"` // other figures, shown in the notes column
	PeakRSS int64             `json:"peakRSS"`         // bytes (VmHWM)
	Skipped string            `json:"skipped,omitempty"`
}

type options struct {
	n          int
	seed       uint64
	runs       int
	scenarios  []string
	cpuProfile string // directory
	memProfile string // directory
	out        string // markdown file to append rows to
	store      string // bolt or pg
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o options
	var sizes, only, child string
	fs.StringVar(&sizes, "n", "10000", "directory sizes (users), comma-separated; groups are a tenth")
	full := fs.Bool("full", false, "run N = 10k, 100k and 1M (scenarios that cannot run at 1M say so)")
	fs.Uint64Var(&o.seed, "seed", 1, "generator seed")
	fs.IntVar(&o.runs, "runs", 3, "runs per scenario and size (the median is reported)")
	fs.StringVar(&only, "scenario", "", "comma-separated scenario names (default: all)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "directory to write one CPU profile per scenario and size (first run)")
	fs.StringVar(&o.memProfile, "memprofile", "", "directory to write one heap profile per scenario and size (first run)")
	fs.StringVar(&o.out, "out", "", "also append the table to this markdown file")
	fs.StringVar(&o.store, "store", "bolt", "the store the sync scenarios use: bolt, or pg (a fresh schema at $IDBRIDGE_PG_DSN)")
	fs.StringVar(&child, "child", "", "internal: run one scenario in this process")
	list := fs.Bool("list", false, "list the scenarios and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *list {
		for _, s := range scenarios {
			fmt.Fprintf(out, "%-16s %s (target: %s)\n", s.name, s.title, s.target)
		}
		return nil
	}
	if child != "" {
		n, err := strconv.Atoi(sizes)
		if err != nil {
			return fmt.Errorf("-n %q: %w", sizes, err)
		}
		o.n = n
		return runChild(ctx, child, o, out)
	}
	ns, err := parseSizes(sizes)
	if err != nil {
		return err
	}
	if *full {
		ns = []int{10_000, 100_000, 1_000_000}
	}
	if only != "" {
		o.scenarios = strings.Split(only, ",")
		for _, name := range o.scenarios {
			if lookup(name) == nil {
				return fmt.Errorf("unknown scenario %q (see -list)", name)
			}
		}
	}

	var table bytes.Buffer
	w := io.MultiWriter(out, &table)
	fmt.Fprintf(w, "\n%s, %s, %d CPUs, %s, seed %d, median of %d runs (min–max)\n\n",
		time.Now().UTC().Format("2006-01-02"), machine(), runtime.NumCPU(), runtime.Version(), o.seed, o.runs)
	fmt.Fprintln(w, "| scenario | N | result | min–max | target | met | peak RSS | notes |")
	fmt.Fprintln(w, "|---|---:|---:|---|---|---|---:|---|")
	for _, s := range scenarios {
		if o.scenarios != nil && !slices.Contains(o.scenarios, s.name) {
			continue
		}
		for _, n := range ns {
			row := measure(ctx, s, n, o)
			fmt.Fprintln(w, row)
		}
	}
	if o.out != "" {
		f, err := os.OpenFile(o.out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := f.Write(table.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

func parseSizes(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		mult := 1
		switch {
		case strings.HasSuffix(f, "k"):
			mult, f = 1000, strings.TrimSuffix(f, "k")
		case strings.HasSuffix(f, "m"):
			mult, f = 1_000_000, strings.TrimSuffix(f, "m")
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-n: %q is not a size", f)
		}
		ns = append(ns, n*mult)
	}
	return ns, nil
}

// measure runs scenario s at size n o.runs times, each in a child process,
// and formats the table row.
func measure(ctx context.Context, s *scenario, n int, o options) string {
	if s.maxN > 0 && n > s.maxN {
		return fmt.Sprintf("| %s | %s | – | – | %s | – | – | not run above N = %s: %s |", s.name, size(n), s.target, size(s.maxN), s.maxReason)
	}
	var vals []float64
	var rss int64
	var extra map[string]string
	for i := 0; i < o.runs; i++ {
		args := []string{"-child", s.name, "-n", strconv.Itoa(n), "-seed", strconv.FormatUint(o.seed, 10), "-store", o.store}
		if i == 0 && o.cpuProfile != "" {
			args = append(args, "-cpuprofile", o.cpuProfile)
		}
		if i == 0 && o.memProfile != "" {
			args = append(args, "-memprofile", o.memProfile)
		}
		r, err := runChildProcess(ctx, args)
		if err != nil {
			return fmt.Sprintf("| %s | %s | error | – | %s | no | – | %s |", s.name, size(n), s.target, oneLine(err.Error()))
		}
		if r.Skipped != "" {
			return fmt.Sprintf("| %s | %s | skipped | – | %s | – | – | %s |", s.name, size(n), s.target, oneLine(r.Skipped))
		}
		vals = append(vals, r.Value)
		rss = max(rss, r.PeakRSS)
		extra = r.Extra
	}
	slices.Sort(vals)
	med := vals[len(vals)/2]
	met := "yes"
	if !s.meets(med, n) || s.maxRSS > 0 && rss > s.maxRSS {
		met = "**no**"
	}
	var notes []string
	for _, k := range slices.Sorted(mapsKeys(extra)) {
		notes = append(notes, k+" "+extra[k])
	}
	return fmt.Sprintf("| %s | %s | %s | %s–%s | %s | %s | %s | %s |", s.name, size(n), s.format(med), s.format(vals[0]),
		s.format(vals[len(vals)-1]), s.target, met, mib(rss), strings.Join(notes, ", "))
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func runChildProcess(ctx context.Context, args []string) (result, error) {
	exe, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return result{}, fmt.Errorf("%v: %s", err, msg)
	}
	var r result
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return result{}, fmt.Errorf("child output %q: %w", stdout.String(), err)
	}
	return r, nil
}

// runChild runs one scenario in this process and prints its result as one
// JSON line.
func runChild(ctx context.Context, name string, o options, out io.Writer) error {
	s := lookup(name)
	if s == nil {
		return fmt.Errorf("unknown scenario %q", name)
	}
	work, err := os.MkdirTemp("", "idbridge-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	env := &env{n: o.n, seed: o.seed, dir: work, store: o.store}
	if o.cpuProfile != "" {
		env.startProfile = func() (stop func()) {
			f, err := os.Create(filepath.Join(o.cpuProfile, fmt.Sprintf("%s-%s.cpu.pprof", name, size(o.n))))
			if err != nil {
				return func() {}
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				return func() {}
			}
			return func() { pprof.StopCPUProfile(); f.Close() }
		}
	}
	anon := anonPeak()
	r, err := s.run(ctx, env)
	anonBytes := anon()
	var skip *skipError
	if errors.As(err, &skip) {
		r, err = result{Skipped: skip.reason}, nil
	}
	if err != nil {
		return err
	}
	if o.memProfile != "" {
		if f, err := os.Create(filepath.Join(o.memProfile, fmt.Sprintf("%s-%s.heap.pprof", name, size(o.n)))); err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	r.PeakRSS = peakRSS()
	if r.Skipped == "" && anonBytes > 0 {
		if r.Extra == nil {
			r.Extra = map[string]string{}
		}
		r.Extra["peak anon RSS"] = mib(anonBytes)
	}
	return json.NewEncoder(out).Encode(r)
}

// env is what a scenario run gets.
type env struct {
	n    int
	seed uint64
	dir  string // a temporary directory, removed after the run
	// store is the -store flag: "bolt" (default) or "pg" (see openStore).
	store string
	// startProfile starts the CPU profile, if asked for, around the part
	// of the scenario that is measured; the returned function stops it.
	startProfile func() (stop func())
}

// measured starts the profile (if any) and returns its stop function.
func (e *env) measured() func() {
	if e.startProfile == nil {
		return func() {}
	}
	return e.startProfile()
}

type skipError struct{ reason string }

func (e *skipError) Error() string { return "skipped: " + e.reason }

func skip(format string, args ...any) error { return &skipError{fmt.Sprintf(format, args...)} }

// peakRSS returns the process's peak resident set size (VmHWM) in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func machine() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
			}
		}
	}
	return runtime.GOARCH
}

func size(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

func mib(b int64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
