package ldap_test

import (
	"context"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/ldap"
	"github.com/idbridge/idbridge/internal/addir"
)

// TestADContainerTypes: by default the schema has the container types,
// a full import reads the OUs as objects of their own, and the rename of
// an OU holding 300 users reaches a delta — DirSync and uSNChanged — as
// an Update of the OU (new DN, same objectGUID). Neither reports the users
// under it: measured, 0 of 300 (the engine cascades the OU's new DN).
func TestADContainerTypes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a directory of thousands of objects on the DC: not with -short")
	}
	for _, tc := range []struct {
		name      string
		noDirSync bool
	}{{"DirSync", false}, {"USN", true}} {
		t.Run(tc.name, func(t *testing.T) {
			d := addir.New(t, addir.Shape{OUs: 2, Users: 600})
			cfg := dirConfig(d)
			cfg.NoDirSync = tc.noDirSync
			c, err := ldap.New(cfg)
			require.NoError(t, err)
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()

			s, err := c.Schema(ctx)
			require.NoError(t, err)
			ou, ok := s.Type("organizationalUnit")
			require.True(t, ok, "the organizationalUnit type is there by default")
			assert.Equal(t, "objectGUID", ou.Anchor)
			_, ok = s.Type("container")
			assert.True(t, ok, "and the container type")

			var full connectortest.Recorder
			require.NoError(t, c.Import(ctx, &full))
			require.Empty(t, full.Errors)
			dept, ok := changeByDN(&full, d.OUs[0])
			require.True(t, ok, "the OU is imported")
			assert.Equal(t, "organizationalUnit", dept.Type)
			_, ok = changeByDN(&full, d.Root)
			assert.True(t, ok, "the container's own root")

			admin, err := d.Server.Dial(ctx)
			require.NoError(t, err)
			defer admin.Close()
			renamed := "OU=Renamed," + d.Root
			require.NoError(t, admin.ModifyDN(goldap.NewModifyDNRequest(d.OUs[0], "OU=Renamed", true, "")))

			var delta connectortest.Recorder
			require.NoError(t, c.DeltaImport(ctx, full.Watermark(), &delta))
			require.Empty(t, delta.Errors)
			got, ok := changeByAnchor(&delta, dept.Anchor)
			require.True(t, ok, "the renamed OU is reported")
			assert.NotEqual(t, connector.Delete, got.Kind)
			assert.Equal(t, connector.FoldDN(renamed), connector.FoldDN(got.DN), "under its new DN")
			children := 0
			for _, ch := range delta.Changes {
				if ch.Type == "user" {
					children++
				}
			}
			assert.Zero(t, children, "the users under the OU are not reported: the engine cascades")
		})
	}
}
