package graphsync_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
)

const token = "test-token"

// groupAnchor is the directory extension carrying a group's source anchor.
const groupAnchor = "extension_0123456789abcdef0123456789abcdef_sourceAnchor"

// newEnv starts an emulator and a connector to it (unpaced: tests that
// want pacing set cfg.WriteBudget).
func newEnv(t testing.TB, opts graphtest.Options, tune ...func(*graphsync.Config)) (*graphtest.Server, *graphsync.Connector) {
	t.Helper()
	opts.Token = token
	if opts.InitialDomain == "" {
		opts.InitialDomain = "contoso.onmicrosoft.com"
	}
	if len(opts.Domains) == 0 {
		opts.Domains = []string{"example.com"}
	}
	srv := graphtest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv, newConn(t, srv, tune...)
}

// newConn is another connector to srv.
func newConn(t testing.TB, srv *graphtest.Server, tune ...func(*graphsync.Config)) *graphsync.Connector {
	t.Helper()
	cfg := graphsync.Config{
		BaseURL:     srv.URL() + "/v1.0",
		Credential:  graphsync.StaticToken(token),
		HTTPClient:  srv.Client(),
		WriteBudget: graphsync.Unlimited,
		Types:       []string{graphsync.TypeUser, graphsync.TypeGroup},
		GroupAnchor: groupAnchor,
	}
	for _, f := range tune {
		f(&cfg)
	}
	c, err := graphsync.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func seedUsers(t testing.TB, srv *graphtest.Server, n int, prefix string) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		id, err := srv.CreateUser(userProps(fmt.Sprintf("%s%05d", prefix, i)))
		require.NoError(t, err)
		ids[i] = id
	}
	return ids
}

func userProps(name string) map[string]any {
	return map[string]any{
		"accountEnabled":    true,
		"displayName":       "User " + name,
		"mailNickname":      name,
		"userPrincipalName": name + "@example.com",
		"passwordProfile":   map[string]any{"password": "Seed-pw-1!"},
	}
}

func fullImport(t testing.TB, c connector.Connector) *connectortest.Recorder {
	t.Helper()
	rec := &connectortest.Recorder{}
	require.NoError(t, c.Import(context.Background(), rec))
	return rec
}

func deltaImport(t testing.TB, c *graphsync.Connector, wm []byte) *connectortest.Recorder {
	t.Helper()
	rec := &connectortest.Recorder{}
	require.NoError(t, c.DeltaImport(context.Background(), wm, rec))
	return rec
}

func byAnchor(changes []connector.Change) map[connector.Anchor]connector.Change {
	m := map[connector.Anchor]connector.Change{}
	for _, c := range changes {
		m[c.Anchor] = c
	}
	return m
}

func str(s string) []connector.Value { return []connector.Value{connector.StringValue(s)} }

func first(vs []connector.Value) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0].Str()
}

// requests counts the emulator's logged HTTP requests (not the requests
// inside $batch) by method and path.
func requests(srv *graphtest.Server) (http int, inBatch int) {
	for _, r := range srv.Requests() {
		if r.InBatch {
			inBatch++
		} else {
			http++
		}
	}
	return http, inBatch
}
