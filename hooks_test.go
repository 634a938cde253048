package idbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
)

// hookLog records the hook calls of a run, in order.
type hookLog struct {
	calls    []string
	progress []idbridge.Progress
	errs     []idbridge.ObjectErrorEvent
	exports  []idbridge.ExportEvent
	ends     map[string]*idbridge.RunResult
}

func (h *hookLog) hooks() idbridge.Hooks {
	h.ends = map[string]*idbridge.RunResult{}
	return idbridge.Hooks{
		RunStart: func(ri idbridge.RunInfo) { h.calls = append(h.calls, "start "+ri.Connector+" "+string(ri.Profile)) },
		RunEnd: func(ri idbridge.RunInfo, r *idbridge.RunResult, err error) {
			h.calls = append(h.calls, "end "+ri.Connector+" "+string(ri.Profile))
			h.ends[ri.Connector+" "+string(ri.Profile)] = r
		},
		Progress:        func(p idbridge.Progress) { h.progress = append(h.progress, p) },
		ObjectError:     func(ev idbridge.ObjectErrorEvent) { h.errs = append(h.errs, ev) },
		ExportConfirmed: func(ev idbridge.ExportEvent) { h.exports = append(h.exports, ev) },
	}
}

func TestHooks(t *testing.T) {
	var h hookLog
	f := newFixture(t, idbridge.Options{Hooks: h.hooks(), ProgressEvery: 4, BatchSize: 3})
	for i := range 10 {
		f.adUser(fmt.Sprintf("a%02d", i), fmt.Sprintf("E%02d", i), "Given", fmt.Sprintf("Sn%02d", i), 512, nil)
	}
	f.ad.FailObject(memconn.OpImport, "a04", connector.ErrInvalidObject)
	cr := f.cycle(idbridge.Initial)

	// Start and end around each run, in the cycle's order.
	var want []string
	for _, r := range cr.Runs {
		want = append(want, "start "+r.Connector+" "+string(r.Profile), "end "+r.Connector+" "+string(r.Profile))
		assert.Same(t, r, h.ends[r.Connector+" "+string(r.Profile)])
	}
	assert.Equal(t, want, h.calls)

	// Progress: every 4 objects (at batch ends), and a final report per run.
	imp := run(t, cr, "ad", idbridge.FullImport)
	var adImport []idbridge.Progress
	for _, p := range h.progress {
		if p.Connector == "ad" && p.Profile == idbridge.FullImport {
			adImport = append(adImport, p)
		}
	}
	require.NotEmpty(t, adImport)
	last := adImport[len(adImport)-1]
	assert.True(t, last.Final)
	assert.Equal(t, imp.Read, last.Done)
	assert.Equal(t, 1, last.Errors)
	assert.GreaterOrEqual(t, len(adImport), 2, "an intermediate report: %+v", adImport)
	for i := 1; i < len(adImport); i++ {
		assert.GreaterOrEqual(t, adImport[i].Done, adImport[i-1].Done)
	}
	finals := 0
	for _, p := range h.progress {
		if p.Final {
			finals++
		}
	}
	assert.Equal(t, len(cr.Runs), finals, "one final report per run")

	// Object errors as they happened, with the run's profile.
	require.Len(t, h.errs, 1)
	assert.Equal(t, "ad", h.errs[0].Connector)
	assert.Equal(t, idbridge.FullImport, h.errs[0].Profile)
	assert.ErrorIs(t, h.errs[0].Error, connector.ErrInvalidObject)
	assert.Contains(t, h.errs[0].Text, "import")

	// Every accepted export.
	exp := run(t, cr, "cloud", idbridge.Export)
	require.Len(t, h.exports, exp.Exported)
	assert.Equal(t, "add", h.exports[0].Kind)
	assert.NotEmpty(t, h.exports[0].ObjectID)
	assert.NotEmpty(t, h.exports[0].DN)
}

