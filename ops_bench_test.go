package idbridge_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

// opsBenchEngine is an engine on a new memstore with n users imported, and
// the bench rules (inbound and outbound).
func opsBenchEngine(b *testing.B, n int, opts idbridge.Options) *idbridge.Engine {
	b.Helper()
	ctx := context.Background()
	ad, cloud := memconn.New(adSchema), memconn.New(benchCloudSchema)
	for i := range n {
		ad.Put(benchUser(i))
	}
	rf, err := rules.ParseFile("testdata/bench-rules.yaml")
	require.NoError(b, err)
	opts.DeletionThreshold = -1
	st := memstore.New()
	b.Cleanup(func() { st.Close() })
	eng, err := idbridge.New(ctx, idbridge.Config{Store: st, Rules: rf, Options: opts,
		Connectors: map[string]connector.Connector{"ad": ad.Connector(), "cloud": cloud.Connector()}})
	require.NoError(b, err)
	_, err = eng.FullImport(ctx, "ad")
	require.NoError(b, err)
	return eng
}

// BenchmarkOperationsOverhead measures the cost of the instrumentation: the
// initial full sync of 20,000 users (projection and provisioning) with
// metrics (the OTel SDK with a reader) and every hook set, against the same
// sync with neither. Each iteration syncs both, in alternating order; the
// on/off metric is the ratio of their total times (the target is at most
// 1.03).
//
//	go test -run '^$' -bench OperationsOverhead -benchtime 10x .
func BenchmarkOperationsOverhead(b *testing.B) {
	const n = 20_000
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	b.Cleanup(func() { _ = mp.Shutdown(ctx) })
	progress := 0
	on := idbridge.Options{MeterProvider: mp, Hooks: idbridge.Hooks{
		RunStart:        func(idbridge.RunInfo) {},
		RunEnd:          func(idbridge.RunInfo, *idbridge.RunResult, error) {},
		Progress:        func(idbridge.Progress) { progress++ },
		ObjectError:     func(idbridge.ObjectErrorEvent) {},
		ExportConfirmed: func(idbridge.ExportEvent) {},
	}}
	var tOn, tOff time.Duration
	sync := func(opts idbridge.Options) time.Duration {
		b.StopTimer()
		eng := opsBenchEngine(b, n, opts)
		runtime.GC()
		b.StartTimer()
		start := time.Now()
		res, err := eng.FullSync(ctx, "ad")
		d := time.Since(start)
		require.NoError(b, err)
		require.Equal(b, n, res.Projections)
		return d
	}
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			tOff += sync(idbridge.Options{})
			tOn += sync(on)
		} else {
			tOn += sync(on)
			tOff += sync(idbridge.Options{})
		}
	}
	require.Positive(b, progress)
	b.ReportMetric(float64(tOn)/float64(tOff), "on/off")
	b.ReportMetric(float64(n*b.N)/tOn.Seconds(), "on-objects/s")
	b.ReportMetric(float64(n*b.N)/tOff.Seconds(), "off-objects/s")
}
