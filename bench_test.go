package idbridge_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/rules"
)

var benchCloudSchema = &connector.Schema{Types: []connector.ObjectType{
	{Name: "user", Attributes: []connector.Attribute{
		attr("displayName", connector.String), attr("mail", connector.String), attr("department", connector.String),
		attr("accountEnabled", connector.Boolean), attr("immutableId", connector.String), attr("userPrincipalName", connector.String),
	}},
}}

// benchEnv is a source with n users, a target, and an engine on store.
type benchEnv struct {
	ad, cloud *memconn.System
	eng       *idbridge.Engine
	store     metaverse.Store
}

func benchUser(i int) connector.Object {
	uac := int64(512)
	if i%20 == 0 {
		uac = 514
	}
	return connector.Object{
		Anchor: connector.Anchor(fmt.Sprintf("guid-%08d", i)),
		DN:     fmt.Sprintf("CN=User %d,OU=Dept%d,DC=contoso,DC=com", i, i%50),
		Type:   "user",
		Attrs: connector.Attributes{
			"employeeID":         s(fmt.Sprintf("E%08d", i)),
			"givenName":          s(fmt.Sprintf("Given%d", i)),
			"sn":                 s(fmt.Sprintf("Surname%d", i)),
			"mail":               s(fmt.Sprintf("Given%d.Surname%d@Contoso.com", i, i)),
			"department":         s(fmt.Sprintf("Dept%d", i%50)),
			"title":              s("Engineer"),
			"userAccountControl": {connector.IntValue(uac)},
		},
	}
}

func newBenchEnv(tb testing.TB, n int, store metaverse.Store, outbound bool) *benchEnv {
	tb.Helper()
	ctx := context.Background()
	env := &benchEnv{ad: memconn.New(adSchema), cloud: memconn.New(benchCloudSchema), store: store}
	for i := 0; i < n; i++ {
		env.ad.Put(benchUser(i))
	}
	rf, err := rules.ParseFile("testdata/bench-rules.yaml")
	require.NoError(tb, err)
	if !outbound {
		rf.Rules = rf.Rules[:1]
	}
	env.eng, err = idbridge.New(ctx, idbridge.Config{
		Store:      store,
		Connectors: map[string]connector.Connector{"ad": env.ad.Connector(), "cloud": env.cloud.Connector()},
		Rules:      rf,
		Options:    idbridge.Options{DeletionThreshold: -1},
	})
	require.NoError(tb, err)
	return env
}

// BenchmarkFullSync measures the initial full sync of 100,000 imported
// users (and 1,000,000 with IDBRIDGE_BENCH_1M=1) on each store, in objects
// per second: "inbound" runs the inbound rule (scope, join lookup,
// projection, 6 CEL flows); "in+out" adds the outbound rule (scope, 6
// flows, provisioning a target object with its pending export). peak-MiB is
// the Go runtime's peak mapped memory during the sync (the source's million
// objects, held in memory by memconn, included).
//
//	go test -run '^$' -bench 'FullSync$/store=bolt' .
func BenchmarkFullSync(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStores {
		for _, n := range benchSizes(100_000) {
			for _, outbound := range []bool{false, true} {
				name := "inbound"
				if outbound {
					name = "in+out"
				}
				b.Run(fmt.Sprintf("store=%s/n=%d/%s", st.name, n, name), func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						b.StopTimer()
						env := newBenchEnv(b, n, st.open(b), outbound)
						_, err := env.eng.FullImport(ctx, "ad")
						require.NoError(b, err)
						runtime.GC()
						b.StartTimer()
						peak := memPeak()
						start := time.Now()
						res, err := env.eng.FullSync(ctx, "ad")
						elapsed := time.Since(start)
						b.ReportMetric(float64(peak())/(1<<20), "peak-MiB")
						require.NoError(b, err)
						require.Equal(b, n, res.Projections)
						b.ReportMetric(float64(n)/elapsed.Seconds(), "objects/s")
						b.StopTimer()
						require.NoError(b, env.store.Close())
						b.StartTimer()
					}
				})
			}
		}
	}
}

// BenchmarkDeltaSync measures a delta import and delta sync of 100 changed
// users in directories of growing size on each store: the cost must stay
// flat. The million runs with IDBRIDGE_BENCH_1M=1.
func BenchmarkDeltaSync(b *testing.B) {
	for _, st := range benchStores {
		for _, n := range benchSizes(10_000, 100_000) {
			b.Run(fmt.Sprintf("store=%s/entries=%d", st.name, n), func(b *testing.B) {
				ctx := context.Background()
				env := newBenchEnv(b, n, st.open(b), true)
				_, err := env.eng.FullImport(ctx, "ad")
				require.NoError(b, err)
				_, err = env.eng.FullSync(ctx, "ad")
				require.NoError(b, err)
				runtime.GC()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					for j := 0; j < 100; j++ {
						k := (i*100 + j) * 7919 % n
						require.NoError(b, env.ad.Modify(connector.Anchor(fmt.Sprintf("guid-%08d", k)),
							connector.Mod{Name: "title", Op: connector.ModReplace, Values: s(fmt.Sprintf("Title %d", i))},
							connector.Mod{Name: "department", Op: connector.ModReplace, Values: s(fmt.Sprintf("Dept%d", i%7))}))
					}
					b.StartTimer()
					imp, err := env.eng.DeltaImport(ctx, "ad")
					require.NoError(b, err)
					res, err := env.eng.DeltaSync(ctx, "ad")
					require.NoError(b, err)
					if imp.Updates != 100 || res.MetaverseUpdates == 0 {
						b.Fatalf("import %v, sync %v", imp, res)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/100changes")
			})
		}
	}
}

// BenchmarkExport measures the cost of the mass-change guard, which reads
// a connector's pending exports once before an export, on each store: an
// export with nothing to send, over n users whose adds were exported and
// await confirmation, in ms per export, with the guard (guard=true, the
// default) and without it (every limit off): the export's own pass reads
// the same pending exports once, so guard=true should cost about twice
// guard=false and no more.
//
//	go test -run '^$' -bench 'Export$' .
func BenchmarkExport(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStores {
		for _, n := range benchSizes(10_000) {
			for _, guard := range []bool{true, false} {
				b.Run(fmt.Sprintf("store=%s/n=%d/guard=%v", st.name, n, guard), func(b *testing.B) {
					env := newBenchEnv(b, n, st.open(b), true)
					if !guard {
						env.eng.SetMassChange(idbridge.MassChangeOptions{Disables: -1, DisablePercent: -1, Updates: -1, UpdatePercent: -1})
					}
					_, err := env.eng.FullImport(ctx, "ad")
					require.NoError(b, err)
					_, err = env.eng.FullSync(ctx, "ad")
					require.NoError(b, err)
					res, err := env.eng.Export(ctx, "cloud")
					require.NoError(b, err)
					require.Equal(b, n-n/20, res.Exported, "every 20th user is disabled, out of scope")
					runtime.GC()
					for b.Loop() {
						res, err := env.eng.Export(ctx, "cloud")
						require.NoError(b, err)
						require.Zero(b, res.Exported)
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/export")
				})
			}
		}
	}
}
