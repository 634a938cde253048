package idbridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/boltstore"
	"github.com/idbridge/idbridge/rules"
)

// whatIfFixture is three AD users (two in Sales, one in Research) and a
// group, synced and exported to the cloud and confirmed: a steady state.
func whatIfFixture(t *testing.T, cfg fixtureConfig) *fixture {
	t.Helper()
	f := newFixtureCfg(t, cfg)
	f.adUser("g1", "E1", "Ada", "Lovelace", 512, nil)
	f.adUser("g2", "E2", "Bob", "Babbage", 512, nil)
	f.adUser("g3", "E3", "Cy", "Cray", 512, connector.Attributes{"department": s("Research")})
	f.ad.Put(connector.Object{Anchor: "grp", DN: "CN=Staff,OU=Groups,DC=contoso,DC=com", Type: "group",
		Attrs: connector.Attributes{"cn": s("Staff"), "member": {connector.RefValue("g1", ""), connector.RefValue("g2", "")}}})
	f.cycle(idbridge.Initial)
	f.cycle(idbridge.Delta) // confirms the exports
	return f
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("rules do not contain " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

func TestWhatIf(t *testing.T) {
	tests := []struct {
		name      string
		rewrite   []func(string) string
		conns     []idbridge.WhatIfCounts
		metaverse []idbridge.WhatIfCounts
	}{
		{name: "same rules change nothing"},
		{
			name:    "outbound scope deletes Research",
			rewrite: []func(string) string{replace("    scope: has(source.mail)\n", "    scope: has(source.mail) && source.department != \"Research\"\n")},
			conns:   []idbridge.WhatIfCounts{{Connector: "cloud", Type: "user", Deletes: 1}},
		},
		{
			name:    "outbound scope disconnects with deprovision: disconnect",
			rewrite: []func(string) string{replace("    scope: has(source.mail)\n", "    scope: has(source.mail) && source.department != \"Research\"\n    deprovision: disconnect\n")},
			conns:   []idbridge.WhatIfCounts{{Connector: "cloud", Type: "user", Disconnects: 1}},
		},
		{
			name:    "outbound flow updates one attribute",
			rewrite: []func(string) string{replace("      - {target: department, source: department}\n      - {target: accountEnabled, source: accountEnabled}", "      - {target: department, expression: 'source.department.upperAscii()'}\n      - {target: accountEnabled, source: accountEnabled}")},
			conns:   []idbridge.WhatIfCounts{{Connector: "cloud", Type: "user", Updates: 3, Attributes: map[string]int{"department": 3}}},
		},
		{
			name:      "inbound flow changes the metaverse and the cloud",
			rewrite:   []func(string) string{replace(`'source.givenName + " " + source.sn'`, `'source.sn + ", " + source.givenName'`)},
			conns:     []idbridge.WhatIfCounts{{Connector: "cloud", Type: "user", Updates: 3, Attributes: map[string]int{"displayName": 3}}},
			metaverse: []idbridge.WhatIfCounts{{Type: "person", Updates: 3, Attributes: map[string]int{"displayName": 3}}},
		},
		{
			name:      "inbound scope removes a user",
			rewrite:   []func(string) string{replace("    scope: has(source.employeeID)\n", "    scope: has(source.employeeID) && source.employeeID != \"E2\"\n")},
			conns:     []idbridge.WhatIfCounts{{Connector: "ad", Type: "user", Disconnects: 1}, {Connector: "cloud", Type: "group", Updates: 1, Attributes: map[string]int{"members": 1}}, {Connector: "cloud", Type: "user", Deletes: 1}},
			metaverse: []idbridge.WhatIfCounts{{Type: "group", Updates: 1, Attributes: map[string]int{"member": 1}}, {Type: "person", Deletes: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := whatIfFixture(t, fixtureConfig{})
			before := dumpStore(t, f)
			rep, err := f.eng.WhatIf(f.ctx, testRules(t, tt.rewrite...), idbridge.WhatIfOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.conns, rep.Connectors)
			assert.Equal(t, tt.metaverse, rep.Metaverse)
			assert.Zero(t, rep.ErrorCount)
			assert.Zero(t, rep.PendingImports)
			assert.Equal(t, before, dumpStore(t, f), "a what-if writes nothing")
			_, err = json.Marshal(rep)
			require.NoError(t, err)
		})
	}
}

func TestWhatIfSamplesAndJSON(t *testing.T) {
	f := whatIfFixture(t, fixtureConfig{})
	rf := testRules(t, replace("    scope: has(source.mail)\n", "    scope: has(source.mail) && source.department != \"Research\"\n"),
		replace("      - {target: department, source: department}\n      - {target: accountEnabled, source: accountEnabled}", "      - {target: department, expression: 'source.department.upperAscii()'}\n      - {target: accountEnabled, source: accountEnabled}"))
	rep, err := f.eng.WhatIf(f.ctx, rf, idbridge.WhatIfOptions{Samples: 1})
	require.NoError(t, err)
	require.Equal(t, []idbridge.WhatIfCounts{{Connector: "cloud", Type: "user", Updates: 2, Deletes: 1, Attributes: map[string]int{"department": 2}}}, rep.Connectors)
	require.Len(t, rep.Samples, 2, "one per kind")
	up, del := rep.Samples[0], rep.Samples[1]
	assert.Equal(t, idbridge.WhatIfUpdate, up.Kind)
	assert.Equal(t, []string{"department"}, up.Attributes)
	assert.Nil(t, up.Before.Export, "in sync before")
	require.NotNil(t, up.After.Export)
	assert.Equal(t, []connector.Mod{{Name: "department", Op: connector.ModReplace, Values: s("SALES")}}, up.After.Export.Mods)
	assert.Equal(t, idbridge.WhatIfDelete, del.Kind)
	assert.Equal(t, "cn=E3,ou=users", del.After.DN)
	assert.Equal(t, connector.Delete, del.After.Export.Kind)

	data, err := json.Marshal(rep)
	require.NoError(t, err)
	var back idbridge.WhatIfReport
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, rep.Connectors, back.Connectors)
	assert.Contains(t, string(data), `"kind":"delete"`)

	rep, err = f.eng.WhatIf(f.ctx, rf, idbridge.WhatIfOptions{Samples: -1})
	require.NoError(t, err)
	assert.Empty(t, rep.Samples)
}

func TestWhatIfProvisionAndProjection(t *testing.T) {
	f := whatIfFixture(t, fixtureConfig{})
	// A new AD user, imported but not synced: the what-if includes what
	// the sync of its pending import would do.
	f.adUser("g4", "E4", "Di", "Dijkstra", 512, nil)
	_, err := f.eng.DeltaImport(f.ctx, "ad")
	require.NoError(t, err)
	rep, err := f.eng.WhatIf(f.ctx, testRules(t), idbridge.WhatIfOptions{})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.PendingImports)
	assert.Equal(t, []idbridge.WhatIfCounts{{Connector: "ad", Type: "user", Projections: 1}, {Connector: "cloud", Type: "user", Provisions: 1}}, rep.Connectors)
	assert.Equal(t, []idbridge.WhatIfCounts{{Type: "person", Projections: 1}}, rep.Metaverse)
	var prov *idbridge.WhatIfSample
	for i := range rep.Samples {
		if rep.Samples[i].Kind == idbridge.WhatIfProvision {
			prov = &rep.Samples[i]
		}
	}
	require.NotNil(t, prov)
	assert.Nil(t, prov.Before)
	assert.Equal(t, connector.Add, prov.After.Export.Kind)
	assert.Equal(t, "cn=E4,ou=users", prov.After.Export.DN)
}

func TestWhatIfLimits(t *testing.T) {
	f := whatIfFixture(t, fixtureConfig{})
	rf := testRules(t, replace("    scope: has(source.mail)\n", "    scope: false\n"))
	tests := []struct {
		name   string
		limits []idbridge.WhatIfLimit
		msg    string // "" when within the limits
	}{
		{name: "within", limits: []idbridge.WhatIfLimit{{Kind: idbridge.WhatIfDelete, Connector: "cloud", Type: "user", Max: 3}}},
		{name: "other connector", limits: []idbridge.WhatIfLimit{{Kind: idbridge.WhatIfDelete, Connector: "ad", Max: 0}}},
		{name: "deletes", limits: []idbridge.WhatIfLimit{{Kind: idbridge.WhatIfDelete, Connector: "cloud", Type: "user", Max: 2}},
			msg: `idbridge: what-if: the rule change has 3 delete of user objects in "cloud" (limit 2)`},
		{name: "any connector", limits: []idbridge.WhatIfLimit{{Kind: idbridge.WhatIfDelete, Max: 0}},
			msg: `idbridge: what-if: the rule change has 3 delete of objects in "cloud" (limit 0)`},
		{name: "metaverse untouched", limits: []idbridge.WhatIfLimit{{Kind: idbridge.WhatIfDelete, Metaverse: true, Max: 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := f.eng.WhatIf(f.ctx, rf, idbridge.WhatIfOptions{Limits: tt.limits})
			require.NotNil(t, rep)
			if tt.msg == "" {
				require.NoError(t, err)
				require.NoError(t, rep.Check(tt.limits...))
				return
			}
			require.ErrorIs(t, err, idbridge.ErrWhatIfLimit)
			var le *idbridge.WhatIfLimitError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, 3, le.Exceeded[0].Count)
			assert.EqualError(t, err, tt.msg)
		})
	}
}

func TestWhatIfRefusesBadRules(t *testing.T) {
	f := whatIfFixture(t, fixtureConfig{})
	_, err := f.eng.WhatIf(f.ctx, testRules(t, replace("    scope: has(source.mail)\n", "    scope: source.nope\n")), idbridge.WhatIfOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "what-if")
}

// TestWhatIfWritesNothing compares every store's whole content before and
// after a what-if that would change most of it.
func TestWhatIfWritesNothing(t *testing.T) {
	for _, st := range benchStores {
		t.Run(st.name, func(t *testing.T) {
			f := whatIfFixture(t, fixtureConfig{store: st.open(t)})
			f.adUser("g4", "E4", "Di", "Dijkstra", 512, nil)
			_, err := f.eng.DeltaImport(f.ctx, "ad")
			require.NoError(t, err)
			before := dumpStore(t, f)
			rep, err := f.eng.WhatIf(f.ctx, testRules(t,
				replace("    scope: has(source.mail)\n", "    scope: has(source.mail) && source.department != \"Research\"\n"),
				replace(`'source.givenName + " " + source.sn'`, `'source.sn + ", " + source.givenName'`)),
				idbridge.WhatIfOptions{})
			require.NoError(t, err)
			require.NotEmpty(t, rep.Connectors)
			require.NotEmpty(t, rep.Metaverse)
			assert.Equal(t, before, dumpStore(t, f))
		})
	}
}

// storeDump is everything a store holds that the engine reads.
type storeDump struct {
	Entries  []*metaverse.Entry
	Objects  map[string][]*metaverse.CSObject
	Counters map[string]uint64
	Marks    map[string][]byte
	Runs     []*metaverse.RunRecord
	Stats    *metaverse.Stats
}

func dumpStore(t *testing.T, f *fixture) *storeDump {
	t.Helper()
	d := &storeDump{Entries: f.entries(), Objects: map[string][]*metaverse.CSObject{}, Counters: map[string]uint64{}, Marks: map[string][]byte{}}
	require.NoError(t, f.store.View(f.ctx, func(tx metaverse.Tx) error {
		for _, c := range f.eng.Connectors() {
			for _, name := range []string{"idbridge.fullimport." + c, "idbridge.refwaits." + c} {
				v, err := tx.Counter(f.ctx, name)
				if err != nil {
					return err
				}
				d.Counters[name] = v
			}
			wm, err := tx.Watermark(f.ctx, c)
			if err != nil {
				return err
			}
			d.Marks[c] = wm
		}
		v, err := tx.Counter(f.ctx, "idbridge.seq")
		d.Counters["idbridge.seq"] = v
		if err != nil {
			return err
		}
		d.Runs, err = tx.Runs(f.ctx, "", 1000)
		return err
	}))
	for _, c := range f.eng.Connectors() {
		d.Objects[c] = f.space(c)
	}
	if st, ok := f.store.(metaverse.Statser); ok {
		var err error
		d.Stats, err = st.Stats(f.ctx)
		require.NoError(t, err)
		d.Stats.Bytes = 0 // bolt's file may grow with a read transaction's freelist
	}
	return d
}

// BenchmarkWhatIf measures a what-if on 10,000 and 100,000 synced users
// (and 1,000,000 with IDBRIDGE_BENCH_1M=1), each provisioned to the cloud
// (the enabled ones, 19 in 20), whose rule change updates the department
// of every cloud user. The shadow store is a memstore (the default) or a
// boltstore on a temporary file without fsync (WhatIfOptions.Shadow).
// Metrics: wall and CPU seconds per what-if (on a shared machine the wall
// time counts the other processes' turns too), base-MiB, the Go runtime's
// mapped memory before the what-if (the benchmark's source, held by
// memconn, and the engine's store), and peak-MiB during it. Target at
// 100k: under 30 s and 1 GiB.
//
//	go test -run '^$' -bench 'WhatIf$/store=mem/entries=100000/' -benchtime 1x .
func BenchmarkWhatIf(b *testing.B) {
	shadows := []struct {
		name string
		open func(b *testing.B) metaverse.Store
	}{
		{"mem", func(*testing.B) metaverse.Store { return nil }},
		{"bolt", func(b *testing.B) metaverse.Store {
			s, err := boltstore.Open(filepath.Join(b.TempDir(), "shadow.db"), &boltstore.Options{NoSync: true})
			require.NoError(b, err)
			b.Cleanup(func() { s.Close() })
			return s
		}},
	}
	for _, st := range benchStores {
		for _, n := range benchSizes(10_000, 100_000) {
			for _, sh := range shadows {
				b.Run(fmt.Sprintf("store=%s/entries=%d/shadow=%s", st.name, n, sh.name), func(b *testing.B) {
					ctx := context.Background()
					env := newBenchEnv(b, n, st.open(b), true)
					_, err := env.eng.FullImport(ctx, "ad")
					require.NoError(b, err)
					_, err = env.eng.FullSync(ctx, "ad")
					require.NoError(b, err)
					rf, err := rules.ParseFile("testdata/bench-rules.yaml")
					require.NoError(b, err)
					for i, f := range rf.Rules[1].Flows {
						if f.Target == "department" {
							rf.Rules[1].Flows[i].Expression = "source.department.lowerAscii()"
						}
					}
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						b.StopTimer()
						shadow := sh.open(b)
						runtime.GC()
						debug.FreeOSMemory()
						b.StartTimer()
						peak := memPeak()
						base := peak()
						peak = memPeak()
						start, cpu := time.Now(), cpuTime()
						rep, err := env.eng.WhatIf(ctx, rf, idbridge.WhatIfOptions{Shadow: shadow})
						elapsed, cpuUsed := time.Since(start), cpuTime()-cpu
						b.ReportMetric(float64(base)/(1<<20), "base-MiB")
						b.ReportMetric(float64(peak())/(1<<20), "peak-MiB")
						b.ReportMetric(elapsed.Seconds(), "s/whatif")
						b.ReportMetric(cpuUsed.Seconds(), "cpu-s/whatif")
						require.NoError(b, err)
						require.Len(b, rep.Connectors, 1)
						require.Equal(b, n-n/20, rep.Connectors[0].Attributes["department"])
					}
				})
			}
		}
	}
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestWhatIfHonoursContext(t *testing.T) {
	f := whatIfFixture(t, fixtureConfig{})
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	_, err := f.eng.WhatIf(ctx, testRules(t), idbridge.WhatIfOptions{})
	require.ErrorIs(t, err, context.Canceled)

	require.NoError(t, f.eng.Close())
	_, err = f.eng.WhatIf(f.ctx, testRules(t), idbridge.WhatIfOptions{})
	require.ErrorIs(t, err, idbridge.ErrClosed)
}
