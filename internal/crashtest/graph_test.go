//go:build unix

package crashtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
)

// The Graph target: the parent runs the emulator (it outlives the killed
// children, as a tenant does) and the child's target is graphsync against
// it. Graph names the objects it creates, so a create applied but not
// recorded can only be recognised by its source anchor.
const (
	graphEnv   = "IDBRIDGE_CRASH_GRAPH"    // the emulator's URL; set: the target is Graph
	graphCAEnv = "IDBRIDGE_CRASH_GRAPH_CA" // PEM file of the emulator's certificate
	graphToken = "crash-test-token"
	graphExt   = "extension_0123456789abcdef0123456789abcdef_sourceAnchor"
)

// hookedGraph is the child's Graph connector with the kill points of the
// export (before a batch of changes is sent, after Graph applied it and
// before the engine recorded it) and of the confirming import.
type hookedGraph struct {
	*graphsync.Connector
	hook func(event string)
}

func (g *hookedGraph) Export(ctx context.Context, changes []connector.Change) ([]connector.ExportResult, error) {
	g.hook("tgt.export.send")
	res, err := g.Connector.Export(ctx, changes)
	if err == nil {
		g.hook("tgt.export.applied")
	}
	return res, err
}

func (g *hookedGraph) Import(ctx context.Context, sink connector.ImportSink) error {
	return g.Connector.Import(ctx, hookedSink{sink, g.hook})
}

func (g *hookedGraph) DeltaImport(ctx context.Context, wm []byte, sink connector.ImportSink) error {
	return g.Connector.DeltaImport(ctx, wm, hookedSink{sink, g.hook})
}

type hookedSink struct {
	connector.ImportSink
	hook func(event string)
}

func (s hookedSink) Object(ctx context.Context, c connector.Change) error {
	s.hook("tgt.import.object")
	return s.ImportSink.Object(ctx, c)
}

var (
	_ connector.DeltaImporter = (*hookedGraph)(nil)
	_ connector.AddMatcher    = (*hookedGraph)(nil)
)

// openGraph is the child's target: graphsync against the parent's emulator.
func openGraph(url, caFile string, hook func(string)) (connector.Connector, error) {
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no certificate", caFile)
	}
	c, err := graphsync.New(graphsync.Config{
		BaseURL:     url + "/v1.0",
		Credential:  graphsync.StaticToken(graphToken),
		HTTPClient:  &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}},
		Types:       []string{graphsync.TypeUser, graphsync.TypeGroup},
		GroupAnchor: graphExt,
		Select: map[string][]string{
			graphsync.TypeUser:  {"userPrincipalName", "mailNickname", "displayName", "jobTitle", "onPremisesImmutableId"},
			graphsync.TypeGroup: {"displayName", "members", graphExt},
		},
		WriteBudget: graphsync.Unlimited,
		Concurrency: 2,
		// Several Export calls, so that kills fall between batches.
		ExportBatch: 30,
	})
	if err != nil {
		return nil, err
	}
	return &hookedGraph{Connector: c, hook: hook}, nil
}

// tenant is an emulator for one run, and the child environment that
// reaches it.
type tenant struct {
	srv *graphtest.Server
	env []string
}

func newTenant(t *testing.T) *tenant {
	t.Helper()
	srv := graphtest.NewServer(graphtest.Options{Token: graphToken, Domains: []string{"example.com"}, Seed: 1})
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "graph.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	return &tenant{srv: srv, env: []string{graphEnv + "=" + srv.URL(), graphCAEnv + "=" + ca}}
}

// backend returns b with the tenant in the children's environment.
func (tn *tenant) backend(b *backend) *backend {
	c := *b
	c.env = append(slices.Clone(b.env), tn.env...)
	return &c
}

// graphState is a run's state with the tenant as its target: objects
// named by userPrincipalName and source anchor, not by the ids Graph gave
// them (a crash changes the order of creates), and the creates Graph
// applied.
type graphState struct {
	*state
	userCreates, groupCreates int
	quarantined               []string
}