// A hook that panics is recovered and logged; the run completes as it
// would have without it, and the hook is called again.
func TestHooksPanicDoesNotCorruptRun(t *testing.T) {
	var logs bytes.Buffer
	calls := 0
	boom := func() { calls++; panic("hook bug") }
	opts := idbridge.Options{
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Hooks: idbridge.Hooks{
			RunStart:        func(idbridge.RunInfo) { boom() },
			RunEnd:          func(idbridge.RunInfo, *idbridge.RunResult, error) { boom() },
			Progress:        func(idbridge.Progress) { boom() },
			ObjectError:     func(idbridge.ObjectErrorEvent) { boom() },
			ExportConfirmed: func(idbridge.ExportEvent) { boom() },
		},
		ProgressEvery: 1,
	}
	f := newFixture(t, opts)
	plain := newFixture(t, idbridge.Options{})
	for _, x := range []*fixture{f, plain} {
		for i := range 5 {
			x.adUser(fmt.Sprintf("a%02d", i), fmt.Sprintf("E%02d", i), "Given", fmt.Sprintf("Sn%02d", i), 512, nil)
		}
		x.ad.FailObject(memconn.OpImport, "a01", connector.ErrInvalidObject)
	}
	got := f.cycle(idbridge.Initial)
	want := plain.cycle(idbridge.Initial)
	require.Len(t, got.Runs, len(want.Runs))
	for i := range want.Runs {
		assert.Equal(t, want.Runs[i].String(), got.Runs[i].String())
	}
	assert.Equal(t, len(plain.entries()), len(f.entries()))
	assert.Greater(t, calls, 2*len(got.Runs), "each hook called at each event")
	assert.Contains(t, logs.String(), `"msg":"idbridge: hook panicked; the run goes on"`)
	assert.Contains(t, logs.String(), `"panic":"hook bug"`)
}

// tickingConn advances a fake clock by step at each object it imports.
type tickingConn struct {
	*memconn.Connector
	clock *fakeClock
	step  time.Duration
}

func (c tickingConn) Import(ctx context.Context, sink connector.ImportSink) error {
	return c.Connector.Import(ctx, tickingSink{sink, c})
}

type tickingSink struct {
	connector.ImportSink
	c tickingConn
}

func (s tickingSink) Object(ctx context.Context, ch connector.Change) error {
	s.c.clock.Advance(s.c.step)
	return s.ImportSink.Object(ctx, ch)
}

// Progress reports come every ProgressInterval too, on the engine's clock,
// with a rate.
func TestProgressInterval(t *testing.T) {
	clock := newFakeClock(newEvents())
	var got []idbridge.Progress
	f := newFixtureCfg(t, fixtureConfig{
		opts: idbridge.Options{Clock: clock, ProgressEvery: 1_000_000, ProgressInterval: 3 * time.Second, BatchSize: 2,
			Hooks: idbridge.Hooks{Progress: func(p idbridge.Progress) { got = append(got, p) }}},
		adConn: func(c *memconn.Connector) connector.Connector { return tickingConn{c, clock, time.Second} },
	})
	for i := range 6 {
		f.adUser(fmt.Sprintf("a%02d", i), fmt.Sprintf("E%02d", i), "Given", fmt.Sprintf("Sn%02d", i), 512, nil)
	}
	_, err := f.eng.FullImport(f.ctx, "ad")
	require.NoError(t, err)
	// Batches of 2 objects, one second each: due at 4 s (3 s passed) and
	// at 6 s (well, the next batch end at least 3 s after 4 s: none), then
	// the final report.
	require.Len(t, got, 2, "%+v", got)
	assert.Equal(t, idbridge.Progress{Connector: "ad", Profile: idbridge.FullImport, Done: 4, Elapsed: 4 * time.Second, Rate: 1}, got[0])
	assert.Equal(t, idbridge.Progress{Connector: "ad", Profile: idbridge.FullImport, Done: 6, Elapsed: 6 * time.Second, Rate: 1, Final: true}, got[1])
}

func TestProgressJSON(t *testing.T) {
	p := idbridge.Progress{Connector: "ad", Profile: idbridge.FullSync, Done: 50, Total: 200, Elapsed: 10 * time.Second, Rate: 5, ETA: 30 * time.Second}
	b, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, `{"connector":"ad","profile":"FullSync","done":50,"total":200,"errors":0,"elapsed":10000000000,"rate":5,"eta":30000000000}`, string(b))
	assert.False(t, strings.Contains(string(b), "final"))
}

