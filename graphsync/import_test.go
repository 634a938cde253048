package graphsync_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
)

// TestImportPagingAndDelta: a full import of 1,050 users and a group over
// pages of 100, then deltas with updates, deletes and member changes.
func TestImportPagingAndDelta(t *testing.T) {
	srv, c := newEnv(t, graphtest.Options{PageSize: 100}, func(cfg *graphsync.Config) { cfg.PageSize = 100 })
	ids := seedUsers(t, srv, 1050, "pg")
	gid, err := srv.CreateGroup(map[string]any{"displayName": "Staff", "mailEnabled": false, "mailNickname": "staff", "securityEnabled": true})
	require.NoError(t, err)
	for _, id := range ids[:250] { // members spread over several delta pages
		require.NoError(t, srv.AddMember(gid, id))
	}
	require.NoError(t, srv.AddOwner(gid, ids[1000]))
	srv.ResetLog()

	rec := fullImport(t, c)
	require.Empty(t, rec.Errors)
	got := byAnchor(rec.Changes)
	require.Len(t, got, 1051)
	u := got[connector.Anchor(ids[7])]
	assert.Equal(t, connector.Add, u.Kind)
	assert.Equal(t, "users/"+ids[7], u.DN)
	assert.Equal(t, "pg00007@example.com", first(u.Attrs["userPrincipalName"]))
	assert.Equal(t, true, u.Attrs["accountEnabled"][0].Bool())
	g := got[connector.Anchor(gid)]
	assert.Len(t, g.Attrs["members"], 250, "members gathered over the pages of the first round")
	if assert.Len(t, g.Attrs["owners"], 1, "owners, read apart from the delta") {
		a, _ := g.Attrs["owners"][0].Ref()
		assert.Equal(t, connector.Anchor(ids[1000]), a)
	}
	httpReqs, _ := requests(srv)
	assert.GreaterOrEqual(t, httpReqs, 11, "paged: 1,050 users by 100")
	req0 := srv.Requests()[0]
	assert.Contains(t, req0.Query, "select", "only the schema's properties are asked for: %s %s", req0.Method, req0.Path)
	wm := rec.Watermark()
	require.NotEmpty(t, wm)

	// Nothing changed: an empty delta.
	rec = deltaImport(t, c, wm)
	assert.Empty(t, rec.Changes)
	wm = rec.Watermark()

	// Out-of-band changes.
	require.NoError(t, srv.Update(ids[1], map[string]any{"jobTitle": "Engineer"}))
	require.NoError(t, srv.Delete(ids[2]))
	require.NoError(t, srv.RemoveMember(gid, ids[3]))
	require.NoError(t, srv.AddMember(gid, ids[900]))
	newID, err := srv.CreateUser(userProps("fresh"))
	require.NoError(t, err)

	rec = deltaImport(t, c, wm)
	require.Empty(t, rec.Errors)
	got = byAnchor(rec.Changes)
	require.Contains(t, got, connector.Anchor(ids[1]))
	upd := got[connector.Anchor(ids[1])]
	assert.Equal(t, connector.Update, upd.Kind)
	assert.Contains(t, upd.Mods, connector.Mod{Name: "jobTitle", Op: connector.ModReplace, Values: str("Engineer")})
	assert.Equal(t, connector.Delete, got[connector.Anchor(ids[2])].Kind)
	assert.Contains(t, got, connector.Anchor(newID), "a new user")
	gd := got[connector.Anchor(gid)]
	var added, removed []connector.Anchor
	for _, m := range gd.Mods {
		for _, v := range m.Values {
			a, _ := v.Ref()
			switch {
			case m.Name == "members" && m.Op == connector.ModAdd:
				added = append(added, a)
			case m.Name == "members" && m.Op == connector.ModRemove:
				removed = append(removed, a)
			}
		}
	}
	assert.ElementsMatch(t, []connector.Anchor{connector.Anchor(ids[900])}, added)
	// The deleted user left the group too.
	assert.ElementsMatch(t, []connector.Anchor{connector.Anchor(ids[2]), connector.Anchor(ids[3])}, removed)

	// The delta link survives the client: a new connector resumes from it.
	c2 := newConn(t, srv)
	rec = deltaImport(t, c2, rec.Watermark())
	assert.Empty(t, rec.Changes)
}

// TestDeltaExpired: a delta link Graph no longer accepts gives
// ErrWatermarkExpired (the engine then runs a full import).
func TestDeltaExpired(t *testing.T) {
	srv, c := newEnv(t, graphtest.Options{})
	seedUsers(t, srv, 3, "ex")
	rec := fullImport(t, c)
	srv.ExpireDeltaTokens()
	err := c.DeltaImport(context.Background(), rec.Watermark(), &connectortest.Recorder{})
	require.Error(t, err)
	assert.ErrorIs(t, err, connector.ErrWatermarkExpired)
	err = c.DeltaImport(context.Background(), []byte("garbage"), &connectortest.Recorder{})
	assert.ErrorIs(t, err, connector.ErrWatermarkExpired)

	// A full import gives a fresh watermark that works.
	rec = fullImport(t, c)
	assert.Len(t, rec.Changes, 3)
	assert.Empty(t, deltaImport(t, c, rec.Watermark()).Changes)
}

// TestSelect: Config.Select narrows the schema and what Graph is asked for.
func TestSelect(t *testing.T) {
	srv, c := newEnv(t, graphtest.Options{}, func(cfg *graphsync.Config) {
		cfg.Types = []string{graphsync.TypeUser}
		cfg.Select = map[string][]string{graphsync.TypeUser: {"userPrincipalName", "displayName"}}
	})
	seedUsers(t, srv, 2, "sel")
	s, err := c.Schema(context.Background())
	require.NoError(t, err)
	ut, _ := s.Type(graphsync.TypeUser)
	assert.Len(t, ut.Attributes, 3, "id and the two selected")
	srv.ResetLog()
	rec := fullImport(t, c)
	require.Len(t, rec.Changes, 2)
	assert.Len(t, rec.Changes[0].Attrs, 3)
	assert.Contains(t, srv.Requests()[0].Query, "userPrincipalName")
	assert.NotContains(t, srv.Requests()[0].Query, "jobTitle")

	_, err = graphsync.New(graphsync.Config{Credential: graphsync.StaticToken("x"), Types: []string{graphsync.TypeUser}, Select: map[string][]string{"user": {"nope"}}})
	assert.ErrorContains(t, err, `"nope"`)
}
