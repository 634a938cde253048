package graphtest_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

func TestUserCreateGetUpdateDelete(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{})
	c := newSDK(t, srv).client

	body := newUser("alice", "example.com")
	body.SetMail(ptr("alice@example.com"))
	created, err := c.Users().Post(ctx, body, nil)
	require.NoError(t, err)
	id := *created.GetId()
	assert.Len(t, id, 36)
	assert.Equal(t, "alice@example.com", *created.GetUserPrincipalName())

	got, err := c.Users().ByUserId(id).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{
			Select: []string{"id", "displayName", "proxyAddresses", "passwordProfile", "accountEnabled"},
		},
	})
	require.NoError(t, err)
	assert.Equal(t, "User alice", *got.GetDisplayName())
	assert.Equal(t, []string{"SMTP:alice@example.com"}, got.GetProxyAddresses())
	assert.Nil(t, got.GetPasswordProfile(), "passwordProfile is never returned")
	assert.True(t, *got.GetAccountEnabled())

	// By userPrincipalName, case-insensitively.
	byUPN, err := c.Users().ByUserId("ALICE@example.com").Get(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, id, *byUPN.GetId())

	patch := models.NewUser()
	patch.SetJobTitle(ptr("Engineer"))
	_, err = c.Users().ByUserId(id).Patch(ctx, patch, nil)
	require.NoError(t, err)
	obj, ok := srv.Object(id)
	require.True(t, ok)
	assert.Equal(t, "Engineer", obj["jobTitle"])
	assert.NotContains(t, obj, "passwordProfile")

	require.NoError(t, c.Users().ByUserId(id).Delete(ctx, nil))
	_, err = c.Users().ByUserId(id).Get(ctx, nil)
	oe := odataErr(t, err)
	assert.Equal(t, "Request_ResourceNotFound", *oe.GetCode())
	assert.Contains(t, *oe.GetMessage(), "Resource '"+id+"' does not exist")
	assert.Equal(t, http.StatusNotFound, responseStatus(t, err))
	assert.NotNil(t, oe.GetInnerError())
	assert.Equal(t, 3, srv.Writes())
}

func TestUserDefaultProperties(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{})
	c := newSDK(t, srv).client
	id := seedUser(t, srv, "bob", map[string]any{"department": "Sales", "jobTitle": "Rep"})

	got, err := c.Users().ByUserId(id).Get(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "Rep", *got.GetJobTitle(), "jobTitle is in the default set")
	assert.Nil(t, got.GetDepartment(), "department needs $select")
	assert.Equal(t, []string{}, got.GetBusinessPhones())
}

func TestUserCreateValidation(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{Domains: []string{"example.com", "corp.example"}})
	c := newSDK(t, srv).client

	tests := []struct {
		name    string
		body    func() models.Userable
		message string
		target  string
	}{
		{"missing passwordProfile", func() models.Userable {
			u := newUser("a1", "example.com")
			u.SetPasswordProfile(nil)
			return u
		}, "Invalid value specified for property 'passwordProfile' of resource 'User'.", "passwordProfile"},
		{"missing mailNickname", func() models.Userable {
			u := newUser("a2", "example.com")
			u.SetMailNickname(nil)
			return u
		}, "Invalid value specified for property 'mailNickname' of resource 'User'.", "mailNickname"},
		{"missing accountEnabled", func() models.Userable {
			u := newUser("a3", "example.com")
			u.SetAccountEnabled(nil)
			return u
		}, "Invalid value specified for property 'accountEnabled' of resource 'User'.", "accountEnabled"},
		{"unverified domain", func() models.Userable { return newUser("a4", "fabrikam.com") },
			"The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.",
			"userPrincipalName"},
		{"read-only proxyAddresses", func() models.Userable {
			u := newUser("a5", "example.com")
			u.SetProxyAddresses([]string{"SMTP:a5@example.com"})
			return u
		}, "Property 'proxyAddresses' is read-only and cannot be set.", ""},
		{"read-only onPremisesSyncEnabled", func() models.Userable {
			u := newUser("a6", "example.com")
			u.SetOnPremisesSyncEnabled(ptr(true))
			return u
		}, "Property 'onPremisesSyncEnabled' is read-only and cannot be set.", ""},
		{"unknown property", func() models.Userable {
			u := newUser("a7", "example.com")
			u.SetAdditionalData(map[string]any{"favouriteColour": ptr("blue")})
			return u
		}, "Invalid property 'favouriteColour'.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Users().Post(ctx, tt.body(), nil)
			oe := odataErr(t, err)
			assert.Equal(t, http.StatusBadRequest, responseStatus(t, err))
			assert.Equal(t, "Request_BadRequest", *oe.GetCode())
			assert.Contains(t, *oe.GetMessage(), tt.message)
			if tt.target != "" {
				require.Len(t, oe.GetDetails(), 1)
				assert.Equal(t, tt.target, *oe.GetDetails()[0].GetTarget())
			}
		})
	}

	t.Run("verified and initial domains accepted", func(t *testing.T) {
		for _, d := range []string{"corp.example", "contoso.onmicrosoft.com", "EXAMPLE.com"} {
			_, err := c.Users().Post(ctx, newUser("ok-"+d[:4], d), nil)
			require.NoError(t, err, d)
		}
	})

	t.Run("extension property", func(t *testing.T) {
		u := newUser("ext", "example.com")
		ext := "extension_0123456789abcdef0123456789abcdef_employeeNumber"
		u.SetAdditionalData(map[string]any{ext: ptr("E-42")})
		created, err := c.Users().Post(ctx, u, nil)
		require.NoError(t, err)
		got, err := c.Users().ByUserId(*created.GetId()).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", ext}},
		})
		require.NoError(t, err)
		assert.Equal(t, "E-42", *(got.GetAdditionalData()[ext].(*string)))
	})
}

