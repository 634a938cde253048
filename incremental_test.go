package idbridge_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse"
)

// incremental is the AD connector's way of reporting a membership change
// (DirSync with incremental values): its delta import reports only the
// member values added and removed, by DN, as ModAdd and ModRemove.
type incremental struct {
	*memconn.Connector
	delta []connector.Change
}

func (c *incremental) DeltaImport(ctx context.Context, wm []byte, sink connector.ImportSink) error {
	for _, ch := range c.delta {
		if err := sink.Object(ctx, ch); err != nil {
			return err
		}
	}
	c.delta = nil
	return sink.Checkpoint(ctx, []byte("wm"))
}

// TestIncrementalMemberChangesByDN: a member removed or added by DN (no
// anchor) matches the stored member, which is held by anchor — also when the
// DN changed since it was read (an OU rename). A removal by DN used to find
// nothing to remove, and an add a value it did not recognise. (The group is
// imported after its members here; for a group read before its members see
// TestReferencesReadBeforeTheirTargetsSurviveRenames.)
func TestIncrementalMemberChangesByDN(t *testing.T) {
	var inc *incremental
	f := newFixtureWith(t, idbridge.Options{}, fixtureSetup{wrap: func(name string, c connector.Connector) connector.Connector {
		if name == "ad" {
			inc = &incremental{Connector: c.(*memconn.Connector)}
			return inc
		}
		return c
	}})
	for _, a := range []string{"u1", "u2", "u3"} {
		f.adUser(a, "E"+a, "Given"+a, "Sn"+a, 512, nil)
	}
	dn := func(a string) string { o, _ := f.ad.Get(connector.Anchor(a)); return o.DN }
	ref := func(a string) connector.Value { return connector.RefValue("", dn(a)) }
	f.ad.Put(connector.Object{Anchor: "zg1", DN: "CN=Staff,OU=Groups,DC=contoso,DC=com", Type: "group",
		Attrs: connector.Attributes{"cn": {connector.StringValue("Staff")}, "member": {ref("u1"), ref("u2"), ref("u3")}}})
	f.cycle(idbridge.Initial)

	// u3 leaves; u1 is re-added under a new DN (its OU was renamed and the
	// connector space already knows the new DN); the group keeps u1 and u2.
	require.NoError(t, f.ad.Rename("u1", "CN=Givenu1 Snu1,OU=People,DC=contoso,DC=com"))
	f.ad.Modify("zg1", connector.Mod{Name: "member", Op: connector.ModRemove, Values: []connector.Value{ref("u3")}})
	inc.delta = []connector.Change{
		{Kind: connector.Update, Anchor: "u1", DN: dn("u1"), Type: "user"},
		{Kind: connector.Update, Anchor: "zg1", DN: "CN=Staff,OU=Groups,DC=contoso,DC=com", Type: "group", Mods: []connector.Mod{
			{Name: "member", Op: connector.ModRemove, Values: []connector.Value{ref("u3")}},
			{Name: "member", Op: connector.ModAdd, Values: []connector.Value{ref("u1")}},
		}},
	}
	_, err := f.eng.DeltaImport(f.ctx, "ad")
	require.NoError(t, err)

	var members []connector.Value
	require.NoError(t, f.store.View(f.ctx, func(tx metaverse.Tx) error {
		o, err := tx.ObjectByAnchor(f.ctx, "ad", "zg1")
		members = o.Attrs["member"]
		return err
	}))
	var anchors []string
	for _, v := range members {
		a, _ := v.Ref()
		anchors = append(anchors, string(a))
	}
	assert.ElementsMatch(t, []string{"u1", "u2"}, anchors, "u3 removed by DN, u1 not added twice")
}
