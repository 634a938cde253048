package ha_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/ha/hatest"
	"github.com/idbridge/idbridge/ha/internal/netproxy"
	"github.com/idbridge/idbridge/ha/internal/remoteconn"
	"github.com/idbridge/idbridge/internal/testenv"
)

func TestMain(m *testing.M) {
	if os.Getenv("IDBRIDGE_HA_CHILD") != "" {
		os.Exit(childMain())
	}
	os.Exit(m.Run())
}

// cluster is the test side of the failover tests: the source and target
// systems, served to engine child processes, and the children's events.
type cluster struct {
	t      testing.TB
	src    *memconn.System
	dst    *memconn.System
	server *remoteconn.Server
	env    []string
	ttl    time.Duration

	mu     sync.Mutex
	cond   *sync.Cond
	events []event
	procs  map[string]*exec.Cmd
	next   int
	// srcMu guards the source's users (uid → title) and next uid.
	srcMu   sync.Mutex
	users   map[string]string
	nextUID int
}

func newCluster(t testing.TB, ttl time.Duration, env ...string) *cluster {
	c := &cluster{t: t, src: memconn.New(srcSchema), dst: memconn.New(dstSchema), ttl: ttl,
		procs: map[string]*exec.Cmd{}, users: map[string]string{}}
	c.cond = sync.NewCond(&c.mu)
	c.server = remoteconn.NewServer(map[string]*memconn.System{"src": c.src, "dst": c.dst})
	hs := httptest.NewServer(c.server)
	t.Cleanup(hs.Close)
	c.env = append(env, "IDBRIDGE_HA_CHILD=1", "IDBRIDGE_HA_URL="+hs.URL, "IDBRIDGE_HA_TTL="+ttl.String(), "IDBRIDGE_HA_INTERVAL=100ms")
	t.Cleanup(c.stopAll)
	return c
}

// start runs a new engine process and returns its node name.
func (c *cluster) start(extra ...string) string {
	c.mu.Lock()
	c.next++
	name := fmt.Sprintf("node%d", c.next)
	c.mu.Unlock()
	exe, err := os.Executable()
	require.NoError(c.t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(append(append(os.Environ(), c.env...), extra...), "IDBRIDGE_HA_NODE="+name)
	stdout, err := cmd.StdoutPipe()
	require.NoError(c.t, err)
	cmd.Stderr = os.Stderr
	// A child must not outlive the test (a stalled child would keep its
	// SERIALIZABLE transaction open on the shared server).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(c.t, cmd.Start())
	c.mu.Lock()
	c.procs[name] = cmd
	c.mu.Unlock()
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev event
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				continue
			}
			c.mu.Lock()
			c.events = append(c.events, ev)
			c.cond.Broadcast()
			c.mu.Unlock()
		}
		cmd.Wait()
		c.mu.Lock()
		c.events = append(c.events, event{Ev: "exit", Node: name, At: time.Now().UnixNano()})
		c.cond.Broadcast()
		c.mu.Unlock()
	}()
	return name
}

func (c *cluster) stopAll() {
	c.mu.Lock()
	procs := make([]*exec.Cmd, 0, len(c.procs))
	for _, p := range c.procs {
		procs = append(procs, p)
	}
	c.mu.Unlock()
	for _, p := range procs {
		p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		c.waitFor(func(ev event) bool { return ev.Ev == "exit" && c.procs[ev.Node] == p }, 30*time.Second)
	}
}

