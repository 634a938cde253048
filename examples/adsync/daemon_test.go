package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/template"

	goldap "github.com/go-ldap/ldap/v3"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/graphsync/graphtest"
	"github.com/idbridge/idbridge/internal/testenv"
)

// world is what the daemon's tests run against: an OU of the test's own
// in make test's slapd, with people in it, and the Graph emulator.
type world struct {
	ldapURL, ldapCA, bindDN, ou string
	admin                       *goldap.Conn
	graph                       *graphtest.Server
	graphCA                     string // PEM file of the emulator's certificate
	dir                         string // the configuration's directory
}

const graphToken = "adsync-test-token"

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		ldapURL: testenv.Get(t, "IDBRIDGE_SLAPD_URL", "OpenLDAP server"),
		ldapCA:  os.Getenv("IDBRIDGE_SLAPD_CA"),
		bindDN:  os.Getenv("IDBRIDGE_SLAPD_BIND_DN"),
		dir:     t.TempDir(),
	}
	base := os.Getenv("IDBRIDGE_SLAPD_BASE_DN")
	t.Setenv("ADSYNC_TEST_LDAP_PASSWORD", os.Getenv("IDBRIDGE_SLAPD_PASSWORD"))
	t.Setenv("ADSYNC_TEST_GRAPH_TOKEN", graphToken)
	w.admin = dialAdmin(t, w.ldapURL, w.ldapCA, w.bindDN, os.Getenv("IDBRIDGE_SLAPD_PASSWORD"))
	w.ou = "ou=" + unique("adsync") + "," + base
	add(t, w.admin, w.ou, map[string][]string{"objectClass": {"organizationalUnit"}})
	t.Cleanup(func() { deleteTree(w.admin, w.ou) })

	w.graph = graphtest.NewServer(graphtest.Options{Token: graphToken})
	t.Cleanup(w.graph.Close)
	w.graphCA = filepath.Join(w.dir, "graph-ca.pem")
	require.NoError(t, os.WriteFile(w.graphCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.graph.Certificate().Raw}), 0o600))
	rules, err := os.ReadFile(filepath.Join("testdata", "rules.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(w.dir, "rules.yaml"), rules, 0o600))
	return w
}

// addPeople adds n people to the OU and returns their entryUUIDs by uid.
func (w *world) addPeople(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		uid := fmt.Sprintf("p%04d", i)
		add(t, w.admin, "uid="+uid+","+w.ou, map[string][]string{
			"objectClass": {"inetOrgPerson"}, "uid": {uid}, "cn": {"Person " + uid}, "sn": {uid},
		})
	}
}

