package graphsync_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
)

func newUser(name string, extra ...string) connector.Change {
	attrs := connector.Attributes{
		"userPrincipalName": str(name + "@example.com"),
		"displayName":       str("User " + name),
		"givenName":         str("Given"),
		"surname":           str(name),
	}
	for i := 0; i+1 < len(extra); i += 2 {
		attrs[extra[i]] = str(extra[i+1])
	}
	return connector.Change{Kind: connector.Add, Type: graphsync.TypeUser, DN: "new/" + name, Attrs: attrs}
}

// export sends changes in the engine's way: ExportBatchSize at a time.
func export(t testing.TB, c *graphsync.Connector, changes []connector.Change) []connector.ExportResult {
	t.Helper()
	var out []connector.ExportResult
	n := c.ExportBatchSize()
	for i := 0; i < len(changes); i += n {
		res, err := c.Export(context.Background(), changes[i:min(i+n, len(changes))])
		require.NoError(t, err)
		out = append(out, res...)
	}
	return out
}

// TestExport5000Users: 5,000 creates in at most 250 HTTP requests ($batch
// of 20), each user created once with its values.
func TestExport5000Users(t *testing.T) {
	srv, c := newEnv(t, graphtest.Options{})
	changes := make([]connector.Change, 5000)
	for i := range changes {
		changes[i] = newUser(fmt.Sprintf("b%05d", i), "onPremisesImmutableId", fmt.Sprintf("imm%05d", i))
	}
	res := export(t, c, changes)
	for i, r := range res {
		require.NoError(t, r.Err, "change %d", i)
		require.NotEmpty(t, r.Anchor)
		require.Equal(t, "users/"+string(r.Anchor), r.DN)
	}
	httpReqs, inBatch := requests(srv)
	assert.LessOrEqual(t, httpReqs, 250, "HTTP requests for 5,000 users")
	assert.Equal(t, 5000, inBatch)
	assert.Len(t, srv.Users(), 5000)
	u, ok := srv.Object(string(res[42].Anchor))
	require.True(t, ok)
	assert.Equal(t, "b00042@example.com", u["userPrincipalName"])
	assert.Equal(t, "imm00042", u["onPremisesImmutableId"])
	assert.Equal(t, true, u["accountEnabled"], "enabled unless the rules say otherwise")
	t.Logf("5,000 users: %d HTTP requests, %d batched requests", httpReqs, inBatch)
}

