package ha_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/ha"
	"github.com/idbridge/idbridge/ha/etcdelector"
	"github.com/idbridge/idbridge/ha/internal/remoteconn"
	"github.com/idbridge/idbridge/ha/pgelector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/metaverse/pgstore"
	"github.com/idbridge/idbridge/rules"
)

// The engine child processes of the failover tests: the test binary runs
// itself with IDBRIDGE_HA_CHILD set, and childMain runs an ha.Runner with
// an engine that syncs the test process's "src" system to its "dst"
// system (remoteconn), printing events as JSON lines on stdout.

const failoverRules = `
metaverse:
  types:
    - name: person
      attributes:
        - {name: uid, type: string}
        - {name: mail, type: string}
        - {name: title, type: string}
rules:
  - name: In from src
    direction: inbound
    connector: src
    source: user
    target: person
    precedence: 100
    linkType: Provision
    join:
      - [{source: source.uid, target: uid}]
    flows:
      - {target: uid, source: uid}
      - {target: mail, source: mail}
      - {target: title, source: title}
  - name: Out to dst
    direction: outbound
    connector: dst
    source: person
    target: user
    precedence: 100
    linkType: Provision
    flows:
      - {target: dn, expression: '"cn=" + source.uid + ",ou=users"'}
      - {target: displayName, source: uid}
      - {target: mail, source: mail}
      - {target: title, source: title}
`

var (
	srcSchema = &connector.Schema{Types: []connector.ObjectType{{Name: "user", Attributes: []connector.Attribute{
		{Name: "uid", Type: connector.String}, {Name: "mail", Type: connector.String}, {Name: "title", Type: connector.String},
	}}}}
	dstSchema = &connector.Schema{Types: []connector.ObjectType{{Name: "user", Attributes: []connector.Attribute{
		{Name: "displayName", Type: connector.String}, {Name: "mail", Type: connector.String}, {Name: "title", Type: connector.String},
	}}}}
)

// event is one line a child prints.
type event struct {
	Ev   string `json:"ev"`
	Node string `json:"node"`
	Term uint64 `json:"term,omitempty"`
	At   int64  `json:"at"` // unix nanoseconds
	Err  string `json:"err,omitempty"`
	// Fenced: the error matched ha.ErrFenced.
	Fenced bool `json:"fenced,omitempty"`
	// Key is the engine of a fleet event.
	Key string `json:"key,omitempty"`
}

type emitter struct {
	mu   sync.Mutex
	node string
	enc  *json.Encoder
}

func (e *emitter) emit(ev event) {
	ev.Node, ev.At = e.node, time.Now().UnixNano()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.enc.Encode(ev)
}

// stallStore makes the next write transaction that cannot be cancelled
// (the engine records export results and run history under
// context.WithoutCancel) wait before its commit, from SIGUSR1 until
// SIGUSR2: a process paused between its write and its commit, the case
// fencing exists for.
type stallStore struct {
	*pgstore.Store
	armed   *atomic.Bool
	release chan struct{}
	out     *emitter
}

func (s stallStore) Fenced(key string, term uint64) metaverse.Store {
	return stallFenced{Store: s.Store.Fenced(key, term), s: s, term: term}
}

type stallFenced struct {
	metaverse.Store
	s    stallStore
	term uint64
}

func (f stallFenced) Update(ctx context.Context, fn func(tx metaverse.Tx) error) error {
	stalled := false
	err := f.Store.Update(ctx, func(tx metaverse.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if ctx.Done() == nil && f.s.armed.CompareAndSwap(true, false) {
			stalled = true
			f.s.out.emit(event{Ev: "stalled", Term: f.term})
			<-f.s.release
		}
		return nil
	})
	if stalled {
		ev := event{Ev: "late-commit", Term: f.term, Fenced: errors.Is(err, ha.ErrFenced)}
		if err != nil {
			ev.Err = err.Error()
		}
		f.s.out.emit(ev)
	}
	return err
}

func childEnv(name string) string { return os.Getenv("IDBRIDGE_HA_" + name) }

