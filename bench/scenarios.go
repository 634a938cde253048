package main

import (
	"context"
	_ "embed"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/bench/internal/dirgen"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/rules"
)

//go:embed rules.yaml
var ruleFile []byte

// scenario is one row of the table.
type scenario struct {
	name, title string
	target      string                      // as printed
	meets       func(v float64, n int) bool // whether the median meets the target
	format      func(v float64) string      // the metric, as printed
	run         func(context.Context, *env) (result, error)
	maxN        int    // largest N the scenario runs at (0: any)
	maxReason   string // why not above maxN
	maxRSS      int64  // peak RSS (bytes) above which the target is missed (0: no memory target)
}

func lookup(name string) *scenario {
	for _, s := range scenarios {
		if s.name == name {
			return s
		}
	}
	return nil
}

func perSecond(v float64) string { return fmt.Sprintf("%.0f/s", v) }
func seconds(v float64) string {
	if v < 1 {
		return fmt.Sprintf("%.0f ms", v*1000)
	}
	return fmt.Sprintf("%.2f s", v)
}
func ratio(v float64) string    { return fmt.Sprintf("%.2f×", v) }
func fraction(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }

var scenarios = []*scenario{
	{
		name:   "full-import",
		title:  "full import from slapd: our connector's time / a raw paged search of the same entries",
		target: "≤ 1.5×", format: ratio,
		meets: func(v float64, _ int) bool { return v <= 1.5 },
		run:   fullImport,
	},
	{
		name:   "full-sync",
		title:  "full sync (CEL rules, boltstore, one core): objects per second",
		target: "≥ 20,000/s", format: perSecond,
		meets: func(v float64, _ int) bool { return v >= 20_000 },
		run:   fullSync,
	},
	{
		name:   "initial-cycle",
		title:  "initial cycle end to end: directory → metaverse (boltstore) → Graph emulator through graphsync: wall time",
		target: "100k + 10k groups < 60 s", format: seconds,
		meets: func(v float64, n int) bool { return v < 60*float64(n)/100_000 || n < 100_000 && v < 60 },
		run:   initialCycleGraph,
	},
	{
		name:   "initial-sync",
		title:  "initial cycle without export: directory → metaverse (boltstore), provisioning pending exports: wall time and peak RSS",
		target: "< 1 GiB RSS at 1M", format: seconds,
		meets:  func(float64, int) bool { return true },
		maxRSS: initialSyncMaxRSS,
		run:    initialSync,
	},
	{
		name:   "delta-cycle",
		title:  "delta cycle with 100 changed users: wall time",
		target: "< 1 s, flat", format: seconds,
		meets: func(v float64, _ int) bool { return v < 1 },
		run:   deltaCycle,
	},
	{
		name:   "change-latency",
		title:  "change-to-cloud latency with change notification (p50)",
		target: "p50 < 1 s", format: seconds,
		meets: func(v float64, _ int) bool { return v < 1 },
		run:   changeLatency,
	},
	{
		name:   "throttled-export",
		title:  "10k writes under the emulator's scaled tenant write budget: fraction of the budget used",
		target: "≥ 90%, 0 lost", format: fraction,
		meets: func(v float64, _ int) bool { return v >= 0.9 },
		run:   throttledExport,
	},
}

// cloudSchema is the cloud side's schema while the Graph connector is not
// part of the scenario: Entra ID users and groups with Graph's names.
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

// pipeline is a generated AD (in memory), a cloud target and an engine on a
// boltstore in the run's directory (or PostgreSQL: -store pg).
type pipeline struct {
	dir   *dirgen.Directory
	ad    *dirgen.Source // generated as imported: the source costs no memory
	cloud *memconn.System
	eng   *idbridge.Engine
	store *benchStore
}

func newPipeline(ctx context.Context, e *env) (*pipeline, error) {
	p := &pipeline{
		dir:   dirgen.New(e.n, e.seed, "DC=contoso,DC=com"),
		cloud: memconn.New(cloudSchema()),
	}
	p.ad = dirgen.NewSource(p.dir)
	var err error
	p.store, err = openStore(ctx, e)
	if err != nil {
		return nil, err
	}
	rf, err := rules.Parse("bench/rules.yaml", ruleFile)
	if err != nil {
		return nil, err
	}
	p.eng, err = idbridge.New(ctx, idbridge.Config{
		Store:      p.store,
		Connectors: map[string]connector.Connector{"ad": p.ad, "cloud": p.cloud.Connector()},
		Rules:      rf,
		Options:    idbridge.Options{DeletionThreshold: -1},
	})
	if err != nil {
		p.store.close()
		return nil, err
	}
	return p, nil
}

func (p *pipeline) close() { p.store.close() }

func (p *pipeline) objects() int { return p.dir.Users + p.dir.Groups() }

// check fails on any per-object error: a benchmark of a run that dropped
// objects would measure the wrong thing.
func check(r *idbridge.RunResult, err error) error {
	if err != nil {
		return err
	}
	if r.ErrorCount > 0 {
		return fmt.Errorf("%v: first error: %v", r, r.Errors[0])
	}
	return nil
}

func fullSync(ctx context.Context, e *env) (result, error) {
	p, err := newPipeline(ctx, e)
	if err != nil {
		return result{}, err
	}
	defer p.close()
	if err := check(p.eng.FullImport(ctx, "ad")); err != nil {
		return result{}, err
	}
	runtime.GC()
	prev := runtime.GOMAXPROCS(1) // the target is per core
	stop := e.measured()
	start := time.Now()
	r, err := p.eng.FullSync(ctx, "ad")
	elapsed := time.Since(start)
	stop()
	runtime.GOMAXPROCS(prev)
	if err := check(r, err); err != nil {
		return result{}, err
	}
	if r.Projections != p.objects() {
		return result{}, fmt.Errorf("%d projections, want %d", r.Projections, p.objects())
	}
	return result{Value: float64(p.objects()) / elapsed.Seconds(), Extra: map[string]string{
		"objects": strconv.Itoa(p.objects()), "provisions": strconv.Itoa(r.Provisions)}}, nil
}

// deltaCycle runs an initial cycle (not measured), changes 100 users in the
// source and measures the delta cycle that carries them to the cloud.
func deltaCycle(ctx context.Context, e *env) (result, error) {
	p, err := newPipeline(ctx, e)
	if err != nil {
		return result{}, err
	}
	defer p.close()
	if _, err := p.eng.Cycle(ctx, idbridge.Initial); err != nil {
		return result{}, err
	}
	if _, err := p.eng.Cycle(ctx, idbridge.Delta); err != nil { // confirms the exports
		return result{}, err
	}
	const changes = 100
	for k := 0; k < changes; k++ {
		i := (k * 7919) % p.dir.Users
		p.ad.Modify(i, "Changed "+strconv.Itoa(k))
	}
	runtime.GC()
	stop := e.measured()
	faults := majorFaults()
	start := time.Now()
	c, err := p.eng.Cycle(ctx, idbridge.Delta)
	elapsed := time.Since(start)
	faults = majorFaults() - faults
	stop()
	if err != nil {
		return result{}, err
	}
	exported := 0
	for _, r := range c.Runs {
		exported += r.Exported
	}
	if exported != changes {
		return result{}, fmt.Errorf("delta cycle exported %d changes, want %d", exported, changes)
	}
	return result{Value: elapsed.Seconds(), Extra: map[string]string{"source": "generated", "major faults": strconv.FormatInt(faults, 10)}}, nil
}