func TestUserListPagingSelectFilter(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{PageSize: 100})
	s := newSDK(t, srv)
	c := s.client
	for i := range 1000 {
		extra := map[string]any{"department": []string{"Sales", "Ops"}[i%2]}
		if i%10 == 0 {
			extra["mail"] = fmt.Sprintf("u%04d@example.com", i)
		}
		seedUser(t, srv, fmt.Sprintf("u%04d", i), extra)
	}

	t.Run("page iterator over 1000 users", func(t *testing.T) {
		srv.ResetLog()
		first, err := c.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: []string{"id", "userPrincipalName", "department"}},
		})
		require.NoError(t, err)
		require.Len(t, first.GetValue(), 100)
		it, err := msgraphcore.NewPageIterator[models.Userable](first, s.adapter, models.CreateUserCollectionResponseFromDiscriminatorValue)
		require.NoError(t, err)
		seen := map[string]bool{}
		require.NoError(t, it.Iterate(ctx, func(u models.Userable) bool {
			seen[*u.GetUserPrincipalName()] = true
			assert.NotNil(t, u.GetDepartment(), "$select kept across pages")
			return true
		}))
		assert.Len(t, seen, 1000)
		assert.Len(t, srv.Requests(), 10)
	})

	t.Run("top", func(t *testing.T) {
		res, err := c.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: ptr[int32](999)},
		})
		require.NoError(t, err)
		assert.Len(t, res.GetValue(), 999)
		require.NotNil(t, res.GetOdataNextLink())
		next, err := c.Users().WithUrl(*res.GetOdataNextLink()).Get(ctx, nil)
		require.NoError(t, err)
		assert.Len(t, next.GetValue(), 1)
		assert.Nil(t, next.GetOdataNextLink())

		_, err = c.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: ptr[int32](1000)},
		})
		assert.Equal(t, http.StatusBadRequest, responseStatus(t, err))
	})

	filterTests := []struct {
		filter string
		want   int
	}{
		{"userPrincipalName eq 'U0007@EXAMPLE.COM'", 1},
		{"startsWith(userPrincipalName,'u00')", 100},
		{"startsWith(displayName, 'User u09') and department eq 'Sales'", 50},
		{"proxyAddresses/any(p:p eq 'smtp:u0010@example.com')", 1},
		{"mail eq 'u0020@example.com'", 1},
		{"userPrincipalName in ('u0001@example.com','u0002@example.com','nobody@example.com')", 2},
		{"department eq 'Ops' or userPrincipalName eq 'u0000@example.com'", 501},
		{"accountEnabled eq true", 1000},
	}
	for _, tt := range filterTests {
		t.Run("filter "+tt.filter, func(t *testing.T) {
			res, err := c.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: ptr(tt.filter), Top: ptr[int32](999)},
			})
			require.NoError(t, err)
			n := len(res.GetValue())
			if res.GetOdataNextLink() != nil {
				next, err := c.Users().WithUrl(*res.GetOdataNextLink()).Get(ctx, nil)
				require.NoError(t, err)
				n += len(next.GetValue())
			}
			assert.Equal(t, tt.want, n)
		})
	}

	t.Run("bad select and filter", func(t *testing.T) {
		_, err := c.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: []string{"id", "shoeSize"}},
		})
		oe := odataErr(t, err)
		assert.Equal(t, "Request_BadRequest", *oe.GetCode())
		assert.Contains(t, *oe.GetMessage(), "shoeSize")

		_, err = c.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: ptr("shoeSize eq 'x'")},
		})
		assert.Equal(t, http.StatusBadRequest, responseStatus(t, err))
	})

	t.Run("count needs ConsistencyLevel eventual", func(t *testing.T) {
		q := &users.UsersRequestBuilderGetQueryParameters{Count: ptr(true), Filter: ptr("department eq 'Sales'"), Top: ptr[int32](5)}
		_, err := c.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: q})
		oe := odataErr(t, err)
		assert.Equal(t, "Request_BadRequest", *oe.GetCode())

		h := abstractions.NewRequestHeaders()
		h.Add("ConsistencyLevel", "eventual")
		res, err := c.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: q, Headers: h})
		require.NoError(t, err)
		assert.Equal(t, int64(500), *res.GetOdataCount())
		assert.Len(t, res.GetValue(), 5)

		n, err := c.Users().Count().Get(ctx, &users.CountRequestBuilderGetRequestConfiguration{Headers: h})
		require.NoError(t, err)
		assert.Equal(t, int32(1000), *n)

		_, err = c.Users().Count().Get(ctx, nil)
		require.Error(t, err)
	})

	t.Run("advanced filter needs eventual and $count", func(t *testing.T) {
		q := &users.UsersRequestBuilderGetQueryParameters{Filter: ptr("endsWith(userPrincipalName,'7@example.com')")}
		_, err := c.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: q})
		assert.Equal(t, "Request_UnsupportedQuery", *odataErr(t, err).GetCode())

		h := abstractions.NewRequestHeaders()
		h.Add("ConsistencyLevel", "eventual")
		q.Count = ptr(true)
		res, err := c.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: q, Headers: h})
		require.NoError(t, err)
		assert.Equal(t, int64(100), *res.GetOdataCount())
	})
}
