package main

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"time"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/bench/internal/dirgen"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
	"github.com/idbridge/idbridge/rules"
)

//go:embed rules-graph.yaml
var graphRuleFile []byte

const groupAnchor = "extension_0123456789abcdef0123456789abcdef_sourceAnchor"

// scaledBudget is Graph's tenant write budget (18,000 writes per 5 minutes)
// with time compressed about 17 times, so that a scenario runs in seconds:
// the same shape (a fixed window, 429 with Retry-After once spent), and as
// with the real budget, well below what the client and the emulator can
// do, so that the budget is what limits the export.
var scaledBudget = graphsync.Budget{Writes: 2000, Per: 2 * time.Second}

// graphPipeline is a generated AD, the Graph emulator with graphsync as the
// cloud side, and an engine on a boltstore (or PostgreSQL: -store pg).
type graphPipeline struct {
	dir   *dirgen.Directory
	ad    *dirgen.Source
	srv   *graphtest.Server
	cloud *graphsync.Connector
	eng   *idbridge.Engine
	store *benchStore
}

func newGraphPipeline(ctx context.Context, e *env, opts graphtest.Options, budget graphsync.Budget) (*graphPipeline, error) {
	p := &graphPipeline{dir: dirgen.New(e.n, e.seed, "DC=contoso,DC=com")}
	p.ad = dirgen.NewSource(p.dir)
	opts.Token = "bench"
	opts.Domains = []string{"contoso.com"}
	p.srv = graphtest.NewServer(opts)
	var err error
	p.cloud, err = graphsync.New(graphsync.Config{
		BaseURL:     p.srv.URL() + "/v1.0",
		Credential:  graphsync.StaticToken("bench"),
		HTTPClient:  p.srv.Client(),
		Types:       []string{graphsync.TypeUser, graphsync.TypeGroup},
		Extensions:  []string{groupAnchor},
		GroupAnchor: groupAnchor,
		WriteBudget: budget,
	})
	if err != nil {
		p.srv.Close()
		return nil, err
	}
	p.store, err = openStore(ctx, e)
	if err != nil {
		p.srv.Close()
		return nil, err
	}
	rf, err := rules.Parse("bench/rules-graph.yaml", graphRuleFile)
	if err == nil {
		p.eng, err = idbridge.New(ctx, idbridge.Config{
			Store:      p.store,
			Connectors: map[string]connector.Connector{"ad": p.ad, "cloud": p.cloud},
			Rules:      rf,
			Options:    idbridge.Options{DeletionThreshold: -1},
		})
	}
	if err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *graphPipeline) close() {
	p.store.close()
	p.srv.Close()
}

func (p *graphPipeline) objects() int { return p.dir.Users + p.dir.Groups() }

// inCloud checks that the emulator holds every object once.
func (p *graphPipeline) inCloud() error {
	if got := len(p.srv.Users()) + len(p.srv.Groups()); got != p.objects() {
		return fmt.Errorf("the cloud holds %d objects, want %d", got, p.objects())
	}
	return nil
}

// initialCycleGraph is the initial cycle end to end with the Graph
// emulator as the cloud (unthrottled: the time is the engine's and the
// connector's, not the tenant's budget).
func initialCycleGraph(ctx context.Context, e *env) (result, error) {
	p, err := newGraphPipeline(ctx, e, graphtest.Options{}, graphsync.Unlimited)
	if err != nil {
		return result{}, err
	}
	defer p.close()
	stop := e.measured()
	start := time.Now()
	c, err := p.eng.Cycle(ctx, idbridge.Initial)
	elapsed := time.Since(start)
	stop()
	if err != nil {
		return result{}, err
	}
	if errs := c.Errors(); len(errs) > 0 {
		return result{}, fmt.Errorf("%d errors, first: %v", len(errs), errs[0])
	}
	if err := p.inCloud(); err != nil {
		return result{}, err
	}
	extra := map[string]string{"source": "generated", "target": "graph emulator"}
	for _, r := range c.Runs {
		if r.Duration() > elapsed/50 {
			extra[r.Connector+" "+string(r.Profile)] = seconds(r.Duration().Seconds())
		}
	}
	http, batched := 0, 0
	for _, r := range p.srv.Requests() {
		if r.InBatch {
			batched++
		} else {
			http++
		}
	}
	extra["graph requests"] = strconv.Itoa(http)
	extra["batched"] = strconv.Itoa(batched)
	return result{Value: elapsed.Seconds(), Extra: extra}, nil
}

// throttledExport measures the export step of an initial cycle to an
// emulator that enforces the scaled tenant budget, with the connector
// pacing itself at that budget: the fraction of the budget used, and
// every object in the cloud once.
func throttledExport(ctx context.Context, e *env) (result, error) {
	p, err := newGraphPipeline(ctx, e, graphtest.Options{WriteBudget: scaledBudget.Writes, WriteWindow: scaledBudget.Per}, scaledBudget)
	if err != nil {
		return result{}, err
	}
	defer p.close()
	for _, step := range []func(context.Context, string) (*idbridge.RunResult, error){p.eng.FullImport, p.eng.FullSync} {
		if err := check(step(ctx, "ad")); err != nil {
			return result{}, err
		}
	}
	if err := check(p.eng.FullImport(ctx, "cloud")); err != nil {
		return result{}, err
	}
	before := p.srv.Writes()
	stop := e.measured()
	start := time.Now()
	exported := 0
	for { // exports left for references resolved later go in a second pass
		r, err := p.eng.Export(ctx, "cloud")
		if err := check(r, err); err != nil {
			stop()
			return result{}, err
		}
		if r.Exported == 0 {
			break
		}
		exported += r.Exported
	}
	elapsed := time.Since(start)
	stop()
	if err := p.inCloud(); err != nil {
		return result{}, err
	}
	writes := p.srv.Writes() - before
	throttled := 0
	for _, r := range p.srv.Requests() {
		if r.Status == 429 {
			throttled++
		}
	}
	allowed := float64(scaledBudget.Writes) / scaledBudget.Per.Seconds()
	used := float64(writes) / elapsed.Seconds() / allowed
	return result{Value: used, Extra: map[string]string{
		"writes": strconv.Itoa(writes), "exported": strconv.Itoa(exported),
		"budget": fmt.Sprintf("%d per %s", scaledBudget.Writes, scaledBudget.Per),
		"429s":   strconv.Itoa(throttled), "elapsed": seconds(elapsed.Seconds()),
	}}, nil
}
