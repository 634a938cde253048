package idbridge_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/rules"
)

var errLostResponse = errors.New("response lost after the change was applied")

// newSelfNamingFixture returns a fixture whose cloud names the objects it
// creates, as Graph does: the outbound rules give no DN.
func newSelfNamingFixture(t *testing.T, match map[string][]string) *fixture {
	f := newFixtureCfg(t, fixtureConfig{rules: func(rf *rules.File) {
		for i := range rf.Rules {
			if r := &rf.Rules[i]; r.Connector == "cloud" {
				r.Flows = slices.DeleteFunc(r.Flows, func(fl rules.Flow) bool { return fl.Target == "dn" })
			}
		}
	}})
	f.cloud.SelfNaming(match)
	return f
}

// A target that names its own objects applied the adds of an export whose
// results were lost: the next import adopts each created object by its
// identifying attribute, and no add is sent twice.
func TestImportAdoptsUnrecordedAddsByMatchAttribute(t *testing.T) {
	f := newSelfNamingFixture(t, map[string][]string{"user": {"immutableId"}, "group": {"displayName"}})
	for i := range 5 {
		f.adUser(fmt.Sprintf("u%d", i), fmt.Sprintf("E%d", i), "U", fmt.Sprint(i), 512, nil)
	}
	f.ad.Put(connector.Object{Anchor: "g1", DN: "CN=Staff,OU=Groups,DC=contoso,DC=com", Type: "group",
		Attrs: connector.Attributes{"cn": s("Staff"), "member": {connector.RefValue("u0", ""), connector.RefValue("u1", "")}}})
	f.cloud.ApplyThenFail = func(connector.Change) error { return errLostResponse }
	cr, err := f.eng.Cycle(f.ctx, idbridge.Initial)
	require.NoError(t, err)
	require.Equal(t, 6, run(t, cr, "cloud", idbridge.Export).ExportFailed, "every add applied, every result lost")
	require.Equal(t, 6, f.cloud.Len())

	f.cloud.ApplyThenFail = nil
	cr = f.cycle(idbridge.Delta)
	imp := run(t, cr, "cloud", idbridge.DeltaImport)
	assert.Zero(t, imp.Adds, "no imported object staged as new")
	assert.Equal(t, 6, imp.Confirmed, "every adopted add confirmed")
	assert.Empty(t, imp.Errors)
	assert.Equal(t, 6, f.cloud.Len(), "no object created twice")
	for _, ch := range f.cloud.Exported[6:] {
		assert.NotEqual(t, connector.Add, ch.Kind, "no add sent again: %v", ch)
		assert.Empty(t, ch.OldDN, "no rename: %v", ch)
	}
	assert.Empty(t, f.cycle(idbridge.Delta).Errors())
	n := len(f.cloud.Exported)
	f.cycle(idbridge.Delta)
	assert.Len(t, f.cloud.Exported, n, "settled: a delta cycle writes nothing")

	// The adopted objects are linked: a change flows to them.
	require.NoError(t, f.ad.Modify("u3", connector.Mod{Name: "department", Op: connector.ModReplace, Values: s("Ops")}))
	f.cycle(idbridge.Delta)
	assert.Equal(t, 6, f.cloud.Len())
	var dept []string
	for _, o := range f.cloud.All() {
		if v, ok := o.Attrs.First("department"); ok {
			dept = append(dept, v.Str())
		}
	}
	assert.Contains(t, dept, "Ops")
}

// Two unrecorded adds match one imported object: neither is adopted, and
// the import says why.
func TestImportNeverAdoptsAmbiguously(t *testing.T) {
	f := newSelfNamingFixture(t, map[string][]string{"group": {"displayName"}})
	for _, a := range []connector.Anchor{"g1", "g2"} {
		f.ad.Put(connector.Object{Anchor: a, DN: "CN=Staff,OU=" + string(a) + ",DC=contoso,DC=com", Type: "group",
			Attrs: connector.Attributes{"cn": s("Staff")}})
	}
	f.cloud.ApplyThenFail = func(connector.Change) error { return errLostResponse }
	_, err := f.eng.Cycle(f.ctx, idbridge.Initial)
	require.NoError(t, err)
	f.cloud.ApplyThenFail = nil

	res, err := f.eng.FullImport(f.ctx, "cloud")
	require.NoError(t, err)
	assert.Zero(t, res.Adds)
	require.Len(t, res.Errors, 2)
	for _, oe := range res.Errors {
		assert.ErrorIs(t, oe, idbridge.ErrAmbiguousAdopt)
	}
}
