package graphtest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

func ref(id string) models.ReferenceCreateable {
	r := models.NewReferenceCreate()
	r.SetOdataId(ptr("https://graph.microsoft.com/v1.0/directoryObjects/" + id))
	return r
}

func TestGroupsAndMembers(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{PageSize: 2})
	c := newSDK(t, srv).client
	u1 := seedUser(t, srv, "m1", nil)
	u2 := seedUser(t, srv, "m2", nil)
	u3 := seedUser(t, srv, "m3", nil)
	dev, err := srv.CreateDevice(map[string]any{"displayName": "laptop", "deviceId": "d-1"})
	require.NoError(t, err)

	g := models.NewGroup()
	g.SetDisplayName(ptr("Engineering"))
	g.SetMailEnabled(ptr(false))
	g.SetMailNickname(ptr("eng"))
	g.SetSecurityEnabled(ptr(true))
	g.SetAdditionalData(map[string]any{
		"members@odata.bind": []string{"https://graph.microsoft.com/v1.0/directoryObjects/" + u1},
		"owners@odata.bind":  []string{"https://graph.microsoft.com/v1.0/users/" + u3},
	})
	created, err := c.Groups().Post(ctx, g, nil)
	require.NoError(t, err)
	gid := *created.GetId()

	t.Run("add via $ref, duplicate refused", func(t *testing.T) {
		require.NoError(t, c.Groups().ByGroupId(gid).Members().Ref().Post(ctx, ref(u2), nil))
		require.NoError(t, c.Groups().ByGroupId(gid).Members().Ref().Post(ctx, ref(dev), nil))
		err := c.Groups().ByGroupId(gid).Members().Ref().Post(ctx, ref(u2), nil)
		oe := odataErr(t, err)
		assert.Equal(t, http.StatusBadRequest, responseStatus(t, err))
		assert.Equal(t, "One or more added object references already exist for the following modified properties: 'members'.", *oe.GetMessage())
		err = c.Groups().ByGroupId(gid).Members().Ref().Post(ctx, ref("00000000-0000-4000-8000-000000000000"), nil)
		assert.Equal(t, http.StatusNotFound, responseStatus(t, err))
	})

	t.Run("list members with paging and types", func(t *testing.T) {
		page, err := c.Groups().ByGroupId(gid).Members().Get(ctx, nil)
		require.NoError(t, err)
		require.Len(t, page.GetValue(), 2)
		require.NotNil(t, page.GetOdataNextLink())
		next, err := c.Groups().ByGroupId(gid).Members().WithUrl(*page.GetOdataNextLink()).Get(ctx, nil)
		require.NoError(t, err)
		all := append(page.GetValue(), next.GetValue()...)
		types := map[string]string{}
		for _, m := range all {
			types[*m.GetId()] = *m.GetOdataType()
		}
		assert.Equal(t, map[string]string{u1: "#microsoft.graph.user", u2: "#microsoft.graph.user", dev: "#microsoft.graph.device"}, types)
		_, isUser := all[0].(models.Userable)
		assert.True(t, isUser, "SDK resolves the member type from @odata.type")

		owners, err := c.Groups().ByGroupId(gid).Owners().Get(ctx, nil)
		require.NoError(t, err)
		require.Len(t, owners.GetValue(), 1)
		assert.Equal(t, u3, *owners.GetValue()[0].GetId())
	})

	t.Run("remove via $ref", func(t *testing.T) {
		require.NoError(t, c.Groups().ByGroupId(gid).Members().ByDirectoryObjectId(u2).Ref().Delete(ctx, nil))
		err := c.Groups().ByGroupId(gid).Members().ByDirectoryObjectId(u2).Ref().Delete(ctx, nil)
		assert.Equal(t, http.StatusNotFound, responseStatus(t, err))
		obj, _ := srv.Object(gid)
		assert.ElementsMatch(t, []string{u1, dev}, obj["members"])
		assert.Equal(t, []string{u3}, obj["owners"])
	})

	t.Run("PATCH members@odata.bind", func(t *testing.T) {
		p := models.NewGroup()
		p.SetAdditionalData(map[string]any{"members@odata.bind": []string{
			"https://graph.microsoft.com/v1.0/directoryObjects/" + u2,
			"https://graph.microsoft.com/v1.0/directoryObjects/" + u3,
		}})
		_, err := c.Groups().ByGroupId(gid).Patch(ctx, p, nil)
		require.NoError(t, err)
		obj, _ := srv.Object(gid)
		assert.ElementsMatch(t, []string{u1, u2, u3, dev}, obj["members"])
	})

	t.Run("group validation", func(t *testing.T) {
		bad := models.NewGroup()
		bad.SetDisplayName(ptr("No nickname"))
		bad.SetMailEnabled(ptr(false))
		bad.SetSecurityEnabled(ptr(true))
		_, err := c.Groups().Post(ctx, bad, nil)
		assert.Contains(t, *odataErr(t, err).GetMessage(), "'mailNickname' of resource 'Group'")
	})

	t.Run("Unified group gets mail and proxyAddresses", func(t *testing.T) {
		m365 := models.NewGroup()
		m365.SetDisplayName(ptr("Team"))
		m365.SetGroupTypes([]string{"Unified"})
		m365.SetMailEnabled(ptr(true))
		m365.SetMailNickname(ptr("team"))
		m365.SetSecurityEnabled(ptr(false))
		created, err := c.Groups().Post(ctx, m365, nil)
		require.NoError(t, err)
		assert.Equal(t, "team@contoso.onmicrosoft.com", *created.GetMail())
		list, err := c.Groups().Get(ctx, &groups.GroupsRequestBuilderGetRequestConfiguration{
			QueryParameters: &groups.GroupsRequestBuilderGetQueryParameters{
				Filter: ptr("groupTypes/any(t:t eq 'Unified')"), Select: []string{"id", "proxyAddresses"},
			},
		})
		require.NoError(t, err)
		require.Len(t, list.GetValue(), 1)
		assert.Equal(t, []string{"SMTP:team@contoso.onmicrosoft.com"}, list.GetValue()[0].GetProxyAddresses())
	})
}

