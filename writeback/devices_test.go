package writeback_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldap"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
	"github.com/idbridge/idbridge/internal/adcodec"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/writeback"
)

// deviceWorld is Samba AD with a device container of the test's own
// (msDS-DeviceContainer exists only directly under the domain, so the
// test cannot use an OU: it makes CN=RegisteredDevices-<random>), three
// AD users whose SIDs their cloud users carry, and the Graph emulator,
// synced by the engine with the shipped device rules.
type deviceWorld struct {
	t         *testing.T
	ctx       context.Context
	admin     *goldap.Conn
	container string
	sids      map[string][]byte // cloud user id → AD objectSid
	srv       *graphtest.Server
	eng       *idbridge.Engine
}

func newDeviceWorld(t *testing.T) *deviceWorld {
	env := loadDirEnv(t, "AD", "Samba AD domain controller")
	w := &deviceWorld{t: t, ctx: context.Background(), admin: env.admin(t), sids: map[string][]byte{}}
	ou := env.newOU(t, w.admin, "OU")
	w.container = "CN=RegisteredDevices-" + unique("") + "," + env.base
	t.Cleanup(func() { deleteTree(w.admin, w.container) })

	w.srv = graphtest.NewServer(graphtest.Options{Token: graphToken, InitialDomain: "contoso.onmicrosoft.com", Domains: []string{"example.test"}})
	t.Cleanup(w.srv.Close)
	// Three users in AD, synced to the cloud: the cloud users carry the
	// AD SIDs as Entra Connect's sync sets onPremisesSecurityIdentifier.
	for range 3 {
		sam := unique("dv")
		dn := "CN=" + sam + "," + ou
		addEntry(t, w.admin, dn, map[string][]string{"objectClass": {"user"}, "sAMAccountName": {sam}})
		res, err := w.admin.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"objectSid"}, nil))
		require.NoError(t, err)
		sid := res.Entries[0].GetRawAttributeValue("objectSid")
		require.NotEmpty(t, sid)
		id, err := w.srv.CreateUser(map[string]any{"userPrincipalName": sam + "@example.test", "displayName": sam, "mailNickname": sam,
			"accountEnabled": true, "passwordProfile": map[string]any{"password": "Cl0ud-pw-" + sam}})
		require.NoError(t, err)
		require.NoError(t, w.srv.SetSyncProperties(id, map[string]any{"onPremisesSecurityIdentifier": sidText(sid), "onPremisesSyncEnabled": true}))
		w.sids[id] = sid
	}

	aad, err := graphsync.New(graphsync.Config{
		BaseURL: w.srv.URL() + "/v1.0", Credential: graphsync.StaticToken(graphToken), HTTPClient: w.srv.Client(),
		WriteBudget: graphsync.Unlimited, Types: []string{graphsync.TypeDevice},
	})
	require.NoError(t, err)
	t.Cleanup(func() { aad.Close() })
	ad, err := ldap.New(ldap.Config{
		URL: env.url, CAFile: env.ca, BindDN: env.bindDN, Password: connector.NewSecret(env.password),
		Containers: []ldap.Container{{DN: w.container}},
		Types: []ldap.TypeConfig{
			{Name: writeback.DeviceType, ObjectClasses: []string{"msDS-Device"}, Attributes: writeback.DeviceAttributes()},
			{Name: writeback.DeviceContainerType, ObjectClasses: []string{"msDS-DeviceContainer"}},
		},
		NoContainerTypes: true,
	})
	require.NoError(t, err)
	t.Cleanup(func() { ad.Close() })

	require.NoError(t, writeback.PrepareDeviceContainer(w.ctx, ad, w.container))
	require.NoError(t, writeback.PrepareDeviceContainer(w.ctx, ad, w.container), "a second time: already there")

	rf, err := writeback.DeviceRules{Container: w.container}.File()
	require.NoError(t, err)
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	w.eng, err = idbridge.New(w.ctx, idbridge.Config{Store: store, Connectors: map[string]connector.Connector{"ad": ad, "aad": aad}, Rules: rf})
	require.NoError(t, err)
	return w
}

