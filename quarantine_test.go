package idbridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse/memstore"
)

// connectorsRun lists the connectors that have a run in the cycle.
func connectorsRun(cr *idbridge.CycleResult) map[string]bool {
	out := map[string]bool{}
	for _, r := range cr.Runs {
		out[r.Connector] = true
	}
	return out
}

// A connector whose credentials are refused enters quarantine at once;
// while in it the cycles skip it and the operator sees why and until when;
// a failed try doubles the back-off; a successful try takes it out.
func TestQuarantineAuthEntersAndLeaves(t *testing.T) {
	clock := newFakeClock(newEvents())
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	f := newFixture(t, idbridge.Options{Clock: clock, MeterProvider: mp,
		Quarantine: idbridge.QuarantineOptions{Backoff: 10 * time.Minute}})
	f.adUser("a1", "E1", "Ada", "Lovelace", 512, nil)
	start := clock.Now()

	f.ad.FailCall(memconn.OpImport, fmt.Errorf("bind: %w", connector.ErrAuth))
	cr, err := f.eng.Cycle(f.ctx, idbridge.Initial)
	require.ErrorIs(t, err, connector.ErrAuth)
	assert.True(t, connectorsRun(cr)["ad"], "the failed import is in the cycle")

	// What an operator sees.
	qs := f.eng.Quarantines()
	require.Len(t, qs, 1)
	q := qs[0]
	assert.Equal(t, idbridge.Quarantine{Connector: "ad", Reason: idbridge.QuarantineAuth, Step: "import",
		Detail: q.Detail, Since: start, Until: start.Add(10 * time.Minute)}, q)
	assert.Contains(t, q.Detail, "authentication failed")
	require.Len(t, cr.Skipped, 1, "the cycle skipped the sync of ad once it was quarantined")
	assert.Equal(t, "ad", cr.Skipped[0].Connector)
	assert.Equal(t, float64(1), collect(t, reader)[idbridge.MetricQuarantined]["connector=ad"])
	page, err := f.eng.History(f.ctx, idbridge.HistoryQuery{Connector: "ad", Profile: idbridge.ProfileQuarantine})
	require.NoError(t, err)
	require.Len(t, page.Runs, 1)
	assert.Contains(t, page.Runs[0].Err, "auth (import)")
	b, err := json.Marshal(qs)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"reason":"auth"`)

	// Until the back-off passes, cycles do not touch it.
	clock.Advance(9 * time.Minute)
	cr, err = f.eng.Cycle(f.ctx, idbridge.Delta)
	require.NoError(t, err)
	assert.False(t, connectorsRun(cr)["ad"], "ad runs while in quarantine")
	assert.True(t, connectorsRun(cr)["cloud"], "the other connectors run")
	require.Len(t, cr.Skipped, 1)

	// The try after the back-off fails: twice the back-off.
	clock.Advance(time.Minute)
	f.ad.FailCall(memconn.OpDeltaImport, connector.ErrAuth)
	f.ad.FailCall(memconn.OpImport, connector.ErrAuth)
	_, err = f.eng.Cycle(f.ctx, idbridge.Delta)
	require.ErrorIs(t, err, connector.ErrAuth)
	q = f.eng.Quarantines()[0]
	assert.Equal(t, 1, q.Retries)
	assert.Equal(t, start, q.Since)
	assert.Equal(t, clock.Now().Add(20*time.Minute), q.Until)

	// The credentials are fixed: the next try succeeds and ends the
	// quarantine.
	f.ad.ClearFaults()
	clock.Advance(20 * time.Minute)
	cr, err = f.eng.Cycle(f.ctx, idbridge.Delta)
	require.NoError(t, err)
	assert.True(t, connectorsRun(cr)["ad"])
	assert.Empty(t, cr.Skipped)
	assert.Empty(t, f.eng.Quarantines())
	assert.Equal(t, float64(0), collect(t, reader)[idbridge.MetricQuarantined]["connector=ad"])
	page, err = f.eng.History(f.ctx, idbridge.HistoryQuery{Connector: "ad", Profile: idbridge.ProfileQuarantineCleared})
	require.NoError(t, err)
	require.Len(t, page.Runs, 1)
	assert.NotNil(t, f.entryBy("employeeID", "E1"), "ad synced once out of quarantine")
}

// Exports that keep failing for most objects quarantine the connector after
// Quarantine.Runs runs; the state survives a restart; the operator clears it.
func TestQuarantineErrorRateRestartAndClear(t *testing.T) {
	clock := newFakeClock(newEvents())
	store := memstore.New()
	opts := idbridge.Options{Clock: clock, ExportRetryBackoff: -1,
		Quarantine: idbridge.QuarantineOptions{Runs: 2, MinErrors: 2, ErrorRate: 0.5}}
	f := newFixtureCfg(t, fixtureConfig{opts: opts, store: store})
	for i := range 4 {
		f.adUser(fmt.Sprintf("a%d", i), fmt.Sprintf("E%d", i), "Given", fmt.Sprintf("Sn%d", i), 512, nil)
	}
	f.cloud.FailExport = func(connector.Change) error { return connector.ErrUnavailable }

	_, err := f.eng.Cycle(f.ctx, idbridge.Initial)
	require.NoError(t, err, "failed exports are object errors, not a failed cycle")
	assert.Empty(t, f.eng.Quarantines(), "one bad run is not enough")
	_, err = f.eng.Cycle(f.ctx, idbridge.Delta)
	require.NoError(t, err)
	qs := f.eng.Quarantines()
	require.Len(t, qs, 1)
	assert.Equal(t, "cloud", qs[0].Connector)
	assert.Equal(t, idbridge.QuarantineErrorRate, qs[0].Reason)
	assert.Equal(t, "export", qs[0].Step)
	assert.Equal(t, "4 of 4 objects in error", qs[0].Detail)

	// A new engine on the same store (a restart) sees it.
	g := newFixtureCfg(t, fixtureConfig{opts: opts, store: store, systems: f})
	assert.Equal(t, qs, g.eng.Quarantines())
	cr, err := g.eng.Cycle(g.ctx, idbridge.Delta)
	require.NoError(t, err)
	assert.False(t, connectorsRun(cr)["cloud"])

	// The operator fixed the target and clears the quarantine.
	f.cloud.FailExport = nil
	require.NoError(t, g.eng.ClearQuarantine(g.ctx, "cloud"))
	assert.Empty(t, g.eng.Quarantines())
	require.ErrorIs(t, g.eng.ClearQuarantine(g.ctx, "cloud"), idbridge.ErrNotQuarantined)
	require.ErrorIs(t, g.eng.ClearQuarantine(g.ctx, "nope"), idbridge.ErrUnknownConnector)
	cr, err = g.eng.Cycle(g.ctx, idbridge.Delta)
	require.NoError(t, err)
	assert.Equal(t, 4, run(t, cr, "cloud", idbridge.Export).Exported)
	page, err := g.eng.History(g.ctx, idbridge.HistoryQuery{Connector: "cloud", Profile: idbridge.ProfileQuarantineCleared})
	require.NoError(t, err)
	require.Len(t, page.Runs, 1)
	assert.Equal(t, "cleared by an operator", page.Runs[0].Err)

	// And a third engine starts with no quarantine.
	h := newFixtureCfg(t, fixtureConfig{opts: opts, store: store, systems: f})
	assert.Empty(t, h.eng.Quarantines())
}

// Safety stops, cancelled runs and sync errors do not quarantine.
func TestQuarantineIgnores(t *testing.T) {
	f := newFixture(t, idbridge.Options{Quarantine: idbridge.QuarantineOptions{Runs: 1}})
	f.adUser("a1", "E1", "Ada", "Lovelace", 512, nil)
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	_, err := f.eng.FullImport(ctx, "ad")
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, f.eng.Quarantines())

	off := newFixture(t, idbridge.Options{Quarantine: idbridge.QuarantineOptions{Disabled: true}})
	off.ad.FailCall(memconn.OpImport, connector.ErrAuth)
	_, err = off.eng.FullImport(off.ctx, "ad")
	require.ErrorIs(t, err, connector.ErrAuth)
	assert.Empty(t, off.eng.Quarantines())
}
