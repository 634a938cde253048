package graphsync_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
)

const altID = "X509:<SHA1-TP-PUBKEY>7C5E2F1A9B3D4C6E8F0A1B2C3D4E5F6A7B8C9D0Eq1w2e3r4t5y6u7i8o9p0AbCdEfGhIjKlMn="

// seedDevice creates a device as the Device Registration Service would,
// with one certificate entry in alternativeSecurityIds.
func seedDevice(t *testing.T, srv *graphtest.Server, name, deviceID string, enabled bool) string {
	t.Helper()
	id, err := srv.CreateDevice(map[string]any{
		"displayName": name, "deviceId": deviceID, "accountEnabled": enabled,
		"operatingSystem": "Windows", "operatingSystemVersion": "10.0.22631.4460",
		"alternativeSecurityIds": []any{
			map[string]any{"type": 2, "key": graphsync.AltSecurityIDKey(altID)},
			map[string]any{"type": 1, "key": "AAEC"}, // not text: left out
		},
	})
	require.NoError(t, err)
	return id
}

// TestDeviceImport: devices come with their alternativeSecurityIds as text
// and their registered owner's on-premises SID (a cloud-only owner has
// none), and an accountEnabled change and a deletion reach a delta import.
func TestDeviceImport(t *testing.T) {
	srv, c := newEnv(t, graphtest.Options{}, func(cfg *graphsync.Config) { cfg.Types = []string{graphsync.TypeUser, graphsync.TypeDevice} })
	synced, err := srv.CreateUser(userProps("synced"))
	require.NoError(t, err)
	const sid = "S-1-5-21-1004336348-1177238915-682003330-1104"
	require.NoError(t, srv.SetSyncProperties(synced, map[string]any{"onPremisesSecurityIdentifier": sid, "onPremisesSyncEnabled": true}))
	cloudOnly, err := srv.CreateUser(userProps("cloud"))
	require.NoError(t, err)
	d1 := seedDevice(t, srv, "PC-1", "6a59e4a4-4f5b-4d8a-9b3e-0c1d2e3f4a5b", true)
	d2 := seedDevice(t, srv, "PC-2", "7b60f5b5-5a6c-4e9b-8c4f-1d2e3f4a5b6c", true)
	d3 := seedDevice(t, srv, "PC-3", "8c71a6c6-6b7d-4fac-9d5a-2e3f4a5b6c7d", false)
	require.NoError(t, srv.AddRegisteredOwner(d1, synced))
	require.NoError(t, srv.AddRegisteredOwner(d2, cloudOnly))

	rec := fullImport(t, c)
	require.Empty(t, rec.Errors)
	got := byAnchor(rec.Changes)
	tests := []struct {
		name    string
		id      string
		sid     string
		owner   string
		enabled bool
	}{
		{"owner synced from AD", d1, sid, synced, true},
		{"cloud-only owner: no SID", d2, "", cloudOnly, true},
		{"no owner, disabled", d3, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := got[connector.Anchor(tc.id)]
			assert.Equal(t, connector.Add, d.Kind)
			assert.Equal(t, "devices/"+tc.id, d.DN)
			assert.Equal(t, tc.sid, first(d.Attrs[graphsync.DeviceOwnerSID]))
			assert.Equal(t, str(altID), d.Attrs["alternativeSecurityIds"])
			assert.Equal(t, tc.enabled, d.Attrs["accountEnabled"][0].Bool())
			assert.Equal(t, "Windows", first(d.Attrs["operatingSystem"]))
			if tc.owner == "" {
				assert.Empty(t, d.Attrs[graphsync.DeviceOwners])
				return
			}
			require.Len(t, d.Attrs[graphsync.DeviceOwners], 1)
			a, _ := d.Attrs[graphsync.DeviceOwners][0].Ref()
			assert.Equal(t, connector.Anchor(tc.owner), a)
		})
	}
	for _, r := range srv.Requests() {
		if r.Path == "/v1.0/devices/delta" || r.Path == "/v1.0/devices/delta()" {
			assert.NotContains(t, r.Query, graphsync.DeviceOwnerSID, "derived attributes are not selected")
		}
	}

	wm := rec.Watermark()
	require.NoError(t, srv.Update(d1, map[string]any{"accountEnabled": false}))
	require.NoError(t, srv.Delete(d2))
	rec = deltaImport(t, c, wm)
	require.Empty(t, rec.Errors)
	got = byAnchor(rec.Changes)
	require.Len(t, got, 2)
	assert.Equal(t, connector.Delete, got[connector.Anchor(d2)].Kind)
	upd := got[connector.Anchor(d1)]
	assert.Equal(t, connector.Update, upd.Kind)
	assert.Contains(t, upd.Mods, connector.Mod{Name: "accountEnabled", Op: connector.ModReplace, Values: []connector.Value{connector.BoolValue(false)}})
	assert.Contains(t, upd.Mods, connector.Mod{Name: graphsync.DeviceOwnerSID, Op: connector.ModReplace, Values: str(sid)})
}
