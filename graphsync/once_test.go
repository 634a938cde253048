package graphsync_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
)

func newGroup(name string, extra ...string) connector.Change {
	attrs := connector.Attributes{"displayName": str("Group " + name), groupAnchor: str("anchor-" + name)}
	for i := 0; i+1 < len(extra); i += 2 {
		attrs[extra[i]] = str(extra[i+1])
	}
	return connector.Change{Kind: connector.Add, Type: graphsync.TypeGroup, DN: "new/" + name, Attrs: attrs}
}

// creates counts the creates the emulator applied (whatever the client
// saw of them) by collection.
func creates(srv *graphtest.Server, coll string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && r.Path == "/v1.0/"+coll && r.Status == http.StatusCreated {
			n++
		}
	}
	return n
}

func warnings(res []connector.ExportResult) []string {
	var out []string
	for _, r := range res {
		out = append(out, r.Warnings...)
	}
	return out
}

// TestLostCreateResponses: Graph applied the creates, the responses were
// lost (a 504, a reset connection, a truncated body; of the $batch or of
// requests in it). The connector looks the objects up before sending the
// creates again: 10 creates make 10 objects, none quarantined, and each
// Add returns the id of the object it made.
func TestLostCreateResponses(t *testing.T) {
	kinds := []struct {
		typ, coll string
		change    func(i int) connector.Change
		// batchSkip passes the first $batch requests that create nothing
		// (the lookup of a group's anchor before it is created).
		batchSkip int
	}{
		{graphsync.TypeUser, "users", func(i int) connector.Change {
			return newUser(fmt.Sprintf("lost%02d", i), "onPremisesImmutableId", fmt.Sprintf("IMM%02d", i))
		}, 0},
		{graphsync.TypeGroup, "groups", func(i int) connector.Change { return newGroup(fmt.Sprintf("lost%02d", i)) }, 1},
		// Without an anchor, a user is recognised by userPrincipalName and
		// the values sent.
		{"user without anchor", "users", func(i int) connector.Change { return newUser(fmt.Sprintf("plain%02d", i)) }, 0},
	}
	faults := []struct {
		name  string
		fault func(coll string, batchSkip int) graphtest.Fault
	}{
		{"batch reset after", func(_ string, skip int) graphtest.Fault {
			return graphtest.Fault{Path: "/$batch", Kind: graphtest.FaultReset, After: true, Skip: skip, Count: 1}
		}},
		{"batch 504 after", func(_ string, skip int) graphtest.Fault {
			return graphtest.Fault{Path: "/$batch", After: true, Skip: skip, Count: 1}
		}},
		{"batch body truncated", func(_ string, skip int) graphtest.Fault {
			return graphtest.Fault{Path: "/$batch", Kind: graphtest.FaultTruncate, After: true, Skip: skip, Count: 1}
		}},
		{"every create 504 after", func(coll string, _ int) graphtest.Fault {
			return graphtest.Fault{Method: "POST", Path: "/" + coll, After: true, Count: 10}
		}},
		{"creates 500 after, at random", func(coll string, _ int) graphtest.Fault {
			return graphtest.Fault{Method: "POST", Path: "/" + coll, After: true, Status: 500, Probability: 0.5}
		}},
		{"a create loses its batch", func(coll string, _ int) graphtest.Fault {
			return graphtest.Fault{Method: "POST", Path: "/" + coll, Kind: graphtest.FaultReset, After: true, Skip: 3, Count: 2}
		}},
		{"a create breaks its batch before the rest ran", func(coll string, _ int) graphtest.Fault {
			return graphtest.Fault{Method: "POST", Path: "/" + coll, Kind: graphtest.FaultReset, Skip: 4, Count: 1}
		}},
	}
	for _, k := range kinds {
		for _, f := range faults {
			t.Run(k.typ+"/"+f.name, func(t *testing.T) {
				srv, c := newEnv(t, graphtest.Options{Seed: 3})
				srv.InjectFault(f.fault(k.coll, k.batchSkip))
				var changes []connector.Change
				for i := range 10 {
					changes = append(changes, k.change(i))
				}
				res := export(t, c, changes)
				require.Positive(t, srv.FaultsFired(), "the fault was aimed")

				assert.Equal(t, 10, creates(srv, k.coll), "one create per object")
				objs := srv.Users()
				if k.coll == "groups" {
					objs = srv.Groups()
				}
				require.Len(t, objs, 10)
				ids := map[string]map[string]any{}
				for _, o := range objs {
					ids[fmt.Sprint(o["id"])] = o
				}
				for i, r := range res {
					require.NoError(t, r.Err, "change %d", i)
					o, ok := ids[string(r.Anchor)]
					require.True(t, ok, "change %d: anchor %s is an object of the tenant", i, r.Anchor)
					delete(ids, string(r.Anchor))
					if k.coll == "users" {
						assert.Equal(t, first(changes[i].Attrs["userPrincipalName"]), o["userPrincipalName"], "not quarantined")
					} else {
						assert.Equal(t, first(changes[i].Attrs[groupAnchor]), o[groupAnchor])
					}
				}
				for _, w := range warnings(res) {
					assert.NotContains(t, w, "quarantined")
				}
			})
		}
	}
}

