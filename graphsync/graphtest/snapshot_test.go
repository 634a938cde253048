package graphtest_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

// TestSnapshotRestore: a server restored from a snapshot holds the same
// objects and memberships, keeps the uniqueness rules, and answers the
// delta links of the first one with only what changed since.
func TestSnapshotRestore(t *testing.T) {
	opts := graphtest.Options{Token: "t", Domains: []string{"example.com"}, Seed: 3}
	a := graphtest.NewServer(opts)
	defer a.Close()
	u1, err := a.CreateUser(map[string]any{"accountEnabled": true, "displayName": "One", "mailNickname": "one",
		"userPrincipalName": "one@example.com", "passwordProfile": map[string]any{"password": "P-ssw0rd!"}, "mail": "one@example.com"})
	require.NoError(t, err)
	g, err := a.CreateGroup(map[string]any{"displayName": "G", "mailEnabled": false, "mailNickname": "g", "securityEnabled": true})
	require.NoError(t, err)
	require.NoError(t, a.AddMember(g, u1))
	client := newSDK(t, a, clientConfig{token: "t", maxRetries: 3}).client // through the SDK: the first delta round
	ctx := context.Background()
	first, err := client.Users().Delta().GetAsDeltaGetResponse(ctx, nil)
	require.NoError(t, err)
	link := first.GetOdataDeltaLink()
	require.NotNil(t, link)

	var buf bytes.Buffer
	require.NoError(t, a.Snapshot(&buf))
	b := graphtest.NewServer(opts)
	defer b.Close()
	require.NoError(t, b.Restore(bytes.NewReader(buf.Bytes())))

	assert.Equal(t, a.Users(), b.Users())
	gb, ok := b.Object(g)
	require.True(t, ok)
	assert.Equal(t, []string{u1}, gb["members"])
	_, err = b.CreateUser(map[string]any{"accountEnabled": true, "displayName": "Dup", "mailNickname": "dup",
		"userPrincipalName": "ONE@example.com", "passwordProfile": map[string]any{"password": "P-ssw0rd!"}})
	assert.ErrorIs(t, err, graphtest.ErrConflict, "the uniqueness index is restored")
	u2, err := b.CreateUser(map[string]any{"accountEnabled": true, "displayName": "Two", "mailNickname": "two",
		"userPrincipalName": "two@example.com", "passwordProfile": map[string]any{"password": "P-ssw0rd!"}})
	require.NoError(t, err)
	assert.NotEqual(t, u1, u2, "ids go on from where the first server stopped")

	// The first server's delta link, on the restored server: only the new user.
	clientB := newSDK(t, b, clientConfig{token: "t", maxRetries: 3}).client
	rebased := b.URL() + (*link)[len(a.URL()):]
	next, err := clientB.Users().Delta().WithUrl(rebased).GetAsDeltaGetResponse(ctx, nil)
	require.NoError(t, err)
	require.Len(t, next.GetValue(), 1)
	assert.Equal(t, u2, *next.GetValue()[0].GetId())

	assert.Error(t, b.Restore(bytes.NewReader([]byte(`{"version": 99}`))), "an unknown format is refused")
}