func (w *deviceWorld) cycle(mode idbridge.CycleMode) {
	w.t.Helper()
	res, err := w.eng.Cycle(w.ctx, mode)
	require.NoError(w.t, err)
	require.Empty(w.t, res.Errors())
}

// adDevices returns the msDS-Device entries of the container by CN.
func (w *deviceWorld) adDevices() map[string]*goldap.Entry {
	w.t.Helper()
	res, err := w.admin.Search(goldap.NewSearchRequest(w.container, goldap.ScopeSingleLevel, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=msDS-Device)", append([]string{"cn"}, writeback.DeviceAttributes()...), nil))
	require.NoError(w.t, err)
	out := map[string]*goldap.Entry{}
	for _, e := range res.Entries {
		out[strings.ToLower(e.GetAttributeValue("cn"))] = e
	}
	return out
}

// sidText formats a binary SID as "S-1-5-21-…".
func sidText(b []byte) string {
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	s := "S-" + strconv.Itoa(int(b[0])) + "-" + strconv.FormatUint(auth, 10)
	for i := 8; i+4 <= len(b); i += 4 {
		s += "-" + strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[i:])), 10)
	}
	return s
}

// TestSambaDeviceSchema reads what the schema of Samba's DC offers device
// writeback (the README and doc.go say the same): msDS-Device and
// msDS-DeviceContainer exist, with the attributes Entra Connect writes, but
// not the Windows Server 2016 ones (msDS-DeviceTrustType, msDS-IsCompliant).
func TestSambaDeviceSchema(t *testing.T) {
	env := loadDirEnv(t, "AD", "Samba AD domain controller")
	admin := env.admin(t)
	schemaDN := "CN=Schema,CN=Configuration," + env.base
	find := func(name string) *goldap.Entry {
		res, err := admin.Search(goldap.NewSearchRequest(schemaDN, goldap.ScopeSingleLevel, goldap.NeverDerefAliases, 0, 0, false,
			"(lDAPDisplayName="+goldap.EscapeFilter(name)+")", []string{"systemMustContain", "systemMayContain", "systemPossSuperiors", "isSingleValued"}, nil))
		require.NoError(t, err)
		if len(res.Entries) == 0 {
			return nil
		}
		return res.Entries[0]
	}
	dev := find("msDS-Device")
	require.NotNil(t, dev, "msDS-Device")
	assert.ElementsMatch(t, []string{"msDS-DeviceID", "msDS-IsEnabled", "altSecurityIdentities", "displayName"}, dev.GetAttributeValues("systemMustContain"))
	for _, a := range []string{"msDS-RegisteredOwner", "msDS-DeviceOSType", "msDS-DeviceOSVersion", "msDS-CloudAnchor", "msDS-DevicePhysicalIDs", "msDS-IsManaged", "msDS-RegisteredUsers"} {
		assert.Contains(t, dev.GetAttributeValues("systemMayContain"), a)
	}
	assert.Equal(t, []string{"domainDNS"}, find("msDS-DeviceContainer").GetAttributeValues("systemPossSuperiors"), "only directly under the domain")
	for _, a := range []string{"msDS-DeviceTrustType", "msDS-IsCompliant"} {
		assert.Nil(t, find(a), "%s is not in Samba's schema", a)
	}
}

