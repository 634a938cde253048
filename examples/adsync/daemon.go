package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/admin"
	"github.com/idbridge/idbridge/ha"
)

// meterName is the instrumentation scope of the daemon's own metrics.
const meterName = "github.com/idbridge/idbridge/examples/adsync"

// state is what /readyz reports.
type state struct {
	ready atomic.Bool
	// role is "", "leader" or "standby" (with HA).
	role atomic.Pointer[string]
}

func (s *state) setRole(r string) { s.role.Store(&r) }

func (s *state) roleName() string {
	if r := s.role.Load(); r != nil {
		return *r
	}
	return ""
}

// cycleMetrics are the daemon's own instruments: cycles and leadership.
// The engine records the rest (idbridge.run.count, idbridge.objects, …)
// through the MeterProvider it is given.
type cycleMetrics struct {
	cycles   metric.Int64Counter
	duration metric.Float64Histogram
	leader   metric.Int64Gauge
}

func newCycleMetrics(mp metric.MeterProvider) (*cycleMetrics, error) {
	m := mp.Meter(meterName)
	var cm cycleMetrics
	var errs [3]error
	cm.cycles, errs[0] = m.Int64Counter("adsync.cycles", metric.WithUnit("{cycle}"),
		metric.WithDescription("Sync cycles the daemon ran, by mode and outcome (success, failure)."))
	cm.duration, errs[1] = m.Float64Histogram("adsync.cycle.duration", metric.WithUnit("s"),
		metric.WithDescription("Wall time of sync cycles."))
	cm.leader, errs[2] = m.Int64Gauge("adsync.ha.leader", metric.WithUnit("{leader}"),
		metric.WithDescription("1 while this node leads (runs the engine), 0 while it is a standby."))
	return &cm, errors.Join(errs[:]...)
}

func (cm *cycleMetrics) record(ctx context.Context, c *idbridge.CycleResult, err error) {
	outcome := "success"
	if err != nil {
		outcome = "failure"
	}
	mode := ""
	if c != nil {
		mode = c.Mode.String()
	}
	attrs := metric.WithAttributes(attribute.String("mode", mode), attribute.String("outcome", outcome))
	cm.cycles.Add(ctx, 1, attrs)
	if c != nil && !c.Ended.IsZero() {
		cm.duration.Record(ctx, c.Ended.Sub(c.Started).Seconds(), attrs)
	}
}

