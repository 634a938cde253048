package graphtest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/devices"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

// TestDeviceRegisteredOwners: the registeredOwners of a device through
// the SDK, as documented: list with $select, add by $ref, one owner only,
// remove by $ref; an owner change is not a device change in delta.
func TestDeviceRegisteredOwners(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{})
	c := newSDK(t, srv).client
	alice := seedUser(t, srv, "alice", nil)
	bob := seedUser(t, srv, "bob", nil)
	require.NoError(t, srv.SetSyncProperties(alice, map[string]any{"onPremisesSecurityIdentifier": "S-1-5-21-1-2-3-1104"}))
	dev, err := srv.CreateDevice(map[string]any{"displayName": "pc", "deviceId": "6a59e4a4-4f5b-4d8a-9b3e-0c1d2e3f4a5b"})
	require.NoError(t, err)

	dres, err := c.Devices().Delta().GetAsDeltaGetResponse(ctx, nil)
	require.NoError(t, err)
	deltaLink := *dres.GetOdataDeltaLink()

	ref := models.NewReferenceCreate()
	ref.SetOdataId(ptr(srv.URL() + "/v1.0/directoryObjects/" + alice))
	require.NoError(t, c.Devices().ByDeviceId(dev).RegisteredOwners().Ref().Post(ctx, ref, nil))
	require.Equal(t, []string{alice}, srv.RegisteredOwners(dev))

	owners, err := c.Devices().ByDeviceId(dev).RegisteredOwners().Get(ctx, &devices.ItemRegisteredOwnersRequestBuilderGetRequestConfiguration{
		QueryParameters: &devices.ItemRegisteredOwnersRequestBuilderGetQueryParameters{Select: []string{"id", "onPremisesSecurityIdentifier"}}})
	require.NoError(t, err)
	require.Len(t, owners.GetValue(), 1)
	u, ok := owners.GetValue()[0].(models.Userable)
	require.True(t, ok, "owners are typed directory objects")
	assert.Equal(t, "S-1-5-21-1-2-3-1104", *u.GetOnPremisesSecurityIdentifier())

	t.Run("one owner only", func(t *testing.T) {
		again := models.NewReferenceCreate()
		again.SetOdataId(ptr(srv.URL() + "/v1.0/directoryObjects/" + bob))
		err := c.Devices().ByDeviceId(dev).RegisteredOwners().Ref().Post(ctx, again, nil)
		assert.Equal(t, http.StatusBadRequest, responseStatus(t, err))
		assert.Equal(t, []string{alice}, srv.RegisteredOwners(dev))
	})
	t.Run("an owner change is not a device change in delta", func(t *testing.T) {
		next, err := devices.NewDeltaRequestBuilder(deltaLink, newSDK(t, srv).adapter).GetAsDeltaGetResponse(ctx, nil)
		require.NoError(t, err)
		assert.Empty(t, next.GetValue())
	})
	t.Run("remove by $ref", func(t *testing.T) {
		require.NoError(t, c.Devices().ByDeviceId(dev).RegisteredOwners().ByDirectoryObjectId(alice).Ref().Delete(ctx, nil))
		assert.Empty(t, srv.RegisteredOwners(dev))
		err := c.Devices().ByDeviceId(dev).RegisteredOwners().ByDirectoryObjectId(alice).Ref().Delete(ctx, nil)
		assert.Equal(t, http.StatusNotFound, responseStatus(t, err))
	})
	t.Run("sync properties only", func(t *testing.T) {
		require.Error(t, srv.SetSyncProperties(alice, map[string]any{"displayName": "x"}))
		p := models.NewUser()
		p.SetOnPremisesSecurityIdentifier(ptr("S-1-5-21-9"))
		_, err := c.Users().ByUserId(alice).Patch(ctx, p, nil)
		assert.Equal(t, http.StatusBadRequest, responseStatus(t, err), "read-only in Graph")
	})
}