// TestDeviceWriteback: three cloud devices with registered owners appear
// in the device container with the attributes Entra Connect writes;
// disabling one in the cloud sets msDS-IsEnabled FALSE at the next cycle;
// deleting one removes it.
func TestDeviceWriteback(t *testing.T) {
	w := newDeviceWorld(t)
	var owners []string
	for id := range w.sids {
		owners = append(owners, id)
	}
	type dev struct{ id, deviceID, name, alt string }
	devs := []dev{
		{deviceID: "6a59e4a4-4f5b-4d8a-9b3e-0c1d2e3f4a5b", name: "Ada's laptop", alt: "X509:<SHA1-TP-PUBKEY>1111111111111111111111111111111111111111aGFzaDE="},
		{deviceID: "7b60f5b5-5a6c-4e9b-8c4f-1d2e3f4a5b6c", name: "PC, second floor", alt: "X509:<SHA1-TP-PUBKEY>2222222222222222222222222222222222222222aGFzaDI="},
		{deviceID: "8c71a6c6-6b7d-4fac-9d5a-2e3f4a5b6c7d", name: "Phone", alt: "X509:<SHA1-TP-PUBKEY>3333333333333333333333333333333333333333aGFzaDM="},
	}
	for i := range devs {
		id, err := w.srv.CreateDevice(map[string]any{
			"displayName": devs[i].name, "deviceId": devs[i].deviceID, "accountEnabled": true,
			"operatingSystem": "Windows", "operatingSystemVersion": "10.0.2263" + strconv.Itoa(i),
			"trustType":              "AzureAd",
			"alternativeSecurityIds": []any{map[string]any{"type": 2, "key": graphsync.AltSecurityIDKey(devs[i].alt)}},
		})
		require.NoError(t, err)
		require.NoError(t, w.srv.AddRegisteredOwner(id, owners[i]))
		devs[i].id = id
	}
	// A hybrid-joined device (it came from AD) is not written back.
	_, err := w.srv.CreateDevice(map[string]any{"displayName": "Hybrid", "deviceId": "9d82b7d7-7c8e-4abd-8e6b-3f4a5b6c7d8e", "accountEnabled": true,
		"trustType": "ServerAd", "alternativeSecurityIds": []any{map[string]any{"type": 2, "key": graphsync.AltSecurityIDKey("X509:<SHA1-TP-PUBKEY>44")}}})
	require.NoError(t, err)

	w.cycle(idbridge.Initial)
	got := w.adDevices()
	require.Len(t, got, 3)
	for i, d := range devs {
		e := got[strings.ToLower(d.deviceID)]
		require.NotNil(t, e, d.deviceID)
		assert.Equal(t, d.name, e.GetAttributeValue("displayName"))
		want, err := adcodec.ParseGUID(d.deviceID)
		require.NoError(t, err)
		assert.Equal(t, want, e.GetRawAttributeValue("msDS-DeviceID"), "the device id as a GUID in AD's byte order")
		assert.Equal(t, "Windows", e.GetAttributeValue("msDS-DeviceOSType"))
		assert.Equal(t, "10.0.2263"+strconv.Itoa(i), e.GetAttributeValue("msDS-DeviceOSVersion"))
		assert.Equal(t, "TRUE", e.GetAttributeValue("msDS-IsEnabled"))
		assert.True(t, bytes.Equal(w.sids[owners[i]], e.GetRawAttributeValue("msDS-RegisteredOwner")), "the owner's objectSid")
		assert.Equal(t, []string{d.alt}, e.GetAttributeValues("altSecurityIdentities"))
		assert.Equal(t, "Device_"+d.id, string(e.GetRawAttributeValue("msDS-CloudAnchor")))
	}

	t.Run("disabled in the cloud", func(t *testing.T) {
		require.NoError(t, w.srv.Update(devs[1].id, map[string]any{"accountEnabled": false}))
		w.cycle(idbridge.Delta)
		got := w.adDevices()
		assert.Equal(t, "FALSE", got[devs[1].deviceID].GetAttributeValue("msDS-IsEnabled"))
		assert.Equal(t, "TRUE", got[devs[0].deviceID].GetAttributeValue("msDS-IsEnabled"))
	})
	t.Run("deleted in the cloud", func(t *testing.T) {
		require.NoError(t, w.srv.Delete(devs[2].id))
		w.cycle(idbridge.Delta)
		got := w.adDevices()
		assert.Len(t, got, 2)
		assert.NotContains(t, got, devs[2].deviceID)
	})
}