// waitFor waits until an event satisfies match (checked under c.mu) and
// returns it; it fails the test after limit.
func (c *cluster) waitFor(match func(event) bool, limit time.Duration) event {
	c.t.Helper()
	timer := time.AfterFunc(limit, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(limit)
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := 0
	for {
		for ; seen < len(c.events); seen++ {
			ev := c.events[seen]
			if ev.Ev == "fatal" {
				c.t.Errorf("%s: %s", ev.Node, ev.Err)
			}
			if match(ev) {
				return ev
			}
		}
		if time.Now().After(deadline) {
			for _, ev := range c.events[max(0, len(c.events)-40):] {
				c.t.Logf("event: %+v", ev)
			}
			c.t.Fatalf("no matching event after %v", limit)
		}
		c.cond.Wait()
	}
}

// kill sends SIGKILL to a node.
func (c *cluster) kill(node string) {
	c.mu.Lock()
	p := c.procs[node]
	c.mu.Unlock()
	p.Process.Kill()
}

func (c *cluster) signal(node string, s syscall.Signal) {
	c.mu.Lock()
	p := c.procs[node]
	c.mu.Unlock()
	require.NoError(c.t, p.Process.Signal(s))
}

func (c *cluster) addUser() {
	c.srcMu.Lock()
	defer c.srcMu.Unlock()
	c.nextUID++
	uid := fmt.Sprintf("u%04d", c.nextUID)
	c.users[uid] = "t0"
	c.src.Put(connector.Object{Anchor: connector.Anchor("src-" + uid), DN: "uid=" + uid + ",ou=src", Type: "user",
		Attrs: connector.Attributes{"uid": {connector.StringValue(uid)}, "mail": {connector.StringValue(uid + "@example.test")}, "title": {connector.StringValue("t0")}}})
}

// change makes one random change in the source: add, retitle or delete.
func (c *cluster) change(r *rand.Rand) {
	c.srcMu.Lock()
	uids := make([]string, 0, len(c.users))
	for u := range c.users {
		uids = append(uids, u)
	}
	c.srcMu.Unlock()
	slices.Sort(uids)
	switch n := r.IntN(10); {
	case n < 3 || len(uids) < 10:
		c.addUser()
	case n < 9:
		uid := uids[r.IntN(len(uids))]
		title := fmt.Sprintf("t%d", r.IntN(1000))
		c.srcMu.Lock()
		c.users[uid] = title
		c.srcMu.Unlock()
		require.NoError(c.t, c.src.Modify(connector.Anchor("src-"+uid), connector.Mod{Name: "title", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue(title)}}))
	default:
		uid := uids[r.IntN(len(uids))]
		c.srcMu.Lock()
		delete(c.users, uid)
		c.srcMu.Unlock()
		c.src.Delete(connector.Anchor("src-" + uid))
	}
}

// stream makes a change every few milliseconds until stop is closed.
func (c *cluster) stream(stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() {
		r := rand.New(rand.NewPCG(1, 2))
		tick := time.NewTicker(15 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				c.change(r)
			}
		}
	})
	return &wg
}

// expected is the target state the source implies: DN → title.
func (c *cluster) expected() map[string]string {
	c.srcMu.Lock()
	defer c.srcMu.Unlock()
	out := map[string]string{}
	for uid, title := range c.users {
		out["cn="+uid+",ou=users"] = title
	}
	return out
}

func (c *cluster) actual() map[string]string {
	out := map[string]string{}
	for _, o := range c.dst.All() {
		out[o.DN] = o.Attrs["title"][0].Str()
	}
	return out
}

// converge waits until the target equals the source's image, checking
// after each completed cycle.
func (c *cluster) converge(limit time.Duration) {
	c.t.Helper()
	want := c.expected()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if assert.ObjectsAreEqual(want, c.actual()) {
			return
		}
		c.mu.Lock()
		n := len(c.events)
		c.mu.Unlock()
		c.mu.Lock()
		if len(c.events) == n {
			c.cond.Wait() // the children report a cycle every 100 ms
		}
		c.mu.Unlock()
	}
	if !assert.Equal(c.t, want, c.actual(), "the target does not equal the source's image") {
		c.mu.Lock()
		for _, ev := range c.events[max(0, len(c.events)-20):] {
			c.t.Logf("event: %+v", ev)
		}
		c.mu.Unlock()
	}
}

