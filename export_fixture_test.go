package idbridge_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/rules"
)

// fixtureSetup changes what newFixtureWith builds; its zero value is
// newFixture's fixture.
type fixtureSetup struct {
	store     metaverse.Store     // nil: newFixture's memstore
	ad, cloud *memconn.System     // nil: newFixture's systems (set: another fixture's, for a second engine)
	rules     func(string) string // rewrites the rule file's text
	wrap      func(name string, c connector.Connector) connector.Connector
}

// newFixtureWith is newFixture with its engine rebuilt on what fs gives.
func newFixtureWith(t *testing.T, opts idbridge.Options, fs fixtureSetup) *fixture {
	t.Helper()
	f := newFixture(t, opts)
	if fs.store != nil {
		f.store = fs.store
	}
	if fs.ad != nil {
		f.ad = fs.ad
	}
	if fs.cloud != nil {
		f.cloud = fs.cloud
	}
	var rewrite []func(string) string
	if fs.rules != nil {
		rewrite = append(rewrite, fs.rules)
	}
	rf := testRules(t, rewrite...)
	conns := map[string]connector.Connector{"ad": f.ad.Connector(), "hr": f.hr.Connector(), "cloud": f.cloud.Connector()}
	if fs.wrap != nil {
		for name, c := range conns {
			conns[name] = fs.wrap(name, c)
		}
	}
	var err error
	f.eng, err = idbridge.New(f.ctx, idbridge.Config{Store: f.store, Connectors: conns, Rules: rf, Options: opts})
	require.NoError(t, err)
	return f
}

// testRules reads the test rule file, with its text rewritten.
func testRules(t *testing.T, rewrite ...func(string) string) *rules.File {
	t.Helper()
	b, err := os.ReadFile("testdata/engine-rules.yaml")
	require.NoError(t, err)
	data := string(b)
	for _, r := range rewrite {
		data = r(data)
	}
	rf, err := rules.Parse("testdata/engine-rules.yaml", []byte(data))
	require.NoError(t, err)
	return rf
}
