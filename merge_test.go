package idbridge_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse"
)

// selfNaming makes a memconn target behave like one that names its objects
// itself (Graph): its imports may not say where an object is (hideDN), a
// response may be lost after the changes were applied (loseResponse), and
// an add of an object that exists returns that object, as a connector that
// looks an object up by its anchor before creating it does.
type selfNaming struct {
	*memconn.Connector
	sys          *memconn.System
	hideDN       bool
	loseResponse bool
}

func (c *selfNaming) Export(ctx context.Context, changes []connector.Change) ([]connector.ExportResult, error) {
	res, err := c.Connector.Export(ctx, changes)
	if err != nil {
		return nil, err
	}
	if c.loseResponse {
		c.loseResponse = false
		return nil, fmt.Errorf("response lost: %w", connector.ErrUnavailable)
	}
	for i, ch := range changes {
		if ch.Kind == connector.Add && errors.Is(res[i].Err, connector.ErrAlreadyExists) {
			if o, ok := c.sys.ByDN(ch.DN); ok {
				res[i] = connector.ExportResult{Anchor: o.Anchor, DN: o.DN}
			}
		}
	}
	return res, nil
}

type dnHidingSink struct{ connector.ImportSink }

func (s dnHidingSink) Object(ctx context.Context, c connector.Change) error {
	c.DN = ""
	return s.ImportSink.Object(ctx, c)
}

func (c *selfNaming) Import(ctx context.Context, sink connector.ImportSink) error {
	if c.hideDN {
		sink = dnHidingSink{sink}
	}
	return c.Connector.Import(ctx, sink)
}

func (c *selfNaming) DeltaImport(ctx context.Context, wm []byte, sink connector.ImportSink) error {
	if c.hideDN {
		sink = dnHidingSink{sink}
	}
	return c.Connector.DeltaImport(ctx, wm, sink)
}

func (f *fixture) space(conn string) []*metaverse.CSObject {
	f.t.Helper()
	var out []*metaverse.CSObject
	require.NoError(f.t, f.store.View(f.ctx, func(tx metaverse.Tx) error {
		for after := ""; ; {
			page, err := tx.Objects(f.ctx, conn, after, 100)
			if err != nil || len(page) == 0 {
				return err
			}
			out = append(out, page...)
			after = page[len(page)-1].ID
		}
	}))
	return out
}

// Adds applied by the target whose response was lost are imported as new
// objects before the engine learns their anchors; when the adds are sent
// again and the target returns the existing objects, each provisioned
// object takes over its imported twin: no second create, no fatal
// conflict, links kept.
func TestAddResultAnchorHeldByImportedObject(t *testing.T) {
	var cloud *selfNaming
	f := newFixtureWith(t, idbridge.Options{ExportRetryBackoff: -1}, fixtureSetup{wrap: func(name string, c connector.Connector) connector.Connector {
		if name == "cloud" {
			cloud = &selfNaming{Connector: c.(*memconn.Connector)}
			return cloud
		}
		return c
	}})
	cloud.sys = f.cloud
	f.addUsers(10)
	_, err := f.eng.FullImport(f.ctx, "ad")
	require.NoError(t, err)
	_, err = f.eng.FullSync(f.ctx, "ad")
	require.NoError(t, err)
	cloud.loseResponse = true
	res, err := f.eng.Export(f.ctx, "cloud")
	require.NoError(t, err)
	require.Equal(t, 10, res.ExportFailed, "the engine does not know the adds were applied")
	require.Equal(t, 10, f.cloud.Len())

	cloud.hideDN = true // the import cannot match the objects by DN
	cr, err := f.eng.Cycle(f.ctx, idbridge.Delta)
	require.NoError(t, err)
	assert.Equal(t, 10, run(t, cr, "cloud", idbridge.FullImport).Adds, "imported as objects of their own (a first import is full)")
	exp := run(t, cr, "cloud", idbridge.Export)
	assert.Equal(t, 10, exp.Exported)
	assert.Empty(t, exp.Errors)
	assert.Equal(t, 10, exp.WarningCount, "each merge is reported")
	assert.Len(t, f.cloud.Exported, 10, "each user created once")
	assert.Equal(t, 10, f.cloud.Len())

	space := f.space("cloud")
	require.Len(t, space, 10, "one connector-space object per cloud user")
	for _, o := range space {
		assert.NotEmpty(t, o.Anchor)
		require.NotEmpty(t, o.EntryID, "%s keeps its link", o.DN)
	}
	for _, e := range f.entries() {
		n := 0
		for _, l := range e.Links {
			if l.Connector == "cloud" {
				n++
			}
		}
		assert.Equal(t, 1, n, "entry %s has one cloud link", e.ID)
	}

	cloud.hideDN = false
	calls := f.cloud.ExportCalls
	for range 2 {
		cr = f.cycle(idbridge.Delta)
		for _, r := range cr.Runs {
			assert.Empty(t, r.Errors, "%s", r)
		}
	}
	pe, err := f.eng.PendingExports(f.ctx, "cloud", 0)
	require.NoError(t, err)
	assert.Empty(t, pe, "the imports confirmed the adds")
	assert.Equal(t, calls, f.cloud.ExportCalls, "nothing sent again")
}

// When the target returns, for an Add, an object that another entry
// provisioned (two entries would own one target object), the Add is parked
// rather than merged, and the run goes on.
func TestAddResultAnchorHeldByAnotherEntrysObject(t *testing.T) {
	var cloud *selfNaming
	sameDN := func(text string) string {
		out := strings.Replace(text, `'rdn("cn", source.employeeID) + ",ou=users"'`, `'rdn("cn", source.sn) + ",ou=users"'`, 1)
		if out == text {
			panic("merge_test: the rule file no longer builds the user DN from employeeID")
		}
		return out
	}
	f := newFixtureWith(t, idbridge.Options{}, fixtureSetup{rules: sameDN, wrap: func(name string, c connector.Connector) connector.Connector {
		if name == "cloud" {
			cloud = &selfNaming{Connector: c.(*memconn.Connector)}
			return cloud
		}
		return c
	}})
	cloud.sys = f.cloud
	f.addUsers(2) // both named cn=Person,ou=users in the cloud
	cr, err := f.eng.Cycle(f.ctx, idbridge.Initial)
	require.NoError(t, err)
	exp := run(t, cr, "cloud", idbridge.Export)
	assert.Equal(t, 1, exp.Exported)
	assert.Equal(t, 1, exp.ExportParked)
	require.Len(t, exp.Errors, 1)
	assert.ErrorIs(t, exp.Errors[0], connector.ErrAlreadyExists)
	assert.ErrorIs(t, exp.Errors[0], idbridge.ErrExportParked)
	assert.Equal(t, 1, f.cloud.Len())
	assert.Len(t, f.space("cloud"), 2, "the first object keeps its anchor, the second has none")
}
