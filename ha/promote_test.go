package ha_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/ha"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

func srcUser(src *memconn.System, uid, title string) {
	src.Put(connector.Object{Anchor: connector.Anchor("src-" + uid), DN: "uid=" + uid + ",ou=src", Type: "user",
		Attrs: connector.Attributes{"uid": {connector.StringValue(uid)}, "mail": {connector.StringValue(uid + "@example.test")}, "title": {connector.StringValue(title)}}})
}

func stagingEngine(t *testing.T, src, dst *memconn.System, staging bool) *idbridge.Engine {
	t.Helper()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	rf, err := rules.Parse("failover.yaml", []byte(failoverRules))
	require.NoError(t, err)
	eng, err := idbridge.New(context.Background(), idbridge.Config{
		Store:      store,
		Connectors: map[string]connector.Connector{"src": src.Connector(), "dst": dst.Connector()},
		Rules:      rf,
		Options:    idbridge.Options{Staging: staging},
	})
	require.NoError(t, err)
	return eng
}

// TestPromote: a staging engine reports what its first export would do
// (per connector and type, with samples) and leaves staging; its first
// cycle then sends exactly that.
func TestPromote(t *testing.T) {
	ctx := context.Background()
	src, dst := memconn.New(srcSchema), memconn.New(dstSchema)
	for i := range 5 {
		srcUser(src, fmt.Sprintf("u%d", i), "t")
	}
	eng := stagingEngine(t, src, dst, true)
	_, err := eng.Cycle(ctx, idbridge.Initial)
	require.NoError(t, err)
	assert.Zero(t, dst.Len(), "staging exports nothing")

	_, err = ha.Promote(ctx, stagingEngine(t, src, dst, false), ha.PromoteOptions{})
	require.ErrorIs(t, err, ha.ErrNotStaging)

	w, err := ha.Promote(ctx, eng, ha.PromoteOptions{Full: true, Samples: 2, DryRun: true})
	require.NoError(t, err)
	assert.False(t, w.Promoted)
	assert.True(t, eng.Staging())
	require.Len(t, w.Connectors, 2)
	d := w.Connectors[0]
	assert.Equal(t, "dst", d.Connector)
	assert.Equal(t, 5, d.Adds)
	assert.Zero(t, d.Updates+d.Deletes)
	assert.Equal(t, map[string]map[connector.ChangeKind]int{"user": {connector.Add: 5}}, d.Counts)
	require.Len(t, d.Samples, 2)
	assert.Equal(t, "cn=u0,ou=users", d.Samples[0].Change.DN)
	assert.Len(t, w.Runs, 4, "a full import and a full sync of each connector")

	w, err = ha.Promote(ctx, eng, ha.PromoteOptions{})
	require.NoError(t, err)
	assert.True(t, w.Promoted)
	assert.False(t, eng.Staging())
	_, err = eng.Cycle(ctx, idbridge.Delta)
	require.NoError(t, err)
	assert.Equal(t, 5, dst.Len())
}

// TestPromoteDeletionThreshold: a staging server whose scope lost most of
// the source (here: deleted from it) would delete what the active server
// created; Promote refuses above the threshold, names the count, stays
// in staging, and promotes when forced.
func TestPromoteDeletionThreshold(t *testing.T) {
	ctx := context.Background()
	src, dst := memconn.New(srcSchema), memconn.New(dstSchema)
	for i := range 6 {
		srcUser(src, fmt.Sprintf("u%d", i), "t")
	}
	eng := stagingEngine(t, src, dst, false)
	_, err := eng.Cycle(ctx, idbridge.Initial)
	require.NoError(t, err)
	require.Equal(t, 6, dst.Len())
	eng.SetStaging(true)
	for i := range 4 {
		src.Delete(connector.Anchor(fmt.Sprintf("src-u%d", i)))
	}
	srcUser(src, "u1", "back") // a delete and an add of one uid: not a delete in the target

	tests := []struct {
		name     string
		opts     ha.PromoteOptions
		refused  bool
		promoted bool
	}{
		{"above the threshold", ha.PromoteOptions{DeletionThreshold: 2}, true, false},
		{"at the threshold", ha.PromoteOptions{DeletionThreshold: 3, DryRun: true}, false, false},
		{"forced", ha.PromoteOptions{DeletionThreshold: 2, Force: true}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := ha.Promote(ctx, eng, tc.opts)
			require.NotNil(t, w)
			if tc.refused {
				require.ErrorIs(t, err, idbridge.ErrDeletionThreshold)
				var dte *idbridge.MassChangeError
				require.ErrorAs(t, err, &dte)
				assert.Equal(t, "dst", dte.Connector)
				assert.Equal(t, 3, dte.Deletes)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.promoted, w.Promoted)
			assert.Equal(t, !tc.promoted, eng.Staging())
			assert.Equal(t, 3, w.Connectors[0].Deletes)
			assert.Equal(t, map[connector.ChangeKind]int{connector.Delete: 3, connector.Update: 1}, w.Connectors[0].Counts["user"])
		})
	}
	assert.Equal(t, 6, dst.Len(), "Promote itself exports nothing")
}