// runDaemon is the run subcommand: it serves HTTP and runs the engine on
// the schedule (or, with HA, while this node leads) until ctx ends, then
// returns nil: a SIGTERM is a normal stop. The run in progress is cancelled
// between batches: what it committed is kept, with its watermark, and the
// next start carries on from there.
func (c *cli) runDaemon(ctx context.Context, args []string) error {
	fs := c.flags("run", "run the sync daemon: cycles on the schedule, change notification, HTTP endpoints")
	configPath := c.configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := LoadConfig(*configPath)
	if err != nil {
		return err
	}
	logger := c.logger(cfg.Log)
	stopLog := context.AfterFunc(ctx, func() {
		logger.Info("stopping: the run in progress ends after its current batch, keeping what it committed")
	})
	defer stopLog()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer func() { _ = mp.Shutdown(context.WithoutCancel(ctx)) }()
	cm, err := newCycleMetrics(mp)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}

	var st state
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !st.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		if r := st.roleName(); r != "" {
			fmt.Fprintln(w, "ready:", r)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	var adminPage atomic.Pointer[http.Handler]
	mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		if h := adminPage.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "starting", http.StatusServiceUnavailable)
	})
	mux.Handle("GET /{$}", http.RedirectHandler("/admin/", http.StatusFound))
	stopHTTP, err := c.serveHTTP(ctx, cfg.HTTP.Listen, mux, logger)
	if err != nil {
		return err
	}
	defer stopHTTP()

	p, err := build(ctx, cfg, logger, false)
	if err != nil {
		return err
	}
	defer func() {
		if err := p.Close(); err != nil {
			logger.Warn("close", "err", err)
		}
	}()
	opts := engineOptions(cfg.Engine, logger)
	opts.MeterProvider = mp
	c.withProgress(&opts)
	// The admin page's dashboard shows the runs in progress too.
	live := admin.NewLive()
	if term := opts.Hooks.Progress; term != nil {
		opts.Hooks.Progress = func(p idbridge.Progress) { live.Progress(p); term(p) }
	} else {
		opts.Hooks.Progress = live.Progress
	}
	sched := schedule(cfg.Schedule)
	sched.OnCycle = func(res *idbridge.CycleResult, err error) {
		cm.record(context.WithoutCancel(ctx), res, err)
		logCycle(logger, res, err)
		if c.cycled != nil {
			c.cycled(res, err)
		}
	}
	ecfg := idbridge.Config{Store: p.store, Connectors: p.connectors, Rules: p.rules, Options: opts}

	if cfg.HA == nil {
		eng, err := idbridge.New(ctx, ecfg)
		if err != nil {
			return err
		}
		defer eng.Close()
		h := adminHandler(eng, logger, live)
		adminPage.Store(&h)
		st.ready.Store(true)
		logger.Info("running", "connectors", eng.Connectors(), "staging", eng.Staging(), "interval", sched.Interval)
		return ignoreStop(ctx, eng.Run(ctx, sched))
	}

	elector, closer, err := newElector(ctx, cfg.HA, cfg.Store.DSN, logger)
	if err != nil {
		return fmt.Errorf("ha: %w", err)
	}
	defer func() { _ = elector.Close(); _ = closer.Close() }()
	key := cfg.HA.Key
	if key == "" {
		key = "adsync"
	}
	leader := func(on bool) {
		v := int64(0)
		role := "standby"
		if on {
			v, role = 1, "leader"
		}
		st.setRole(role)
		cm.leader.Record(context.WithoutCancel(ctx), v)
	}
	runner, err := ha.NewRunner(ha.RunnerConfig{
		Elector:  elector,
		Key:      key,
		Engine:   ecfg,
		Schedule: sched,
		Unfenced: cfg.Store.Type != "postgres",
		Logger:   logger,
		OnLead:   func(ha.Lease) { leader(true) },
		OnLoss:   func(_ ha.Lease, err error) { leader(false); logger.Info("leadership ended", "err", err) },
	})
	if err != nil {
		return fmt.Errorf("ha: %w", err)
	}
	// A standby serves the admin page from an engine of its own on the
	// shared store, for queries: it never runs nor exports.
	qcfg := ecfg
	qcfg.Options.Staging = true
	// Its runs are none: it records no metrics and reports no progress,
	// which would double the leader engine's.
	qcfg.Options.MeterProvider = nil
	qcfg.Options.Hooks = idbridge.Hooks{}
	if q, err := idbridge.New(ctx, qcfg); err == nil {
		defer q.Close()
		h := adminHandler(q, logger, live)
		adminPage.Store(&h)
	} else {
		logger.Warn("admin page unavailable", "err", err)
	}
	leader(false)
	st.ready.Store(true)
	logger.Info("campaigning", "elector", cfg.HA.Elector, "key", key)
	return ignoreStop(ctx, runner.Run(ctx))
}

// ignoreStop turns the error of a run ended by ctx (SIGTERM) into nil.
func ignoreStop(ctx context.Context, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, idbridge.ErrClosed)) {
		return nil
	}
	return err
}

// serveHTTP listens on addr (nothing when empty) and serves h until the
// returned stop is called, which shuts the server down gracefully.
func (c *cli) serveHTTP(ctx context.Context, addr string, h http.Handler, logger *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server", "err", err)
		}
	}()
	logger.Info("http: listening", "addr", ln.Addr().String())
	if c.listening != nil {
		c.listening(ln.Addr())
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	}, nil
}

// logCycle writes a cycle's summary: one record per run, counts as fields.
func logCycle(logger *slog.Logger, res *idbridge.CycleResult, err error) {
	if err != nil {
		logger.Warn("cycle failed", "err", err)
	}
	if res == nil {
		return
	}
	logger.Info("cycle", "mode", res.Mode.String(), "runs", len(res.Runs), "errors", len(res.Errors()), "duration", res.Ended.Sub(res.Started))
}
