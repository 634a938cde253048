package ha_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/internal/testenv"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/pgstore"
	"github.com/idbridge/idbridge/rules"
)

// BenchmarkFencingOverhead runs a delta cycle (10 changed users out of
// 2,000) on pgstore with and without fencing, interleaved, and reports
// both and their ratio.
//
//	go test -run '^$' -bench FencingOverhead -benchtime 50x ./ha/
func BenchmarkFencingOverhead(b *testing.B) {
	ctx := context.Background()
	dsn, _ := pgEnv(b)
	rf, err := rules.Parse("failover.yaml", []byte(failoverRules))
	require.NoError(b, err)
	src := memconn.New(srcSchema)
	for i := range 2000 {
		srcUser(src, fmt.Sprintf("u%05d", i), "t")
	}
	setup := func(fenced bool) *idbridge.Engine {
		schema := pgSchema(b, dsn)
		s, err := pgstore.Open(ctx, dsn, &pgstore.Options{Schema: schema})
		require.NoError(b, err)
		b.Cleanup(func() { s.Close() })
		var store metaverse.Store = s
		if fenced {
			store = s.Fenced("bench", 1)
		}
		eng, err := idbridge.New(ctx, idbridge.Config{Store: store, Rules: rf,
			Connectors: map[string]connector.Connector{"src": src.Connector(), "dst": memconn.New(dstSchema).Connector()}})
		require.NoError(b, err)
		_, err = eng.Cycle(ctx, idbridge.Initial)
		require.NoError(b, err)
		return eng
	}
	plain, fenced := setup(false), setup(true)
	var tp, tf []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for j := range 10 {
			require.NoError(b, src.Modify(connector.Anchor(fmt.Sprintf("src-u%05d", (i*10+j)%2000)),
				connector.Mod{Name: "title", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue(fmt.Sprint(i))}}))
		}
		// The same changes reach both engines; alternate which goes first.
		order := []*idbridge.Engine{plain, fenced}
		if i%2 == 1 {
			order = []*idbridge.Engine{fenced, plain}
		}
		for _, eng := range order {
			start := time.Now()
			_, err := eng.Cycle(ctx, idbridge.Delta)
			require.NoError(b, err)
			if eng == plain {
				tp = append(tp, time.Since(start))
			} else {
				tf = append(tf, time.Since(start))
			}
		}
	}
	mp, mf := median(tp), median(tf)
	b.ReportMetric(float64(mp.Microseconds())/1000, "ms/cycle-unfenced")
	b.ReportMetric(float64(mf.Microseconds())/1000, "ms/cycle-fenced")
	b.ReportMetric(float64(mf)/float64(mp), "fenced/unfenced")
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkFailover kills the leader of two engine processes (PostgreSQL
// elector, TTL 2 s) b.N times and reports the time from the kill to the
// new leader's term (its first cycle starts) and to that cycle's end.
//
//	go test -run '^$' -bench Failover -benchtime 5x ./ha/
func BenchmarkFailover(b *testing.B) {
	dsn, schema := pgEnv(b)
	c := newCluster(b, 2*time.Second, "IDBRIDGE_HA_DSN="+dsn, "IDBRIDGE_HA_SCHEMA="+schema,
		"IDBRIDGE_HA_ELECTOR=pg", "IDBRIDGE_HA_ELECTOR_ADDR="+dsn)
	for range 20 {
		c.addUser()
	}
	stop := make(chan struct{})
	gen := c.stream(stop)
	times, led := c.failover(b.N)
	close(stop)
	gen.Wait()
	b.ReportMetric(float64(percentile(led, 0.5).Milliseconds()), "ms-to-lead-p50")
	b.ReportMetric(float64(slices.Max(led).Milliseconds()), "ms-to-lead-max")
	b.ReportMetric(float64(percentile(times, 0.5).Milliseconds()), "ms-to-first-cycle-done-p50")
	b.ReportMetric(float64(slices.Max(times).Milliseconds()), "ms-to-first-cycle-done-max")
}

func pgSchema(t testing.TB, dsn string) string { return testenv.PGSchema(t, dsn, "ha_bench_") }