func TestAssignRoleAndMemberOf(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{})
	c := newSDK(t, srv).client
	admin := seedUser(t, srv, "admin", nil)
	gid := seedGroup(t, srv, "admins", nil)
	require.NoError(t, srv.AddMember(gid, admin))
	require.NoError(t, srv.AssignRole(admin, "Global Administrator"))
	require.NoError(t, srv.AssignRole(admin, "User Administrator"))
	assert.ErrorIs(t, srv.AssignRole(admin, "User Administrator"), graphtest.ErrConflict)
	assert.ErrorIs(t, srv.AddMember(gid, admin), graphtest.ErrConflict)

	memberOf, err := c.Users().ByUserId(admin).MemberOf().Get(ctx, nil)
	require.NoError(t, err)
	got := map[string]string{}
	for _, o := range memberOf.GetValue() {
		switch v := o.(type) {
		case models.Groupable:
			got[*v.GetDisplayName()] = *o.GetOdataType()
		case models.DirectoryRoleable:
			got[*v.GetDisplayName()] = *o.GetOdataType()
		}
	}
	assert.Equal(t, map[string]string{
		"Group admins":         "#microsoft.graph.group",
		"Global Administrator": "#microsoft.graph.directoryRole",
		"User Administrator":   "#microsoft.graph.directoryRole",
	}, got)

	roles, err := c.DirectoryRoles().Get(ctx, nil)
	require.NoError(t, err)
	var gaID string
	for _, r := range roles.GetValue() {
		if *r.GetDisplayName() == "Global Administrator" {
			gaID = *r.GetId()
			assert.Equal(t, "62e90394-69f5-4237-9190-012177145e10", *r.GetRoleTemplateId())
		}
	}
	require.NotEmpty(t, gaID)
	members, err := c.DirectoryRoles().ByDirectoryRoleId(gaID).Members().Get(ctx, nil)
	require.NoError(t, err)
	require.Len(t, members.GetValue(), 1)
	assert.Equal(t, admin, *members.GetValue()[0].GetId())

	// Deleting the user removes its memberships.
	require.NoError(t, srv.Delete(admin))
	obj, _ := srv.Object(gid)
	assert.Empty(t, obj["members"])
	assert.ErrorIs(t, srv.RemoveMember(gid, seedUser(t, srv, "tmp", nil)), graphtest.ErrNotFound)
}