// directory returns the OU's people: entryUUID → cn.
func (w *world) directory(t *testing.T) map[string]string {
	t.Helper()
	res, err := w.admin.Search(goldap.NewSearchRequest(w.ou, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=inetOrgPerson)", []string{"entryUUID", "cn"}, nil))
	require.NoError(t, err)
	out := map[string]string{}
	for _, e := range res.Entries {
		out[e.GetAttributeValue("entryUUID")] = e.GetAttributeValue("cn")
	}
	return out
}

// cloud returns the emulator's users: onPremisesImmutableId → displayName,
// and the immutable IDs held by more than one user.
func (w *world) cloud() (users map[string]string, dups []string) {
	users = map[string]string{}
	for _, u := range w.graph.Users() {
		id, _ := u["onPremisesImmutableId"].(string)
		name, _ := u["displayName"].(string)
		if _, ok := users[id]; ok {
			dups = append(dups, id)
		}
		users[id] = name
	}
	sort.Strings(dups)
	return users, dups
}

var configTemplate = template.Must(template.New("config").Parse(`connectors:
  dir:
    ldap:
      url: {{.LDAPURL}}
      caFile: {{.LDAPCA}}
      bindDN: "{{.BindDN}}"
      password: env:ADSYNC_TEST_LDAP_PASSWORD
      containers: [{dn: "{{.OU}}"}]
      types: [{name: user, objectClasses: [inetOrgPerson], attributes: [uid, cn]}]
  entra:
    graph:
      baseURL: {{.GraphURL}}/v1.0
      caFile: graph-ca.pem
      token: env:ADSYNC_TEST_GRAPH_TOKEN
      types: [user]
      select: {user: [userPrincipalName, mailNickname, displayName, onPremisesImmutableId]}
{{- if .WriteBudget}}
      writeBudget: {writes: {{.WriteBudget}}, per: 1s}
      concurrency: 1
      exportBatch: 5
{{- end}}
rules: rules.yaml
store:
  type: {{.Store}}
{{- if eq .Store "bolt"}}
  path: state.db
{{- end}}
schedule:
  interval: {{.Interval}}
engine:
  staging: {{.Staging}}
  exportRetryBackoff: -1s
  exportBatchSize: 5
{{- if .HA}}
ha:
  elector: local
{{- end}}
http:
  listen: 127.0.0.1:0
log:
  level: {{.LogLevel}}
  format: json
`))

type configParams struct {
	LDAPURL, LDAPCA, BindDN, OU, GraphURL string
	Store, Interval, LogLevel             string
	WriteBudget                           int
	Staging, HA                           bool
}

// config writes the daemon's configuration and returns its path.
func (w *world) config(t *testing.T, p configParams) string {
	t.Helper()
	p.LDAPURL, p.LDAPCA, p.BindDN, p.OU, p.GraphURL = w.ldapURL, w.ldapCA, w.bindDN, w.ou, w.graph.URL()
	if p.Store == "" {
		p.Store = "memory"
	}
	if p.Interval == "" {
		p.Interval = "1h"
	}
	if p.LogLevel == "" {
		p.LogLevel = "info"
	}
	var b bytes.Buffer
	require.NoError(t, configTemplate.Execute(&b, p))
	path := filepath.Join(w.dir, "adsync.yaml")
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o600))
	return path
}

// daemon is an adsync run in this process.
type daemon struct {
	addr   string
	cycles chan cycle
	done   chan error
	cancel context.CancelFunc
	logs   *syncBuffer
}

type cycle struct {
	res *idbridge.CycleResult
	err error
}

// startDaemon runs `adsync run -config path` in this process until the
// test ends.
func startDaemon(t *testing.T, path string) *daemon {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	d := &daemon{cycles: make(chan cycle, 16), done: make(chan error, 1), cancel: cancel, logs: &syncBuffer{}}
	addr := make(chan net.Addr, 1)
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: d.logs,
		listening: func(a net.Addr) { addr <- a },
		cycled:    func(r *idbridge.CycleResult, err error) { d.cycles <- cycle{r, err} },
	}
	go func() { d.done <- c.run(ctx, []string{"run", "-config", path}) }()
	select {
	case a := <-addr:
		d.addr = "http://" + a.String()
	case err := <-d.done:
		t.Fatalf("the daemon ended before listening: %v\n%s", err, d.logs)
	}
	t.Cleanup(func() { d.stop(t) })
	return d
}

// nextCycle waits for the daemon's next cycle.
func (d *daemon) nextCycle(t *testing.T) cycle {
	t.Helper()
	select {
	case c := <-d.cycles:
		return c
	case err := <-d.done:
		t.Fatalf("the daemon ended: %v\n%s", err, d.logs)
	case <-t.Context().Done():
	}
	return cycle{}
}

// stop ends the daemon as SIGTERM does (its context) and checks it
// returned nil.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	if d.cancel == nil {
		return
	}
	d.cancel()
	d.cancel = nil
	require.NoError(t, <-d.done, "a stop is not an error\n%s", d.logs)
}

func (d *daemon) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(d.addr + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// scrape reads /metrics in Prometheus' text exposition format.
func (d *daemon) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := d.get(t, "/metrics")
	require.Equal(t, http.StatusOK, code)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err)
	return fams
}

