package writeback_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
	"github.com/idbridge/idbridge/writeback"
)

// adDeviceSchema is the msDS-Device type as connector/ldap reads it from
// Samba's schema.
var adDeviceSchema = &connector.Schema{Types: []connector.ObjectType{{Name: writeback.DeviceType, Attributes: []connector.Attribute{
	{Name: "displayName", Type: connector.String},
	{Name: "msDS-DeviceID", Type: connector.Bytes},
	{Name: "msDS-DeviceOSType", Type: connector.String},
	{Name: "msDS-DeviceOSVersion", Type: connector.String},
	{Name: "msDS-IsEnabled", Type: connector.Boolean},
	{Name: "msDS-RegisteredOwner", Type: connector.Bytes},
	{Name: "altSecurityIdentities", Type: connector.String, Multi: true},
	{Name: "msDS-CloudAnchor", Type: connector.Bytes},
}}}}

// cloudDeviceSchema is graphsync's device type.
func cloudDeviceSchema(t testing.TB) *connector.Schema {
	t.Helper()
	c, err := graphsync.New(graphsync.Config{Credential: graphsync.StaticToken("unused-token-1"), Types: []string{graphsync.TypeDevice}})
	require.NoError(t, err)
	defer c.Close()
	s, err := c.Schema(context.Background())
	require.NoError(t, err)
	return s
}

func cloudDevice(id, deviceID, name string, enabled bool, ownerSID string, extra connector.Attributes) connector.Object {
	attrs := connector.Attributes{
		"id": {connector.StringValue(id)}, "deviceId": {connector.StringValue(deviceID)},
		"displayName": {connector.StringValue(name)}, "accountEnabled": {connector.BoolValue(enabled)},
		"operatingSystem": {connector.StringValue("iOS")}, "operatingSystemVersion": {connector.StringValue("18.1")},
		"alternativeSecurityIds": {connector.StringValue("X509:<SHA1-TP-PUBKEY>" + id)},
	}
	if ownerSID != "" {
		attrs[graphsync.DeviceOwnerSID] = []connector.Value{connector.StringValue(ownerSID)}
	}
	for k, v := range extra {
		attrs[k] = v
	}
	return connector.Object{Anchor: connector.Anchor(id), DN: "devices/" + id, Type: graphsync.TypeDevice, Attrs: attrs}
}

// TestDeviceRulesInMemory runs the shipped device rules between in-memory
// connectors: what is in scope, the binary values, a custom name escaped.
func TestDeviceRulesInMemory(t *testing.T) {
	ctx := context.Background()
	cloud := memconn.New(cloudDeviceSchema(t))
	cloud.Put(cloudDevice("c1", "6a59e4a4-4f5b-4d8a-9b3e-0c1d2e3f4a5b", "Ada, laptop", true, "S-1-5-21-1-2-3-1104", nil))
	cloud.Put(cloudDevice("c2", "7b60f5b5-5a6c-4e9b-8c4f-1d2e3f4a5b6c", "No owner", false, "", nil))
	cloud.Put(cloudDevice("c3", "8c71a6c6-6b7d-4fac-9d5a-2e3f4a5b6c7d", "Hybrid", true, "", connector.Attributes{"trustType": {connector.StringValue("ServerAd")}}))
	cloud.Put(cloudDevice("c4", "9d82b7d7-7c8e-4abd-8e6b-3f4a5b6c7d8e", "No certificate", true, "", connector.Attributes{"alternativeSecurityIds": nil}))
	ad := memconn.New(adDeviceSchema)
	rf, err := writeback.DeviceRules{Container: "CN=RegisteredDevices,DC=contoso,DC=com", Name: "source.displayName", AD: "dir", Cloud: "entra"}.File()
	require.NoError(t, err)
	store := memstore.New()
	defer store.Close()
	eng, err := idbridge.New(ctx, idbridge.Config{Store: store, Connectors: map[string]connector.Connector{"dir": ad.Connector(), "entra": cloud.Connector()}, Rules: rf})
	require.NoError(t, err)
	res, err := eng.Cycle(ctx, idbridge.Initial)
	require.NoError(t, err)
	require.Empty(t, res.Errors())

	require.Equal(t, 2, ad.Len(), "the hybrid-joined device and the one without a certificate stay out")
	o, ok := ad.ByDN(`CN=Ada\, laptop,CN=RegisteredDevices,DC=contoso,DC=com`)
	require.True(t, ok, "the name is escaped: %v", ad.All())
	sid, _ := o.Attrs.First("msDS-RegisteredOwner")
	assert.Equal(t, []byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0x50, 4, 0, 0}, sid.Octets())
	id, _ := o.Attrs.First("msDS-DeviceID")
	assert.Equal(t, []byte{0xa4, 0xe4, 0x59, 0x6a, 0x5b, 0x4f, 0x8a, 0x4d, 0x9b, 0x3e, 0x0c, 0x1d, 0x2e, 0x3f, 0x4a, 0x5b}, id.Octets())
	anchor, _ := o.Attrs.First("msDS-CloudAnchor")
	assert.Equal(t, "Device_c1", string(anchor.Octets()))
	noOwner, ok := ad.ByDN("CN=No owner,CN=RegisteredDevices,DC=contoso,DC=com")
	require.True(t, ok)
	assert.NotContains(t, noOwner.Attrs, "msDS-RegisteredOwner")
	enabled, _ := noOwner.Attrs.First("msDS-IsEnabled")
	assert.False(t, enabled.Bool())
}

