package graphtest_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

// TestManagerRef: PUT, GET and DELETE of a user's manager through the SDK,
// as documented (user-post-manager, user-list-manager,
// user-delete-manager): 204s, 404 without a manager, a group refused as a
// manager, a deleted manager removed from its reports, and the manager
// kept by Snapshot and Restore.
func TestManagerRef(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{})
	c := newSDK(t, srv).client
	mk := func(name string) string {
		u, err := c.Users().Post(ctx, newUser(name, "example.com"), nil)
		require.NoError(t, err)
		return *u.GetId()
	}
	boss, report, other := mk("boss"), mk("report"), mk("other")
	ref := func(id string) models.ReferenceUpdateable {
		r := models.NewReferenceUpdate()
		r.SetOdataId(ptr(srv.URL() + "/v1.0/directoryObjects/" + id))
		return r
	}

	_, err := c.Users().ByUserId(report).Manager().Get(ctx, nil)
	assert.Equal(t, "Request_ResourceNotFound", *odataErr(t, err).GetCode(), "no manager yet")

	require.NoError(t, c.Users().ByUserId(report).Manager().Ref().Put(ctx, ref(boss), nil))
	m, err := c.Users().ByUserId(report).Manager().Get(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, boss, *m.GetId())
	obj, _ := srv.Object(report)
	assert.Equal(t, boss, obj["manager"])

	gid, err := srv.CreateGroup(map[string]any{"displayName": "G", "mailEnabled": false, "mailNickname": "g", "securityEnabled": true})
	require.NoError(t, err)
	err = c.Users().ByUserId(report).Manager().Ref().Put(ctx, ref(gid), nil)
	assert.Equal(t, "Request_BadRequest", *odataErr(t, err).GetCode(), "a group cannot be a manager")

	// Snapshot and Restore keep it.
	var snap bytes.Buffer
	require.NoError(t, srv.Snapshot(&snap))
	restored := newServer(t, graphtest.Options{})
	require.NoError(t, restored.Restore(&snap))
	obj, _ = restored.Object(report)
	assert.Equal(t, boss, obj["manager"])

	require.NoError(t, c.Users().ByUserId(report).Manager().Ref().Delete(ctx, nil))
	obj, _ = srv.Object(report)
	assert.NotContains(t, obj, "manager")
	err = c.Users().ByUserId(report).Manager().Ref().Delete(ctx, nil)
	assert.Equal(t, "Request_ResourceNotFound", *odataErr(t, err).GetCode(), "no manager to remove")

	// Deleting a manager removes it from its reports.
	require.NoError(t, srv.SetManager(other, boss))
	require.NoError(t, c.Users().ByUserId(boss).Delete(ctx, nil))
	obj, _ = srv.Object(other)
	assert.NotContains(t, obj, "manager")
}