// TestCreateAgainAfterUnrecordedCreate: the engine sends an Add again when
// it did not record the result of the first (a crash after Graph applied
// it). The object that carries the Add's source anchor is that object:
// no second group, no quarantined userPrincipalName, and the Add's result
// names the existing object.
func TestCreateAgainAfterUnrecordedCreate(t *testing.T) {
	srv, c := newEnv(t, graphtest.Options{})
	var changes []connector.Change
	for i := range 10 {
		changes = append(changes,
			newUser(fmt.Sprintf("again%02d", i), "onPremisesImmutableId", fmt.Sprintf("AGAIN%02d", i)),
			newGroup(fmt.Sprintf("again%02d", i)))
	}
	first := export(t, c, changes)
	again := export(t, c, changes)
	for i := range changes {
		require.NoError(t, first[i].Err)
		require.NoError(t, again[i].Err, "change %d", i)
		assert.Equal(t, first[i].Anchor, again[i].Anchor, "change %d: the same object", i)
		assert.Equal(t, first[i].DN, again[i].DN)
	}
	assert.Len(t, srv.Users(), 10)
	assert.Len(t, srv.Groups(), 10)
	assert.Equal(t, 10, creates(srv, "users"))
	assert.Equal(t, 10, creates(srv, "groups"))
	var got []string
	for _, u := range srv.Users() {
		got = append(got, fmt.Sprint(u["userPrincipalName"]))
	}
	sort.Strings(got)
	for i, upn := range got {
		assert.Equal(t, fmt.Sprintf("again%02d@example.com", i), upn, "not quarantined")
	}
	for _, w := range warnings(again) {
		assert.NotContains(t, w, "quarantined")
	}
}

// TestConflictWithAnotherAnchorIsStillQuarantined: the own-anchor rule
// does not weaken duplicate attribute resiliency: a user whose
// userPrincipalName another source object holds is quarantined.
func TestConflictWithAnotherAnchorIsStillQuarantined(t *testing.T) {
	srv, c := newEnv(t, graphtest.Options{})
	props := userProps("taken")
	props["onPremisesImmutableId"] = "SOMEONE-ELSE"
	_, err := srv.CreateUser(props)
	require.NoError(t, err)
	res := export(t, c, []connector.Change{newUser("taken", "onPremisesImmutableId", "MINE")})
	require.NoError(t, res[0].Err)
	u, ok := srv.Object(string(res[0].Anchor))
	require.True(t, ok)
	assert.Equal(t, "MINE", u["onPremisesImmutableId"])
	assert.True(t, strings.HasPrefix(fmt.Sprint(u["userPrincipalName"]), "taken"))
	assert.True(t, strings.HasSuffix(fmt.Sprint(u["userPrincipalName"]), "@contoso.onmicrosoft.com"), "quarantined: %v", u["userPrincipalName"])
	assert.Len(t, srv.Users(), 2)
}

// TestDeleteAfterLostResponse: a delete applied whose response was lost
// is done when the object is found gone on the next attempt.
func TestDeleteAfterLostResponse(t *testing.T) {
	srv, c := newEnv(t, graphtest.Options{})
	ids := seedUsers(t, srv, 3, "del")
	srv.InjectFault(graphtest.Fault{Method: "DELETE", After: true, Count: 2})
	var changes []connector.Change
	for _, id := range ids {
		changes = append(changes, connector.Change{Kind: connector.Delete, Type: graphsync.TypeUser, Anchor: connector.Anchor(id), DN: "users/" + id})
	}
	res := export(t, c, changes[:2])
	srv.ClearFaults()
	for _, r := range res {
		assert.NoError(t, r.Err)
	}
	assert.Len(t, srv.Users(), 1)
}

func TestMatchAttributes(t *testing.T) {
	_, c := newEnv(t, graphtest.Options{})
	var m connector.AddMatcher = c
	assert.Equal(t, []string{"onPremisesImmutableId"}, m.MatchAttributes(graphsync.TypeUser))
	assert.Equal(t, []string{groupAnchor}, m.MatchAttributes(graphsync.TypeGroup))
	assert.Nil(t, m.MatchAttributes(graphsync.TypeDevice))
}

// TestGroupAnchorRequired: groups are created only with a source anchor;
// a configuration without one says so at construction, unless it asks
// for no group creates.
func TestGroupAnchorRequired(t *testing.T) {
	base := graphsync.Config{Credential: graphsync.StaticToken("x")}
	for _, tc := range []struct {
		name  string
		tune  func(*graphsync.Config)
		valid bool
	}{
		{"default types include groups", func(*graphsync.Config) {}, false},
		{"groups listed", func(c *graphsync.Config) { c.Types = []string{graphsync.TypeGroup} }, false},
		{"users only", func(c *graphsync.Config) { c.Types = []string{graphsync.TypeUser} }, true},
		{"with an anchor", func(c *graphsync.Config) { c.GroupAnchor = groupAnchor }, true},
		{"no group creates", func(c *graphsync.Config) { c.NoGroupCreates = true }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.tune(&cfg)
			_, err := graphsync.New(cfg)
			if tc.valid {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, "GroupAnchor")
		})
	}

	t.Run("an add without the anchor's value", func(t *testing.T) {
		srv, c := newEnv(t, graphtest.Options{})
		ch := newGroup("noanchor")
		delete(ch.Attrs, groupAnchor)
		res := export(t, c, []connector.Change{ch})
		assert.ErrorIs(t, res[0].Err, connector.ErrInvalidObject)
		assert.Empty(t, srv.Groups())
	})
	t.Run("no group creates", func(t *testing.T) {
		srv, c := newEnv(t, graphtest.Options{}, func(cfg *graphsync.Config) { cfg.GroupAnchor, cfg.NoGroupCreates = "", true })
		res := export(t, c, []connector.Change{{Kind: connector.Add, Type: graphsync.TypeGroup, DN: "new/g",
			Attrs: connector.Attributes{"displayName": str("G")}}})
		assert.ErrorIs(t, res[0].Err, connector.ErrUnsupported)
		assert.Empty(t, srv.Groups())
	})
}
