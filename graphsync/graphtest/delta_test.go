package graphtest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

// str reads a string the SDK left in AdditionalData (*string or string).
func str(v any) string {
	switch x := v.(type) {
	case *string:
		return *x
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// removedReason returns the @removed reason of a delta item, or "".
func removedReason(ad map[string]any) string {
	r, ok := ad["@removed"].(map[string]any)
	if !ok {
		return ""
	}
	return str(r["reason"])
}

// userDeltaRound follows a user delta round to its deltaLink.
func userDeltaRound(t *testing.T, c *sdk, link string, sel []string) (items map[string]models.Userable, deltaLink string, pages int) {
	t.Helper()
	ctx := context.Background()
	items = map[string]models.Userable{}
	var res users.DeltaGetResponseable
	var err error
	if link == "" {
		res, err = c.client.Users().Delta().GetAsDeltaGetResponse(ctx, &users.DeltaRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.DeltaRequestBuilderGetQueryParameters{Select: sel},
		})
	} else {
		res, err = c.client.Users().Delta().WithUrl(link).GetAsDeltaGetResponse(ctx, nil)
	}
	for {
		require.NoError(t, err)
		pages++
		for _, u := range res.GetValue() {
			items[*u.GetId()] = u
		}
		if res.GetOdataDeltaLink() != nil {
			require.Nil(t, res.GetOdataNextLink())
			return items, *res.GetOdataDeltaLink(), pages
		}
		require.NotNil(t, res.GetOdataNextLink())
		res, err = c.client.Users().Delta().WithUrl(*res.GetOdataNextLink()).GetAsDeltaGetResponse(ctx, nil)
	}
}

func TestUserDelta(t *testing.T) {
	srv := newServer(t, graphtest.Options{PageSize: 10})
	c := newSDK(t, srv)
	var ids []string
	for i := range 25 {
		ids = append(ids, seedUser(t, srv, fmt.Sprintf("d%02d", i), nil))
	}

	items, link, pages := userDeltaRound(t, c, "", []string{"id", "displayName", "department"})
	assert.Len(t, items, 25)
	assert.Equal(t, 3, pages)
	assert.Contains(t, link, "$deltatoken=")

	t.Run("no changes", func(t *testing.T) {
		items, l2, pages := userDeltaRound(t, c, link, nil)
		assert.Empty(t, items)
		assert.Equal(t, 1, pages)
		link = l2
	})

	t.Run("changes, deletes and creates", func(t *testing.T) {
		require.NoError(t, srv.Update(ids[3], map[string]any{"department": "Sales"}))
		require.NoError(t, srv.Update(ids[3], map[string]any{"department": "Ops"}))
		require.NoError(t, srv.Delete(ids[4]))
		created := seedUser(t, srv, "new", nil)
		tmp := seedUser(t, srv, "ephemeral", nil)
		require.NoError(t, srv.Delete(tmp))

		items, l2, _ := userDeltaRound(t, c, link, nil)
		require.Len(t, items, 3, "each changed object once; created-then-deleted objects omitted")
		assert.Equal(t, "Ops", *items[ids[3]].GetDepartment(), "$select is carried in the token")
		assert.Equal(t, "", removedReason(items[ids[3]].GetAdditionalData()))
		assert.Equal(t, "deleted", removedReason(items[ids[4]].GetAdditionalData()))
		assert.Equal(t, "User new", *items[created].GetDisplayName())
		link = l2
	})

	t.Run("expired token is 410 Gone", func(t *testing.T) {
		srv.ExpireDeltaTokens()
		_, err := c.client.Users().Delta().WithUrl(link).GetAsDeltaGetResponse(context.Background(), nil)
		require.Error(t, err)
		assert.Equal(t, http.StatusGone, responseStatus(t, err))
		assert.Equal(t, "resyncRequired", *odataErr(t, err).GetCode())
		resp, err := rawRequest(t, srv, http.MethodGet, strings.TrimPrefix(link, srv.URL()), nil, nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusGone, resp.StatusCode)
		assert.Equal(t, srv.URL()+"/v1.0/users/delta()?%24select=id%2CdisplayName%2Cdepartment", resp.Header.Get("Location"))

		// A fresh round works again.
		items, _, _ := userDeltaRound(t, c, "", nil)
		assert.Len(t, items, 25)
	})

	t.Run("deleted while paging the first round", func(t *testing.T) {
		first, err := c.client.Users().Delta().GetAsDeltaGetResponse(context.Background(), nil)
		require.NoError(t, err)
		require.Len(t, first.GetValue(), 10)
		seen := *first.GetValue()[0].GetId()
		require.NoError(t, srv.Delete(seen))
		items, _, _ := userDeltaRound(t, c, *first.GetOdataNextLink(), nil)
		require.Contains(t, items, seen, "removal of an object sent on an earlier page is reported")
		assert.Equal(t, "deleted", removedReason(items[seen].GetAdditionalData()))
	})

	t.Run("tampered token is 400", func(t *testing.T) {
		_, err := c.client.Users().Delta().WithUrl(link+"x").GetAsDeltaGetResponse(context.Background(), nil)
		assert.Equal(t, http.StatusBadRequest, responseStatus(t, err))
	})
}

// memberDelta decodes members@delta into id → "added" or "removed".
func memberDelta(t *testing.T, g models.Groupable) map[string]string {
	t.Helper()
	raw, ok := g.GetAdditionalData()["members@delta"]
	if !ok {
		return nil
	}
	out := map[string]string{}
	for _, m := range raw.([]any) {
		mm := m.(map[string]any)
		assert.Equal(t, "#microsoft.graph.user", str(mm["@odata.type"]))
		state := "added"
		if removedReason(mm) == "deleted" {
			state = "removed"
		}
		out[str(mm["id"])] = state
	}
	return out
}

func TestGroupDeltaMembers(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{})
	c := newSDK(t, srv)
	u1 := seedUser(t, srv, "g1", nil)
	u2 := seedUser(t, srv, "g2", nil)
	u3 := seedUser(t, srv, "g3", nil)
	gid := seedGroup(t, srv, "grp", nil)
	other := seedGroup(t, srv, "other", nil)
	require.NoError(t, srv.AddMember(gid, u1))
	require.NoError(t, srv.AddMember(gid, u2))

	res, err := c.client.Groups().Delta().GetAsDeltaGetResponse(ctx, &groups.DeltaRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.DeltaRequestBuilderGetQueryParameters{Select: []string{"displayName", "members"}},
	})
	require.NoError(t, err)
	require.Len(t, res.GetValue(), 2)
	require.NotNil(t, res.GetOdataDeltaLink())
	for _, g := range res.GetValue() {
		if *g.GetId() == gid {
			assert.Equal(t, map[string]string{u1: "added", u2: "added"}, memberDelta(t, g))
		} else {
			assert.Nil(t, memberDelta(t, g), "no members, no members@delta")
		}
	}

	require.NoError(t, srv.RemoveMember(gid, u1))
	require.NoError(t, srv.AddMember(gid, u3))
	require.NoError(t, srv.Delete(u2)) // deleting a member removes it from the group
	require.NoError(t, srv.Delete(other))

	res, err = c.client.Groups().Delta().WithUrl(*res.GetOdataDeltaLink()).GetAsDeltaGetResponse(ctx, nil)
	require.NoError(t, err)
	require.Len(t, res.GetValue(), 2)
	byID := map[string]models.Groupable{}
	for _, g := range res.GetValue() {
		byID[*g.GetId()] = g
	}
	assert.Equal(t, map[string]string{u1: "removed", u2: "removed", u3: "added"}, memberDelta(t, byID[gid]))
	assert.Equal(t, "Group grp", *byID[gid].GetDisplayName())
	assert.Equal(t, "deleted", removedReason(byID[other].GetAdditionalData()))

	// Device delta and /delta without parentheses answer too.
	_, err = srv.CreateDevice(map[string]any{"displayName": "pc"})
	require.NoError(t, err)
	dres, err := c.client.Devices().Delta().GetAsDeltaGetResponse(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, dres.GetValue(), 1)
	resp, err := rawRequest(t, srv, http.MethodGet, "/v1.0/groups/delta", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}