func TestRuleSetsValidate(t *testing.T) {
	tests := []struct {
		name string
		load func() (*rules.File, error)
		err  string
	}{
		{"group rules need an OU", writeback.GroupRules{}.File, "an OU is required"},
		{"device rules need a container", writeback.DeviceRules{}.File, "a Container is required"},
		{"group rules", writeback.GroupRules{OU: "OU=Cloud Groups,DC=contoso,DC=com"}.File, ""},
		{"device rules", writeback.DeviceRules{Container: "CN=RegisteredDevices,DC=contoso,DC=com"}.File, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := tt.load()
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.NotEmpty(t, f.Rules)
		})
	}
}

func TestMerge(t *testing.T) {
	g, err := writeback.GroupRules{OU: "OU=G,DC=x"}.File()
	require.NoError(t, err)
	d, err := writeback.DeviceRules{Container: "CN=RegisteredDevices,DC=x"}.File()
	require.NoError(t, err)
	m, err := writeback.Merge(g, d)
	require.NoError(t, err)
	assert.Len(t, m.Rules, len(g.Rules)+len(d.Rules))
	assert.Len(t, m.Metaverse.Types, len(g.Metaverse.Types)+len(d.Metaverse.Types))
	_, err = writeback.Merge(g, g)
	assert.ErrorContains(t, err, `metaverse type "person" is defined twice`)
}

// The shipped device rule set, loaded with a product's container and
// connector names: the rules and the DN the outbound rule builds.
func ExampleDeviceRules() {
	f, err := writeback.DeviceRules{Container: "CN=RegisteredDevices,DC=contoso,DC=com", Cloud: "entra"}.File()
	if err != nil {
		panic(err)
	}
	for _, r := range f.Rules {
		fmt.Println(r.Direction, r.Connector, r.Name)
		for _, fl := range r.Flows {
			if fl.Target == "dn" {
				fmt.Println("  dn:", fl.Expression)
			}
		}
	}
	// Output:
	// inbound entra In from AAD - Device
	// outbound ad Out to AD - Device
	//   dn: rdn("CN", source.deviceId) + "," + "CN=RegisteredDevices,DC=contoso,DC=com"
}

// The group writeback rule set with a product's OU and its own naming: the
// CN is the display name alone (escaped by the loader), the
// sAMAccountName the mail nickname.
func ExampleGroupRules() {
	f, err := writeback.GroupRules{
		OU:          "OU=Cloud Groups,DC=contoso,DC=com",
		Name:        "source.displayName",
		AccountName: "source.mailNickname",
	}.File()
	if err != nil {
		panic(err)
	}
	for _, r := range f.Rules {
		if r.Name != writeback.GroupWritebackRule {
			continue
		}
		for _, fl := range r.Flows {
			if fl.Target == "dn" || fl.Target == "sAMAccountName" {
				fmt.Printf("%s: %s\n", fl.Target, fl.Expression)
			}
		}
	}
	// Output:
	// dn: rdn("CN", source.displayName) + "," + "OU=Cloud Groups,DC=contoso,DC=com"
	// sAMAccountName: source.mailNickname
}

// PrepareDeviceContainer creates the device container once; a second call
// finds it there. With connector/ldap on AD the code is the same.
func ExamplePrepareDeviceContainer() {
	dir := memconn.New(&connector.Schema{Types: []connector.ObjectType{{Name: writeback.DeviceContainerType}}})
	ctx := context.Background()
	fmt.Println(writeback.PrepareDeviceContainer(ctx, dir.Connector(), "CN=RegisteredDevices,DC=contoso,DC=com"))
	fmt.Println(writeback.PrepareDeviceContainer(ctx, dir.Connector(), "CN=RegisteredDevices,DC=contoso,DC=com"))
	fmt.Println(dir.Len())
	// Output:
	// <nil>
	// <nil>
	// 1
}

func TestPrepareDeviceContainerFails(t *testing.T) {
	const dn = "CN=RegisteredDevices,DC=contoso,DC=com"
	tests := []struct {
		name string
		fail func(*memconn.System)
		want error
	}{
		{"refused", func(s *memconn.System) { s.FailObject(memconn.OpExport, dn, connector.ErrAccessDenied) }, connector.ErrAccessDenied},
		{"the call fails", func(s *memconn.System) { s.FailCall(memconn.OpExport, connector.ErrUnavailable) }, connector.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := memconn.New(&connector.Schema{Types: []connector.ObjectType{{Name: writeback.DeviceContainerType}}})
			tt.fail(dir)
			err := writeback.PrepareDeviceContainer(context.Background(), dir.Connector(), dn)
			require.ErrorIs(t, err, writeback.ErrDeviceContainer)
			require.ErrorIs(t, err, tt.want)
			assert.Zero(t, dir.Len())
		})
	}
}
