package graphtest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

func TestUniquenessConflicts(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{})
	c := newSDK(t, srv).client
	seedUser(t, srv, "taken", map[string]any{"mail": "shared@example.com", "onPremisesImmutableId": "imm-1"})
	seedGroup(t, srv, "team", map[string]any{"groupTypes": []string{"Unified"}, "mailEnabled": true, "securityEnabled": false})

	tests := []struct {
		name   string
		body   func() models.Userable
		target string
	}{
		{"userPrincipalName case-insensitive", func() models.Userable {
			u := newUser("x1", "example.com")
			u.SetUserPrincipalName(ptr("TAKEN@example.com"))
			return u
		}, "userPrincipalName"},
		{"mail equal to another user's proxy address", func() models.Userable {
			u := newUser("x2", "example.com")
			u.SetMail(ptr("Shared@Example.com"))
			return u
		}, "proxyAddresses"},
		{"mail equal to a Unified group's address", func() models.Userable {
			u := newUser("x3", "example.com")
			u.SetMail(ptr("team@contoso.onmicrosoft.com"))
			return u
		}, "proxyAddresses"},
		{"onPremisesImmutableId", func() models.Userable {
			u := newUser("x4", "example.com")
			u.SetOnPremisesImmutableId(ptr("IMM-1"))
			return u
		}, "onPremisesImmutableId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Users().Post(ctx, tt.body(), nil)
			oe := odataErr(t, err)
			assert.Equal(t, http.StatusBadRequest, responseStatus(t, err))
			assert.Equal(t, "Request_BadRequest", *oe.GetCode())
			assert.Equal(t, "Another object with the same value for property "+tt.target+" already exists.", *oe.GetMessage())
			require.Len(t, oe.GetDetails(), 1)
			assert.Equal(t, "ObjectConflict", *oe.GetDetails()[0].GetCode())
			assert.Equal(t, tt.target, *oe.GetDetails()[0].GetTarget())
			require.NotNil(t, oe.GetInnerError())
			assert.NotNil(t, oe.GetInnerError().GetRequestId())
		})
	}

	t.Run("update into conflict", func(t *testing.T) {
		id := seedUser(t, srv, "mover", nil)
		patch := models.NewUser()
		patch.SetMail(ptr("shared@example.com"))
		_, err := c.Users().ByUserId(id).Patch(ctx, patch, nil)
		assert.Equal(t, "proxyAddresses", *odataErr(t, err).GetDetails()[0].GetTarget())

		// Setting its own values again is no conflict; freed values are reusable.
		patch = models.NewUser()
		patch.SetMail(ptr("mover@example.com"))
		_, err = c.Users().ByUserId(id).Patch(ctx, patch, nil)
		require.NoError(t, err)
		_, err = c.Users().ByUserId(id).Patch(ctx, patch, nil)
		require.NoError(t, err)
		patch = models.NewUser()
		patch.SetMail(ptr("mover2@example.com"))
		_, err = c.Users().ByUserId(id).Patch(ctx, patch, nil)
		require.NoError(t, err)
		seedUser(t, srv, "other", map[string]any{"mail": "mover@example.com"})
	})

	t.Run("direct API reports ErrConflict", func(t *testing.T) {
		_, err := srv.CreateUser(map[string]any{
			"accountEnabled": true, "displayName": "d", "mailNickname": "d",
			"userPrincipalName": "taken@example.com", "passwordProfile": map[string]any{"password": "x"},
		})
		assert.True(t, errors.Is(err, graphtest.ErrConflict), "%v", err)
		err = srv.Update("00000000-0000-0000-0000-000000000000", map[string]any{"jobTitle": "x"})
		assert.True(t, errors.Is(err, graphtest.ErrNotFound), "%v", err)
		_, err = srv.CreateUser(map[string]any{"displayName": "d"})
		assert.True(t, errors.Is(err, graphtest.ErrInvalid), "%v", err)
	})

	t.Run("deleted object frees its values", func(t *testing.T) {
		id := seedUser(t, srv, "gone", map[string]any{"mail": "gone@example.com"})
		require.NoError(t, srv.Delete(id))
		seedUser(t, srv, "gone", map[string]any{"mail": "gone@example.com"})
	})
}