func childMain() int {
	out := &emitter{node: childEnv("NODE"), enc: json.NewEncoder(os.Stdout)}
	fail := func(err error) int {
		out.emit(event{Ev: "fatal", Err: err.Error()})
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ttl, _ := time.ParseDuration(childEnv("TTL"))
	store, err := pgstore.Open(ctx, childEnv("DSN"), &pgstore.Options{Schema: childEnv("SCHEMA"), MaxConns: 4, ApplicationName: out.node})
	if err != nil {
		return fail(err)
	}
	defer store.Close()
	var elector ha.Elector
	switch childEnv("ELECTOR") {
	case "etcd":
		cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(childEnv("ELECTOR_ADDR"), ","), DialTimeout: ttl})
		if err != nil {
			return fail(err)
		}
		defer cli.Close()
		e, err := etcdelector.New(cli, &etcdelector.Options{Prefix: childEnv("PREFIX"), TTL: ttl, Holder: out.node})
		if err != nil {
			return fail(err)
		}
		elector = e
	default:
		e, err := pgelector.Open(ctx, childEnv("ELECTOR_ADDR"), &pgelector.Options{Schema: childEnv("SCHEMA"), TTL: ttl, Holder: out.node})
		if err != nil {
			return fail(err)
		}
		elector = e
	}
	defer elector.Close()

	if childEnv("FLEET") != "" {
		return fleetMain(out, ctx, elector)
	}
	stall := stallStore{Store: store, armed: new(atomic.Bool), release: make(chan struct{}), out: out}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for s := range sigs {
			if s == syscall.SIGUSR1 {
				stall.armed.Store(true)
			} else {
				close(stall.release)
			}
		}
	}()

	var term atomic.Uint64
	base := childEnv("URL")
	rf, err := rules.Parse("failover.yaml", []byte(failoverRules))
	if err != nil {
		return fail(err)
	}
	interval, _ := time.ParseDuration(childEnv("INTERVAL"))
	r, err := ha.NewRunner(ha.RunnerConfig{
		Elector: elector,
		Key:     "engine",
		Engine: idbridge.Config{
			Store: stall,
			Connectors: map[string]connector.Connector{
				"src": &remoteconn.Client{URL: base + "/src", Types: srcSchema, Node: out.node},
				"dst": &remoteconn.Client{URL: base + "/dst", Types: dstSchema, Node: out.node, Term: term.Load},
			},
			Rules: rf,
			// The stream deletes and recreates many objects at once, on
			// purpose: the mass-change guard's relative limits would stop
			// it, and a transient refusal must not wait a minute.
			Options: idbridge.Options{ExportBatchSize: 8, BatchSize: 50, ExportRetryBackoff: 200 * time.Millisecond,
				MassChange: idbridge.MassChangeOptions{DeletePercent: -1, DisablePercent: -1, UpdatePercent: -1}},
		},
		Schedule: idbridge.Schedule{Interval: interval, OnCycle: func(_ *idbridge.CycleResult, err error) {
			ev := event{Ev: "cycle", Term: term.Load()}
			if err != nil {
				ev.Err, ev.Fenced = err.Error(), errors.Is(err, ha.ErrFenced)
			}
			out.emit(ev)
		}},
		OnLead: func(l ha.Lease) {
			term.Store(l.Term())
			out.emit(event{Ev: "lead", Term: l.Term()})
		},
		OnLoss: func(l ha.Lease, err error) {
			ev := event{Ev: "loss", Term: l.Term()}
			if err != nil {
				ev.Err = err.Error()
			}
			out.emit(ev)
		},
	})
	if err != nil {
		return fail(err)
	}
	out.emit(event{Ev: "start"})
	if err := r.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fail(fmt.Errorf("runner: %w", err))
	}
	return 0
}

// fleetMain runs a node of the fleet test: ENGINES engines, CAPACITY of
// them at most on this node, each with its own in-memory store and
// systems.
func fleetMain(out *emitter, ctx context.Context, elector ha.Elector) int {
	rf, err := rules.Parse("failover.yaml", []byte(failoverRules))
	if err != nil {
		out.emit(event{Ev: "fatal", Err: err.Error()})
		return 1
	}
	n, _ := strconv.Atoi(childEnv("ENGINES"))
	capacity, _ := strconv.Atoi(childEnv("CAPACITY"))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("tenant%02d", i)
	}
	f, err := ha.NewFleet(ha.FleetConfig{
		Elector:  elector,
		Keys:     keys,
		Capacity: capacity,
		Unfenced: true, // each node's engines keep their state in memory: this test is about who leads
		Engine: func(ctx context.Context, key string) (idbridge.Config, error) {
			src, dst := memconn.New(srcSchema), memconn.New(dstSchema)
			for i := range 3 {
				srcUser(src, fmt.Sprintf("%s-u%d", key, i), "t")
			}
			return idbridge.Config{Store: memstore.New(), Rules: rf,
				Connectors: map[string]connector.Connector{"src": src.Connector(), "dst": dst.Connector()}}, nil
		},
		Schedule: idbridge.Schedule{Interval: time.Second},
		OnLead:   func(key string, l ha.Lease) { out.emit(event{Ev: "lead", Key: key, Term: l.Term()}) },
		OnLoss: func(key string, l ha.Lease, err error) {
			ev := event{Ev: "loss", Key: key, Term: l.Term()}
			if err != nil {
				ev.Err = err.Error()
			}
			out.emit(ev)
		},
	})
	if err != nil {
		out.emit(event{Ev: "fatal", Err: err.Error()})
		return 1
	}
	out.emit(event{Ev: "start"})
	f.Run(ctx)
	return 0
}
