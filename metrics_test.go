package idbridge_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
)

// collected is what a ManualReader collected, by metric name and then by
// the data point's attributes ("connector=ad,operation=add,profile=…").
type collected map[string]map[string]float64

func collect(t *testing.T, r *sdkmetric.ManualReader) collected {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := collected{}
	key := func(set attribute.Set) string { return set.Encoded(attribute.DefaultEncoder()) }
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			points := map[string]float64{}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					points[key(p.Attributes)] = float64(p.Value)
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					points[key(p.Attributes)] = p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					points[key(p.Attributes)] = float64(p.Value)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					points[key(p.Attributes)] = p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					points[key(p.Attributes)] = float64(p.Count)
				}
			}
			out[m.Name] = points
		}
	}
	return out
}

// objectsOf is what idbridge.objects should hold after the runs: their
// non-zero counts by connector, profile and operation.
func objectsOf(runs []*idbridge.RunResult) map[string]float64 {
	ops := map[string]func(*idbridge.RunResult) int{
		"add": func(r *idbridge.RunResult) int { return r.Adds }, "update": func(r *idbridge.RunResult) int { return r.Updates },
		"rename": func(r *idbridge.RunResult) int { return r.Renames }, "delete": func(r *idbridge.RunResult) int { return r.Deletes },
		"unchanged": func(r *idbridge.RunResult) int { return r.Unchanged }, "confirm": func(r *idbridge.RunResult) int { return r.Confirmed },
		"project": func(r *idbridge.RunResult) int { return r.Projections }, "join": func(r *idbridge.RunResult) int { return r.Joins },
		"disconnect": func(r *idbridge.RunResult) int { return r.Disconnects }, "metaverse_update": func(r *idbridge.RunResult) int { return r.MetaverseUpdates },
		"metaverse_delete": func(r *idbridge.RunResult) int { return r.MetaverseDeletes }, "provision": func(r *idbridge.RunResult) int { return r.Provisions },
		"export_update": func(r *idbridge.RunResult) int { return r.ExportUpdates }, "deprovision": func(r *idbridge.RunResult) int { return r.Deprovisions },
		"export": func(r *idbridge.RunResult) int { return r.Exported }, "export_failed": func(r *idbridge.RunResult) int { return r.ExportFailed },
		"export_parked": func(r *idbridge.RunResult) int { return r.ExportParked }, "export_deferred": func(r *idbridge.RunResult) int { return r.ExportDeferred },
	}
	out := map[string]float64{}
	for _, r := range runs {
		for op, n := range ops {
			if v := n(r); v != 0 {
				out[fmt.Sprintf("connector=%s,operation=%s,profile=%s", r.Connector, op, r.Profile)] += float64(v)
			}
		}
	}
	return out
}