// TestExportUpdateDeleteMembers: PATCH of changed properties, deletes,
// member additions over several requests (more than 20), removals, an
// existing member added again, a missing object.
func TestExportUpdateDeleteMembers(t *testing.T) {
	srv, c := newEnv(t, graphtest.Options{})
	ids := seedUsers(t, srv, 60, "m")
	ref := func(id string) connector.Value { return connector.RefValue(connector.Anchor(id), "users/"+id) }
	var members []connector.Value
	for _, id := range ids[:45] {
		members = append(members, ref(id))
	}
	res := export(t, c, []connector.Change{{Kind: connector.Add, Type: graphsync.TypeGroup, DN: "new/g", Attrs: connector.Attributes{
		"displayName": str("Engineering"), "description": str("All engineers"), "members": members, groupAnchor: str("g-anchor"),
		"owners": {ref(ids[5])},
	}}})
	require.NoError(t, res[0].Err)
	gid := string(res[0].Anchor)
	g, _ := srv.Object(gid)
	assert.Len(t, g["members"], 45, "20 at creation, the rest by members@odata.bind")
	assert.Equal(t, true, g["securityEnabled"])
	assert.Equal(t, []string{ids[5]}, g["owners"])

	_, err := srv.Object(ids[0])
	require.True(t, err)
	res = export(t, c, []connector.Change{
		{Kind: connector.Update, Type: graphsync.TypeUser, Anchor: connector.Anchor(ids[50]), DN: "users/" + ids[50], Mods: []connector.Mod{
			{Name: "jobTitle", Op: connector.ModReplace, Values: str("Lead")},
			{Name: "department", Op: connector.ModRemove},
			{Name: "businessPhones", Op: connector.ModAdd, Values: str("+1 555 0100")},
		}},
		{Kind: connector.Update, Type: graphsync.TypeGroup, Anchor: connector.Anchor(gid), DN: "groups/" + gid, Mods: []connector.Mod{
			{Name: "description", Op: connector.ModReplace, Values: str("Engineers")},
			{Name: "members", Op: connector.ModAdd, Values: []connector.Value{ref(ids[50]), ref(ids[0])}}, // ids[0] is a member already
			{Name: "members", Op: connector.ModRemove, Values: []connector.Value{ref(ids[1]), ref(ids[2]), ref(ids[59])}},
			{Name: "owners", Op: connector.ModAdd, Values: []connector.Value{ref(ids[6])}},
			{Name: "owners", Op: connector.ModRemove, Values: []connector.Value{ref(ids[5])}},
		}},
		{Kind: connector.Delete, Type: graphsync.TypeUser, Anchor: connector.Anchor(ids[55]), DN: "users/" + ids[55]},
		{Kind: connector.Update, Type: graphsync.TypeUser, Anchor: "00000000-0000-0000-0000-000000000000", DN: "users/00000000-0000-0000-0000-000000000000",
			Mods: []connector.Mod{{Name: "jobTitle", Op: connector.ModReplace, Values: str("x")}}},
	})
	for i, r := range res[:3] {
		require.NoError(t, r.Err, "change %d", i)
	}
	assert.ErrorIs(t, res[3].Err, connector.ErrNoSuchObject)
	var oe *connector.ObjectError
	assert.ErrorAs(t, res[3].Err, &oe)

	u, _ := srv.Object(ids[50])
	assert.Equal(t, "Lead", u["jobTitle"])
	assert.Nil(t, u["department"])
	assert.Equal(t, []any{"+1 555 0100"}, u["businessPhones"])
	_, ok := srv.Object(ids[55])
	assert.False(t, ok, "deleted")
	g, _ = srv.Object(gid)
	assert.Equal(t, "Engineers", g["description"])
	gm := g["members"].([]string)
	assert.Len(t, gm, 45+1-2)
	assert.Contains(t, gm, ids[50])
	assert.NotContains(t, gm, ids[1])
	assert.Equal(t, []string{ids[6]}, g["owners"])

	// Clearing all members.
	res = export(t, c, []connector.Change{{Kind: connector.Update, Type: graphsync.TypeGroup, Anchor: connector.Anchor(gid), DN: "groups/" + gid,
		Mods: []connector.Mod{{Name: "members", Op: connector.ModRemove}}}})
	require.NoError(t, res[0].Err)
	g, _ = srv.Object(gid)
	assert.Empty(t, g["members"])

	// Deleting what is gone says so (the engine's next import confirms
	// the object is gone).
	res = export(t, c, []connector.Change{{Kind: connector.Delete, Type: graphsync.TypeUser, Anchor: connector.Anchor(ids[55])}})
	assert.ErrorIs(t, res[0].Err, connector.ErrNoSuchObject)
}

