package writeback_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
	"github.com/idbridge/idbridge/writeback"
)

// The test world: a directory ("ad") synced through the engine to a cloud
// directory ("cloud", an in-memory connector that names its objects itself,
// as Graph does), and a password service over the engine's store.

var cloudSchema = &connector.Schema{Types: []connector.ObjectType{
	{Name: "user", Attributes: []connector.Attribute{
		{Name: "userPrincipalName", Type: connector.String},
		{Name: "onPremisesImmutableId", Type: connector.String},
	}},
}}

// rulesYAML syncs the directory's users (type user, in scope when scope is
// true, with the UPN and the source anchor given by expressions) to cloud
// users.
func rulesYAML(scope, upnExpr, sourceExpr string) string {
	return `
metaverse:
  types:
    - name: person
      attributes:
        - {name: userPrincipalName, type: string}
        - {name: sourceAnchor, type: string}
rules:
  - name: In from AD - User
    direction: inbound
    connector: ad
    source: user
    target: person
    precedence: 100
    linkType: Provision
    scope: '` + scope + `'
    flows:
      - {target: userPrincipalName, expression: '` + upnExpr + `.lowerAscii()'}
      - {target: sourceAnchor, expression: '` + sourceExpr + `', applyOnce: true}
  - name: Out to AAD - User
    direction: outbound
    connector: cloud
    source: person
    target: user
    linkType: Provision
    flows:
      - {target: dn, expression: '"users/" + source.sourceAnchor'}
      - {target: userPrincipalName, source: userPrincipalName}
      - {target: onPremisesImmutableId, source: sourceAnchor}
`
}

type world struct {
	t     testing.TB
	ctx   context.Context
	store metaverse.Store
	cloud *memconn.System
	eng   *idbridge.Engine
	conns map[string]connector.Connector
	log   *syncBuffer
	clock *clock
}

// syncBuffer collects everything the service logs, for the secret scans.
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

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newWorld syncs dir into the metaverse and the cloud with an initial cycle.
func newWorld(t testing.TB, dir connector.Connector, scope, upnExpr, sourceExpr string) *world {
	t.Helper()
	w := &world{t: t, ctx: context.Background(), store: memstore.New(), cloud: memconn.New(cloudSchema),
		log: &syncBuffer{}, clock: &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}}
	t.Cleanup(func() { w.store.Close() })
	rf, err := rules.Parse("writeback-test.yaml", []byte(rulesYAML(scope, upnExpr, sourceExpr)))
	require.NoError(t, err)
	w.conns = map[string]connector.Connector{"ad": dir, "cloud": w.cloud.Connector()}
	w.eng, err = idbridge.New(w.ctx, idbridge.Config{Store: w.store, Connectors: w.conns, Rules: rf})
	require.NoError(t, err)
	w.cycle()
	return w
}

// cycle runs an initial cycle and a confirming import of the cloud, so that
// cloud objects carry their object ids.
func (w *world) cycle() {
	w.t.Helper()
	_, err := w.eng.Cycle(w.ctx, idbridge.Initial)
	require.NoError(w.t, err)
	_, err = w.eng.FullImport(w.ctx, "cloud")
	require.NoError(w.t, err)
	_, err = w.eng.FullSync(w.ctx, "cloud")
	require.NoError(w.t, err)
}

func (w *world) service(limits writeback.Limits) *writeback.PasswordService {
	w.t.Helper()
	svc, err := writeback.NewPasswordService(w.ctx, writeback.PasswordConfig{
		Store: w.store, Connectors: w.conns, Cloud: "cloud", Limits: limits,
		Logger: slog.New(slog.NewTextHandler(w.log, nil)), Now: w.clock.Now,
	})
	require.NoError(w.t, err)
	return svc
}

// objectID returns the cloud object id of the user with the given UPN.
func (w *world) objectID(upn string) string {
	w.t.Helper()
	for _, o := range w.cloud.All() {
		if v, ok := o.Attrs.First("userPrincipalName"); ok && v.Str() == upn {
			return string(o.Anchor)
		}
	}
	w.t.Fatalf("no cloud user %s", upn)
	return ""
}
