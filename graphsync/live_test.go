package graphsync_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/graphsync"
)

// TestLiveTenant runs against a real tenant, only when asked:
//
//	IDBRIDGE_GRAPH_TENANT_ID, IDBRIDGE_GRAPH_CLIENT_ID,
//	IDBRIDGE_GRAPH_CLIENT_SECRET  an app registration with User.ReadWrite.All
//	                              and Group.ReadWrite.All (application)
//	IDBRIDGE_GRAPH_TEST_DOMAIN    optional: a verified domain; when set, the
//	                              test also creates, updates and deletes a user
//
// It reads users and groups, checks that a delta from the watermark works,
// and with a test domain exports a user through $batch and removes it.
func TestLiveTenant(t *testing.T) {
	tenant, client, secret := os.Getenv("IDBRIDGE_GRAPH_TENANT_ID"), os.Getenv("IDBRIDGE_GRAPH_CLIENT_ID"), os.Getenv("IDBRIDGE_GRAPH_CLIENT_SECRET")
	if tenant == "" || client == "" || secret == "" {
		t.Skip("IDBRIDGE_GRAPH_TENANT_ID, IDBRIDGE_GRAPH_CLIENT_ID and IDBRIDGE_GRAPH_CLIENT_SECRET are not set")
	}
	cred, err := azidentity.NewClientSecretCredential(tenant, client, secret, nil)
	require.NoError(t, err)
	c, err := graphsync.New(graphsync.Config{Credential: cred, Types: []string{graphsync.TypeUser, graphsync.TypeGroup}, NoGroupCreates: true})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	rec := &connectortest.Recorder{}
	require.NoError(t, c.Import(ctx, rec))
	require.NotEmpty(t, rec.Changes, "a tenant has at least one user")
	t.Logf("imported %d objects", len(rec.Changes))
	d := &connectortest.Recorder{}
	require.NoError(t, c.DeltaImport(ctx, rec.Watermark(), d))

	domain := os.Getenv("IDBRIDGE_GRAPH_TEST_DOMAIN")
	if domain == "" {
		return
	}
	name := fmt.Sprintf("idbridge-live-%d", time.Now().Unix())
	res, err := c.Export(ctx, []connector.Change{{Kind: connector.Add, Type: graphsync.TypeUser, DN: "new/" + name, Attrs: connector.Attributes{
		"userPrincipalName":     {connector.StringValue(name + "@" + domain)},
		"displayName":           {connector.StringValue("idbridge live test")},
		"accountEnabled":        {connector.BoolValue(false)},
		"onPremisesImmutableId": {connector.StringValue(name)},
	}}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	id := res[0].Anchor
	defer func() {
		res, err := c.Export(context.Background(), []connector.Change{{Kind: connector.Delete, Type: graphsync.TypeUser, Anchor: id}})
		assert.NoError(t, err)
		assert.NoError(t, res[0].Err, "clean-up of %s", id)
	}()
	res, err = c.Export(ctx, []connector.Change{{Kind: connector.Update, Type: graphsync.TypeUser, Anchor: id,
		Mods: []connector.Mod{{Name: "jobTitle", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue("Tester")}}}}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
}