// metricValue sums the series of the family name whose labels include
// labels (a counter's or a gauge's value).
func metricValue(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
	var sum float64
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range labels {
			match = match && have[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		}
	}
	return sum
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The daemon, started from a YAML file against slapd and the Graph
// emulator, provisions the directory's people in one cycle and serves its
// endpoints; /metrics has the counts the cycle's runs reported.
func TestDaemonSyncsAndServes(t *testing.T) {
	w := newWorld(t)
	w.addPeople(t, 12)
	d := startDaemon(t, w.config(t, configParams{}))

	c := d.nextCycle(t)
	require.NoError(t, c.err, d.logs)
	users, dups := w.cloud()
	assert.Empty(t, dups)
	assert.Equal(t, w.directory(t), users, "every person of the directory is a user in the cloud, once")

	// The metrics equal what the cycle's runs reported.
	fams := d.scrape(t)
	for _, r := range c.res.Runs {
		labels := map[string]string{"connector": r.Connector, "profile": string(r.Profile)}
		assert.Equal(t, 1.0, metricValue(fams, "idbridge_run_count_total", labels), "%s %s", r.Connector, r.Profile)
		for op, n := range map[string]int{"add": r.Adds, "project": r.Projections, "provision": r.Provisions, "export": r.Exported} {
			labels := map[string]string{"connector": r.Connector, "profile": string(r.Profile), "operation": op}
			assert.Equal(t, float64(n), metricValue(fams, "idbridge_objects_total", labels), "%s %s %s", r.Connector, r.Profile, op)
		}
	}
	assert.Equal(t, 12.0, metricValue(fams, "idbridge_objects_total", map[string]string{"connector": "entra", "operation": "export"}))
	assert.Equal(t, 1.0, metricValue(fams, "adsync_cycles_total", map[string]string{"mode": "Delta", "outcome": "success"}))
	assert.Positive(t, metricValue(fams, "idbridge_cycle_last_success_seconds", nil))

	code, body := d.get(t, "/healthz")
	assert.Equal(t, http.StatusOK, code, body)
	code, body = d.get(t, "/readyz")
	assert.Equal(t, http.StatusOK, code, body)
	code, body = d.get(t, "/admin/")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "entra")
	assert.NotContains(t, d.logs.String(), os.Getenv("IDBRIDGE_SLAPD_PASSWORD"), "no secret in the log")
	assert.NotContains(t, d.logs.String(), graphToken, "no secret in the log")
}

func dialAdmin(t *testing.T, url, ca, bindDN, password string) *goldap.Conn {
	t.Helper()
	pemBytes, err := os.ReadFile(ca)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pemBytes))
	tc := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	c, err := goldap.DialURL(url, goldap.DialWithTLSConfig(tc))
	require.NoError(t, err)
	if strings.HasPrefix(url, "ldap:") {
		require.NoError(t, c.StartTLS(tc))
	}
	require.NoError(t, c.Bind(bindDN, password))
	t.Cleanup(func() { c.Close() })
	return c
}

func add(t *testing.T, c *goldap.Conn, dn string, attrs map[string][]string) {
	t.Helper()
	req := goldap.NewAddRequest(dn, nil)
	for k, v := range attrs {
		req.Attribute(k, v)
	}
	require.NoError(t, c.Add(req), dn)
}

// deleteTree deletes dn and everything under it, deepest first.
func deleteTree(c *goldap.Conn, dn string) {
	res, err := c.SearchWithPaging(goldap.NewSearchRequest(dn, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil), 500)
	if err != nil {
		return
	}
	sort.Slice(res.Entries, func(i, j int) bool { return len(res.Entries[i].DN) > len(res.Entries[j].DN) })
	for _, e := range res.Entries {
		_ = c.Del(goldap.NewDelRequest(e.DN, nil))
	}
}

func unique(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// With an elector, the node that leads runs the engine and says so in
// /readyz and the metrics.
func TestDaemonWithElector(t *testing.T) {
	w := newWorld(t)
	w.addPeople(t, 3)
	d := startDaemon(t, w.config(t, configParams{HA: true}))
	c := d.nextCycle(t)
	require.NoError(t, c.err, "%s", d.logs)
	code, body := d.get(t, "/readyz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ready: leader\n", body)
	assert.Equal(t, 1.0, metricValue(d.scrape(t), "adsync_ha_leader", nil))
	users, _ := w.cloud()
	assert.Len(t, users, 3)
	code, _ = d.get(t, "/admin/")
	assert.Equal(t, http.StatusOK, code, "the admin page, from the query engine")
}
