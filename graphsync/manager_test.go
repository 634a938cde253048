package graphsync_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
)

// TestManager: a user's manager is exported by PUT /users/{id}/manager/$ref
// (on create and on update), removed by DELETE, and read back by the user
// delta (manager@delta) in a full and in delta imports, through the SDK.
func TestManager(t *testing.T) {
	srv, c := newEnv(t, graphtest.Options{})
	ids := seedUsers(t, srv, 3, "mgr")
	boss, deputy := ids[0], ids[1]
	ref := func(id string) connector.Value { return connector.RefValue(connector.Anchor(id), "users/"+id) }
	managerOf := func(id string) any {
		u, ok := srv.Object(id)
		require.True(t, ok)
		return u["manager"]
	}
	put := func() int {
		n := 0
		for _, r := range srv.Requests() {
			if r.Method == http.MethodPut {
				n++
			}
		}
		return n
	}

	// Create with a manager.
	add := newUser("report")
	add.Attrs["manager"] = []connector.Value{ref(boss)}
	res := export(t, c, []connector.Change{add})
	require.NoError(t, res[0].Err)
	report := string(res[0].Anchor)
	assert.Equal(t, boss, managerOf(report))
	assert.Positive(t, put(), "PUT …/manager/$ref")

	// A full import reads it back.
	rec := fullImport(t, c)
	require.Empty(t, rec.Errors)
	got := byAnchor(rec.Changes)[connector.Anchor(report)]
	require.Len(t, got.Attrs["manager"], 1)
	a, _ := got.Attrs["manager"][0].Ref()
	assert.Equal(t, connector.Anchor(boss), a)
	wm := rec.Watermark()

	tests := []struct {
		name  string
		mod   connector.Mod
		want  any               // the manager in the tenant
		delta []connector.Value // the delta's manager replace
	}{
		{"replace", connector.Mod{Name: "manager", Op: connector.ModReplace, Values: []connector.Value{ref(deputy)}}, deputy, []connector.Value{ref(deputy)}},
		{"remove", connector.Mod{Name: "manager", Op: connector.ModReplace}, nil, nil},
		{"set again", connector.Mod{Name: "manager", Op: connector.ModReplace, Values: []connector.Value{ref(boss)}}, boss, []connector.Value{ref(boss)}},
		{"remove by value", connector.Mod{Name: "manager", Op: connector.ModRemove, Values: []connector.Value{ref(boss)}}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := export(t, c, []connector.Change{{Kind: connector.Update, Type: graphsync.TypeUser, Anchor: connector.Anchor(report), DN: "users/" + report, Mods: []connector.Mod{tt.mod}}})
			require.NoError(t, res[0].Err)
			assert.Equal(t, tt.want, managerOf(report))

			rec := deltaImport(t, c, wm)
			require.Empty(t, rec.Errors)
			wm = rec.Watermark()
			ch, ok := byAnchor(rec.Changes)[connector.Anchor(report)]
			require.True(t, ok, "the manager change is in the delta")
			var mod *connector.Mod
			for i := range ch.Mods {
				if ch.Mods[i].Name == "manager" {
					mod = &ch.Mods[i]
				}
			}
			require.NotNil(t, mod, "manager@delta read")
			assert.Equal(t, connector.ModReplace, mod.Op)
			if assert.Len(t, mod.Values, len(tt.delta)) && len(tt.delta) > 0 {
				a, _ := mod.Values[0].Ref()
				w, _ := tt.delta[0].Ref()
				assert.Equal(t, w, a)
			}
		})
	}

	// Removing a manager that is already gone is what was wanted.
	res = export(t, c, []connector.Change{{Kind: connector.Update, Type: graphsync.TypeUser, Anchor: connector.Anchor(report), DN: "users/" + report,
		Mods: []connector.Mod{{Name: "manager", Op: connector.ModReplace}}}})
	require.NoError(t, res[0].Err)

	// Deleting the manager removes it from its reports (a change of each).
	require.NoError(t, srv.SetManager(ids[2], deputy))
	rec = deltaImport(t, c, wm)
	wm = rec.Watermark()
	require.NoError(t, srv.Delete(deputy))
	assert.Nil(t, managerOf(ids[2]))
	rec = deltaImport(t, c, wm)
	ch := byAnchor(rec.Changes)[connector.Anchor(ids[2])]
	require.NotEmpty(t, ch.Mods)
	var cleared bool
	for _, m := range ch.Mods {
		cleared = cleared || m.Name == "manager" && len(m.Values) == 0
	}
	assert.True(t, cleared, "the deleted manager is removed: %+v", ch.Mods)
}
