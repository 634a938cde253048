package main

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// initialSyncMaxRSS is initial-sync's memory target: the whole of a
// million-user initial sync must fit in 1 GiB.
const initialSyncMaxRSS = 1 << 30

// initialSync is the first half of the initial cycle, without export:
// a full import of the generated directory into the connector space and a
// full sync into the metaverse (boltstore), provisioning every object to
// the cloud as a pending export. At N = 1M the export to the in-memory
// target would measure the fake, not the engine; this measures the
// engine's memory and time for the part that depends on N.
func initialSync(ctx context.Context, e *env) (result, error) {
	p, err := newPipeline(ctx, e)
	if err != nil {
		return result{}, err
	}
	defer p.close()
	stop := e.measured()
	start := time.Now()
	imp, err := p.eng.FullImport(ctx, "ad")
	if err := check(imp, err); err != nil {
		stop()
		return result{}, err
	}
	syn, err := p.eng.FullSync(ctx, "ad")
	elapsed := time.Since(start)
	stop()
	if err := check(syn, err); err != nil {
		return result{}, err
	}
	if syn.Projections != p.objects() {
		return result{}, fmt.Errorf("%d projections, want %d", syn.Projections, p.objects())
	}
	extra := map[string]string{
		"ad FullImport": seconds(imp.Duration().Seconds()),
		"ad FullSync":   seconds(syn.Duration().Seconds()),
		"objects":       strconv.Itoa(p.objects()),
		"provisions":    strconv.Itoa(syn.Provisions),
		"objects/s":     fmt.Sprintf("%.0f", float64(p.objects())/elapsed.Seconds()),
	}
	if b, err := p.store.bytes(ctx); err == nil {
		extra["store"] = mib(b)
	}
	if e.store == "pg" {
		extra["store"] += " (pgstore)"
	}
	return result{Value: elapsed.Seconds(), Extra: extra}, nil
}