// TestHardAndSoftMatch: a create whose onPremisesImmutableId a cloud user
// holds takes that user over; with SoftMatch a create colliding on
// userPrincipalName or mail takes over an unanchored user, never an
// administrator.
func TestHardAndSoftMatch(t *testing.T) {
	for _, soft := range []bool{false, true} {
		t.Run(fmt.Sprintf("soft=%v", soft), func(t *testing.T) {
			srv, c := newEnv(t, graphtest.Options{}, func(cfg *graphsync.Config) { cfg.SoftMatch = soft })
			props := userProps("anchored")
			props["onPremisesImmutableId"] = "IMM-1"
			anchored, err := srv.CreateUser(props)
			require.NoError(t, err)
			plain, err := srv.CreateUser(userProps("plain"))
			require.NoError(t, err)
			admin, err := srv.CreateUser(userProps("admin"))
			require.NoError(t, err)
			require.NoError(t, srv.AssignRole(admin, "Global Administrator"))
			mailUser := userProps("mailuser")
			mailUser["mail"] = "mailuser@example.com"
			byMail, err := srv.CreateUser(mailUser)
			require.NoError(t, err)
			before := len(srv.Users())

			res := export(t, c, []connector.Change{
				newUser("renamed-source", "onPremisesImmutableId", "IMM-1", "jobTitle", "Hard"),
				newUser("plain", "onPremisesImmutableId", "IMM-2", "jobTitle", "Soft"),
				newUser("admin", "onPremisesImmutableId", "IMM-3"),
				newUser("other", "onPremisesImmutableId", "IMM-4", "mail", "mailuser@example.com"),
			})
			for i, r := range res {
				require.NoError(t, r.Err, "change %d", i)
			}
			assert.Equal(t, connector.Anchor(anchored), res[0].Anchor, "hard match")
			u, _ := srv.Object(anchored)
			assert.Equal(t, "Hard", u["jobTitle"])
			assert.Equal(t, "renamed-source@example.com", u["userPrincipalName"])
			assert.Contains(t, strings.Join(res[0].Warnings, ";"), "hard-matched")

			assert.NotEqual(t, connector.Anchor(admin), res[2].Anchor, "an administrator is never soft-matched")
			if soft {
				assert.Equal(t, connector.Anchor(plain), res[1].Anchor, "soft match by userPrincipalName")
				u, _ = srv.Object(plain)
				assert.Equal(t, "IMM-2", u["onPremisesImmutableId"])
				assert.Equal(t, connector.Anchor(byMail), res[3].Anchor, "soft match by mail")
				assert.Equal(t, before+1, len(srv.Users()), "only the admin's twin was created")
			} else {
				assert.NotEqual(t, connector.Anchor(plain), res[1].Anchor)
				assert.NotEqual(t, connector.Anchor(byMail), res[3].Anchor)
				assert.Equal(t, before+3, len(srv.Users()))
			}
		})
	}
}

// TestDuplicateAttributeResiliency: a create or update whose
// userPrincipalName or mail another object holds succeeds with the value
// quarantined and a warning.
func TestDuplicateAttributeResiliency(t *testing.T) {
	srv, c := newEnv(t, graphtest.Options{})
	p := userProps("taken")
	p["mail"] = "taken@example.com"
	holder, err := srv.CreateUser(p)
	require.NoError(t, err)
	other, err := srv.CreateUser(userProps("other"))
	require.NoError(t, err)

	res := export(t, c, []connector.Change{
		newUser("taken", "onPremisesImmutableId", "Q-1"),
		newUser("fresh", "onPremisesImmutableId", "Q-2", "mail", "taken@example.com"),
		{Kind: connector.Update, Type: graphsync.TypeUser, Anchor: connector.Anchor(other), DN: "users/" + other, Mods: []connector.Mod{
			{Name: "userPrincipalName", Op: connector.ModReplace, Values: str("taken@example.com")},
			{Name: "jobTitle", Op: connector.ModReplace, Values: str("Kept")},
		}},
	})
	for i, r := range res {
		require.NoError(t, r.Err, "change %d: the conflict is not fatal", i)
		require.NotEmpty(t, r.Warnings, "change %d: the conflict is reported", i)
	}
	q, _ := srv.Object(string(res[0].Anchor))
	upn := q["userPrincipalName"].(string)
	assert.Regexp(t, `^taken\d{4}@contoso\.onmicrosoft\.com$`, upn, "Entra Connect's quarantine: prefix+4 digits@initial domain")
	assert.Contains(t, res[0].Warnings[0], "taken@example.com")
	f, _ := srv.Object(string(res[1].Anchor))
	assert.Nil(t, f["mail"], "the conflicting mail is left out")
	o, _ := srv.Object(other)
	assert.Equal(t, "other@example.com", o["userPrincipalName"], "the update keeps the old name")
	assert.Equal(t, "Kept", o["jobTitle"], "and the rest of the update")
	h, _ := srv.Object(holder)
	assert.Equal(t, "taken@example.com", h["userPrincipalName"], "the holder is untouched")
}