func TestMetricsEqualRunResults(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	f := newFixture(t, idbridge.Options{MeterProvider: mp})
	for i := range 30 {
		f.adUser(fmt.Sprintf("a%02d", i), fmt.Sprintf("E%02d", i), "Given", fmt.Sprintf("Sn%02d", i), 512, nil)
	}
	f.ad.FailObject(memconn.OpImport, "a07", connector.ErrInvalidObject)
	f.cloud.FailObject(memconn.OpExport, "CN=Given Sn03,OU=Users,DC=contoso,DC=com", connector.ErrConstraint)

	var runs []*idbridge.RunResult
	cr, err := f.eng.Cycle(f.ctx, idbridge.Initial)
	require.NoError(t, err)
	runs = append(runs, cr.Runs...)
	cr, err = f.eng.Cycle(f.ctx, idbridge.Delta)
	require.NoError(t, err)
	runs = append(runs, cr.Runs...)

	got := collect(t, reader)
	assert.Equal(t, objectsOf(runs), got[idbridge.MetricObjects], "idbridge.objects equals the RunResults' counts")

	wantRuns, wantErrs := map[string]float64{}, map[string]float64{}
	for _, r := range runs {
		wantRuns[fmt.Sprintf("connector=%s,outcome=%s,profile=%s", r.Connector, idbridge.RunOutcome(r, nil), r.Profile)]++
		for _, oe := range r.Errors {
			typ := oe.Step
			if typ == "export add" || typ == "export update" {
				typ = "export"
			}
			wantErrs[fmt.Sprintf("connector=%s,type=%s", r.Connector, typ)]++
		}
	}
	assert.Equal(t, wantRuns, got[idbridge.MetricRunCount])
	assert.Equal(t, wantRuns, got[idbridge.MetricRunDuration], "one duration per run")
	assert.Equal(t, wantErrs, got[idbridge.MetricErrors])
	assert.NotEmpty(t, wantErrs, "the test injects errors")
	assert.Contains(t, got[idbridge.MetricExportLatency], "connector=cloud")

	// Gauges.
	assert.Equal(t, map[string]float64{"connector=ad": 0, "connector=cloud": 0, "connector=hr": 0}, got[idbridge.MetricQuarantined])
	pending, err := f.eng.PendingExports(f.ctx, "cloud", 0)
	require.NoError(t, err)
	assert.Equal(t, float64(len(pending)), got[idbridge.MetricPending]["connector=cloud"])
	require.Contains(t, got, idbridge.MetricLastSuccess)
	assert.Equal(t, float64(cr.Ended.UnixNano())/1e9, got[idbridge.MetricLastSuccess][""])
}

// A failed run counts as outcome failed and as an error of type run.
func TestMetricsFailedRun(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	f := newFixture(t, idbridge.Options{MeterProvider: mp})
	down := errors.New("server down")
	f.ad.FailCall(memconn.OpImport, down)
	_, err := f.eng.FullImport(f.ctx, "ad")
	require.ErrorIs(t, err, down)
	got := collect(t, reader)
	assert.Equal(t, map[string]float64{"connector=ad,outcome=failed,profile=FullImport": 1}, got[idbridge.MetricRunCount])
	assert.Equal(t, map[string]float64{"connector=ad,type=run": 1}, got[idbridge.MetricErrors])
}

// throttleConn reports throttling.
type throttleConn struct {
	*memconn.Connector
}

func (throttleConn) ThrottleStats() connector.ThrottleStats {
	return connector.ThrottleStats{Throttled: 7, Waited: 1500 * 1e6}
}

func TestMetricsThrottle(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	newFixtureCfg(t, fixtureConfig{opts: idbridge.Options{MeterProvider: mp},
		adConn: func(c *memconn.Connector) connector.Connector { return throttleConn{c} }})
	got := collect(t, reader)
	assert.Equal(t, map[string]float64{"connector=ad": 7}, got[idbridge.MetricThrottled])
	assert.Equal(t, map[string]float64{"connector=ad": 1.5}, got[idbridge.MetricThrottleWait])
}

// The observable instruments are read from the exporter's goroutine while
// runs go on; after Close they are no longer reported.
func TestMetricsCollectDuringRunsAndClose(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	f := newFixture(t, idbridge.Options{MeterProvider: mp})
	for i := range 20 {
		f.adUser(fmt.Sprintf("a%02d", i), fmt.Sprintf("E%02d", i), "Given", fmt.Sprintf("Sn%02d", i), 512, nil)
	}
	done := make(chan error)
	go func() {
		_, err := f.eng.Cycle(f.ctx, idbridge.Initial)
		done <- err
	}()
	for running := true; running; {
		select {
		case err := <-done:
			require.NoError(t, err)
			running = false
		default:
			collect(t, reader)
		}
	}
	require.Contains(t, collect(t, reader), idbridge.MetricQuarantined)
	require.NoError(t, f.eng.Close())
	assert.NotContains(t, collect(t, reader), idbridge.MetricQuarantined)
}