// checkWrites: no DN created twice, no anchor deleted twice, every write
// of a term before every write of a later term.
func (c *cluster) checkWrites() {
	c.t.Helper()
	adds, dels := map[string]int{}, map[connector.Anchor]int{}
	var last uint64
	interleaved := 0
	for _, w := range c.server.Writes() {
		switch w.Kind {
		case connector.Add:
			adds[w.DN]++
		case connector.Delete:
			dels[w.Anchor]++
		}
		if w.Term < last {
			interleaved++
		}
		last = max(last, w.Term)
	}
	for dn, n := range adds {
		assert.Equal(c.t, 1, n, "creates of %s", dn)
	}
	for a, n := range dels {
		assert.Equal(c.t, 1, n, "deletes of %s", a)
	}
	assert.Zero(c.t, interleaved, "writes of an older term after a newer term's")
	c.t.Logf("target writes: %d (%d creates, %d deletes)", len(c.server.Writes()), len(adds), len(dels))
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

// failover kills the leader kills times, half of them in the middle of an
// export batch (the target applies part of the batch and the connection
// breaks), and returns the failover times: from the kill to the new
// leader's first completed cycle, and to the start of its term (its
// first cycle starts then).
func (c *cluster) failover(kills int) (cycled, led []time.Duration) {
	r := rand.New(rand.NewPCG(3, 4))
	c.start()
	c.start()
	lead := c.waitFor(func(ev event) bool { return ev.Ev == "lead" }, time.Minute)
	for i := range kills {
		// Let the leader make progress first.
		c.waitFor(func(ev event) bool { return ev.Ev == "cycle" && ev.Node == lead.Node && ev.Term == lead.Term }, time.Minute)
		var killed time.Time
		if i%2 == 0 {
			hit := make(chan time.Time, 1)
			var once sync.Once
			c.server.SetBeforeExport(func(node string, term uint64, changes []connector.Change) int {
				n := len(changes)
				if node == lead.Node {
					once.Do(func() {
						c.kill(node)
						hit <- time.Now()
						n = len(changes) / 2
					})
				}
				return n
			})
			select {
			case killed = <-hit:
			case <-time.After(10 * time.Second):
				c.t.Logf("kill %d: no export batch within 10 s; killing at once", i)
				c.kill(lead.Node)
				killed = time.Now()
			}
			c.server.SetBeforeExport(nil)
		} else {
			wait := time.Duration(r.IntN(400)) * time.Millisecond
			<-time.After(wait) // not a synchronisation: a random point in the leader's work
			c.kill(lead.Node)
			killed = time.Now()
		}
		old := lead
		c.waitFor(func(ev event) bool { return ev.Ev == "exit" && ev.Node == old.Node }, time.Minute)
		c.start() // the standby of the next round
		lead = c.waitFor(func(ev event) bool { return ev.Ev == "lead" && ev.Term > old.Term }, time.Minute)
		first := c.waitFor(func(ev event) bool { return ev.Ev == "cycle" && ev.Node == lead.Node && ev.Term == lead.Term }, time.Minute)
		cycled = append(cycled, time.Unix(0, first.At).Sub(killed))
		led = append(led, time.Unix(0, lead.At).Sub(killed))
	}
	return cycled, led
}

func pgEnv(t testing.TB) (dsn, schema string) {
	dsn = testenv.Get(t, "IDBRIDGE_PG_DSN", "PostgreSQL")
	return dsn, testenv.PGSchema(t, dsn, "ha_failover_")
}

func runFailover(t *testing.T, c *cluster, kills int) {
	for range 20 {
		c.addUser()
	}
	stop := make(chan struct{})
	gen := c.stream(stop)
	times, led := c.failover(kills)
	close(stop)
	gen.Wait()
	c.converge(time.Minute)
	c.checkWrites()
	t.Logf("%d failovers, TTL %v: kill → new leader's first cycle starts p50 %v, max %v; → first cycle done p50 %v, max %v",
		len(times), c.ttl, percentile(led, 0.5).Round(time.Millisecond), slices.Max(led).Round(time.Millisecond),
		percentile(times, 0.5).Round(time.Millisecond), slices.Max(times).Round(time.Millisecond))
	// Not a timing target (that is the benchmark's): a bound that only a
	// broken failover exceeds.
	assert.Less(t, slices.Max(times), 3*c.ttl+10*time.Second)
}

// TestFailoverPostgres: two engine processes on one pgstore with the
// PostgreSQL elector; the leader is killed 20 times, half of them in the
// middle of an export batch, while the source changes every 15 ms.
func TestFailoverPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 20 processes")
	}
	dsn, schema := pgEnv(t)
	c := newCluster(t, 2*time.Second, "IDBRIDGE_HA_DSN="+dsn, "IDBRIDGE_HA_SCHEMA="+schema,
		"IDBRIDGE_HA_ELECTOR=pg", "IDBRIDGE_HA_ELECTOR_ADDR="+dsn)
	kills := 20
	if n, err := strconv.Atoi(os.Getenv("IDBRIDGE_HA_KILLS")); err == nil {
		kills = n
	}
	runFailover(t, c, kills)
}