func captureGraph(t *testing.T, b *backend, dir, loc string, tn *tenant) *graphState {
	t.Helper()
	names := map[string]string{} // id → stable name
	for _, u := range tn.srv.Users() {
		names[fmt.Sprint(u["id"])] = "user:" + fmt.Sprint(u["userPrincipalName"])
	}
	for _, g := range tn.srv.Groups() {
		names[fmt.Sprint(g["id"])] = "group:" + fmt.Sprint(g[graphExt])
	}
	byDN := map[string]string{}
	for id, n := range names {
		byDN[connector.FoldDN("users/"+id)] = n
		byDN[connector.FoldDN("groups/"+id)] = n
	}
	gs := &graphState{state: captureNamed(t, b, dir, loc, byDN)}
	// Ids in values (the id attribute, references by id) by name too.
	var pairs []string
	for id, n := range names {
		pairs = append(pairs, id, n)
	}
	ids := strings.NewReplacer(pairs...)
	for _, m := range []map[string]string{gs.Entries, gs.Objects} {
		for k, v := range m {
			m[k] = ids.Replace(v)
		}
	}
	gs.Target = map[string]string{}
	for _, u := range tn.srv.Users() {
		upn := fmt.Sprint(u["userPrincipalName"])
		if strings.HasSuffix(upn, ".onmicrosoft.com") {
			gs.quarantined = append(gs.quarantined, upn)
		}
		gs.Target["user:"+upn] = fmt.Sprintf("%v|%v|%v|%v|%v", u["displayName"], u["jobTitle"], u["onPremisesImmutableId"], u["mailNickname"], u["accountEnabled"])
	}
	for _, g := range tn.srv.Groups() {
		var members []string
		if ms, ok := g["members"].([]string); ok {
			for _, m := range ms {
				members = append(members, names[m])
			}
		}
		sort.Strings(members)
		name := "group:" + fmt.Sprint(g[graphExt])
		if _, dup := gs.Target[name]; dup {
			name += " (again) " + fmt.Sprint(g["id"])
		}
		gs.Target[name] = fmt.Sprintf("%v|%v", g["displayName"], members)
	}
	for _, r := range tn.srv.Requests() {
		if r.Method != http.MethodPost || r.Status != http.StatusCreated {
			continue
		}
		switch r.Path {
		case "/v1.0/users":
			gs.userCreates++
		case "/v1.0/groups":
			gs.groupCreates++
		}
	}
	return gs
}

// checkGraph compares a run after a crash with the clean run: exactly one
// create per object, nothing quarantined, the tenant, the metaverse and
// the connector spaces as the clean run left them.
func checkGraph(t *testing.T, want, got *graphState) {
	t.Helper()
	assert.Equal(t, nUsers, got.userCreates, "users created")
	assert.Equal(t, nGroups, got.groupCreates, "groups created")
	assert.Empty(t, got.quarantined, "quarantined userPrincipalNames")
	sameMap(t, "tenant", want.Target, got.Target)
	sameMap(t, "metaverse", want.Entries, got.Entries)
	sameMap(t, "connector spaces", want.Objects, got.Objects)
}

// graphKills are the kill points around the export to Graph: before a
// batch is sent, after Graph applied it and before the engine recorded it
// (first, middle, last batch), between batches (one recorded, the next
// not sent), while a result is recorded, and during the confirming import
// and its sync.
var graphKills = []killPoint{
	{label: "tgt.export.send@c1/export tgt", nth: 1},
	{label: "tgt.export.send@c1/export tgt", at: 0.5},
	{label: "tgt.export.applied@c1/export tgt", nth: 1},
	{label: "tgt.export.applied@c1/export tgt", at: 0.5},
	{label: "tgt.export.applied@c1/export tgt", at: 1},
	{label: "store.commit@c1/export tgt", at: 0.5},
	{label: "store.fn@c1/export tgt", at: 0.5},
	{label: "run.recorded@c1/export tgt", at: 0},
	{label: "tgt.import.object@c2/import tgt", at: 0.5},
	{label: "store.commit@c2/import tgt", at: 0.5},
	{label: "store.commit@c2/sync tgt", at: 0.5},
}

// TestCrashRestartGraph kills the initial sync to a Graph tenant around
// the export of users and groups, restarts it, and compares the outcome
// with a clean run's: every object created exactly once, none
// quarantined, the same tenant, metaverse and connector spaces.
func TestCrashRestartGraph(t *testing.T) {
	b := boltBackend(t)
	start := time.Now()
	keep := t.TempDir()
	src1 := filepath.Join(keep, "src1.journal")
	{
		dir := t.TempDir()
		src, err := openSrc(dir)
		require.NoError(t, err)
		_, err = writeInitial(src)
		require.NoError(t, err)
		require.NoError(t, src.Close())
		copyFile(t, journalPath(dir, "src"), src1)
	}
	setup := func(t *testing.T) (dir, loc string, tn *tenant) {
		dir = t.TempDir()
		copyFile(t, src1, journalPath(dir, "src"))
		return dir, b.newLoc(t), newTenant(t)
	}

	dir, loc, tn := setup(t)
	trace := traceRun(t, tn.backend(b), dir, loc)
	want := captureGraph(t, tn.backend(b), dir, loc, tn)
	require.Len(t, want.Target, nUsers+nGroups)
	checkGraph(t, want, want)
	t.Logf("clean run: %s, %d events", time.Since(start).Round(time.Millisecond), len(trace))

	var wg sync.WaitGroup
	sem := make(chan struct{}, 3)
	for i, kp := range graphKills {
		n := kp.resolve(t, trace)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			t.Run(fmt.Sprintf("%02d/%s", i+1, kp), func(t *testing.T) {
				dir, loc, tn := setup(t)
				bb := tn.backend(b)
				require.True(t, runChild(t, bb, dir, loc, n, ""), "the child did not reach event %d (%s)", n, kp)
				require.False(t, runChild(t, bb, dir, loc, 0, ""), "restarted child")
				checkGraph(t, want, captureGraph(t, bb, dir, loc, tn))
			})
		})
	}
	wg.Wait()
	t.Logf("%d kill points in %s", len(graphKills), time.Since(start).Round(time.Millisecond))
}