// A sync's progress has a total (the connector space, from the store's
// counts) and an ETA.
func TestProgressSyncTotal(t *testing.T) {
	clock := newFakeClock(newEvents())
	var got []idbridge.Progress
	f := newFixture(t, idbridge.Options{Clock: clock, ProgressEvery: 2, BatchSize: 2,
		Hooks: idbridge.Hooks{Progress: func(p idbridge.Progress) {
			got = append(got, p)
			clock.Advance(time.Second) // each batch takes a second
		}}})
	for i := range 6 {
		f.adUser(fmt.Sprintf("a%02d", i), fmt.Sprintf("E%02d", i), "Given", fmt.Sprintf("Sn%02d", i), 512, nil)
	}
	_, err := f.eng.FullImport(f.ctx, "ad")
	require.NoError(t, err)
	got = nil
	_, err = f.eng.FullSync(f.ctx, "ad")
	require.NoError(t, err)
	require.NotEmpty(t, got)
	for _, p := range got {
		assert.Equal(t, 6, p.Total)
	}
	assert.Equal(t, idbridge.Progress{Connector: "ad", Profile: idbridge.FullSync, Done: 4, Total: 6, Elapsed: time.Second, Rate: 4, ETA: 500 * time.Millisecond}, got[1])
	assert.True(t, got[len(got)-1].Final)
}

// The run's log record has the counts as fields of their own; object
// errors carry the object's anchor and DN; no secret appears.
func TestRunLogFields(t *testing.T) {
	var buf bytes.Buffer
	f := newFixture(t, idbridge.Options{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	f.adUser("a1", "E1", "Ada", "Lovelace", 512, nil)
	f.adUser("a2", "E2", "Grace", "Hopper", 512, nil)
	f.ad.FailObject(memconn.OpImport, "a2", connector.ErrInvalidObject)
	_, err := f.eng.FullImport(f.ctx, "ad")
	require.NoError(t, err)

	var run, objErr map[string]any
	for line := range strings.Lines(buf.String()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		switch m["msg"] {
		case "idbridge: run":
			run = m
		case "idbridge: object error":
			objErr = m
		}
	}
	require.NotNil(t, run, buf.String())
	assert.Equal(t, "ad", run["connector"])
	assert.Equal(t, "FullImport", run["profile"])
	assert.Equal(t, "completed-errors", run["outcome"])
	assert.EqualValues(t, 1, run["adds"])
	assert.EqualValues(t, 1, run["errors"])
	require.NotNil(t, objErr, buf.String())
	assert.Equal(t, "ad", objErr["connector"])
	assert.Equal(t, "import", objErr["step"])
	assert.Equal(t, "a2", objErr["anchor"])
	assert.NotEmpty(t, objErr["err"])
}

func TestOperationsOptionsValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		opts idbridge.Options
		want string
	}{
		{"ProgressEvery", idbridge.Options{ProgressEvery: -1}, "ProgressEvery"},
		{"ProgressInterval", idbridge.Options{ProgressInterval: -time.Second}, "ProgressInterval"},
		{"QuarantineRuns", idbridge.Options{Quarantine: idbridge.QuarantineOptions{Runs: -1}}, "Quarantine.Runs"},
		{"QuarantineRate", idbridge.Options{Quarantine: idbridge.QuarantineOptions{ErrorRate: 1.5}}, "Quarantine.ErrorRate"},
		{"QuarantineBackoff", idbridge.Options{Quarantine: idbridge.QuarantineOptions{Backoff: -time.Second}}, "Quarantine.Backoff"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.opts.Validate()
			require.ErrorIs(t, err, idbridge.ErrInvalidOptions)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	ok := idbridge.Options{ProgressEvery: 10, HistoryRetention: idbridge.HistoryRetention{Runs: -1, Age: -1},
		Quarantine: idbridge.QuarantineOptions{Runs: 5, ErrorRate: 1, Backoff: time.Minute}}
	require.NoError(t, ok.Validate())
}