// TestFailoverEtcd: the same with the etcd elector, 6 kills.
func TestFailoverEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 6 processes")
	}
	dsn, schema := pgEnv(t)
	eps := testenv.Get(t, "IDBRIDGE_ETCD_ENDPOINTS", "etcd")
	c := newCluster(t, 2*time.Second, "IDBRIDGE_HA_DSN="+dsn, "IDBRIDGE_HA_SCHEMA="+schema,
		"IDBRIDGE_HA_ELECTOR=etcd", "IDBRIDGE_HA_ELECTOR_ADDR="+eps, "IDBRIDGE_HA_PREFIX="+hatest.Key("/idbridge-failover")+"/")
	runFailover(t, c, 6)
}

// TestPartition: the leader loses its connection to the elector's server
// (a TCP proxy cut) but keeps running, and one of its write transactions
// stalls before its commit (SIGUSR1) as a paused process's would. The
// standby takes over after the TTL; the stalled commit, released after the
// standby has written, fails with the fencing error; the target never sees
// a write of the old term after one of the new term.
func TestPartition(t *testing.T) {
	dsn, schema := pgEnv(t)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	p, err := netproxy.New(u.Host)
	require.NoError(t, err)
	defer p.Close()
	viaProxy := *u
	viaProxy.Host = p.Addr()

	c := newCluster(t, 2*time.Second, "IDBRIDGE_HA_DSN="+dsn, "IDBRIDGE_HA_SCHEMA="+schema, "IDBRIDGE_HA_ELECTOR=pg")
	for range 20 {
		c.addUser()
	}
	leader := c.start("IDBRIDGE_HA_ELECTOR_ADDR=" + viaProxy.String())
	lead := c.waitFor(func(ev event) bool { return ev.Ev == "lead" }, time.Minute)
	require.Equal(t, leader, lead.Node)
	c.waitFor(func(ev event) bool { return ev.Ev == "cycle" && ev.Node == leader }, time.Minute)
	standby := c.start("IDBRIDGE_HA_ELECTOR_ADDR=" + dsn)
	c.waitFor(func(ev event) bool { return ev.Ev == "start" && ev.Node == standby }, time.Minute)

	stop := make(chan struct{})
	gen := c.stream(stop)
	c.signal(leader, syscall.SIGUSR1)
	c.waitFor(func(ev event) bool { return ev.Ev == "stalled" && ev.Node == leader }, time.Minute)
	p.Partition()
	cut := time.Now()
	took := c.waitFor(func(ev event) bool { return ev.Ev == "lead" && ev.Node == standby }, time.Minute)
	assert.Greater(t, took.Term, lead.Term)
	c.waitFor(func(ev event) bool { return ev.Ev == "cycle" && ev.Node == standby && ev.Err == "" }, time.Minute)
	t.Logf("partition: the standby led after %v", time.Unix(0, took.At).Sub(cut).Round(time.Millisecond))

	c.signal(leader, syscall.SIGUSR2)
	late := c.waitFor(func(ev event) bool { return ev.Ev == "late-commit" && ev.Node == leader }, time.Minute)
	assert.True(t, late.Fenced, "the old leader's late commit must fail with ErrFenced, got %q", late.Err)
	assert.Contains(t, late.Err, "fenced")
	loss := c.waitFor(func(ev event) bool { return ev.Ev == "loss" && ev.Node == leader }, time.Minute)
	assert.Contains(t, loss.Err, "leadership lost")
	p.Heal()

	close(stop)
	gen.Wait()
	c.converge(time.Minute)
	c.checkWrites()
	for _, w := range c.server.Writes() {
		if w.Node == leader {
			assert.False(t, w.At.After(time.Unix(0, loss.At)), "the old leader wrote to the target after it lost its lease")
		}
	}
}
