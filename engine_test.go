package idbridge_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

func TestProjectionProvisionAndReferences(t *testing.T) {
	f := newFixture(t, idbridge.Options{})
	f.adUser("g-boss", "E1", "Ada", "Boss", 512, nil)
	f.adUser("g-dev", "E2", "Bob", "Dev", 514, connector.Attributes{"manager": {connector.RefValue("", "CN=Ada Boss,OU=Users,DC=contoso,DC=com")}})
	f.ad.Put(connector.Object{Anchor: "g-grp", DN: "CN=Team,OU=Groups,DC=contoso,DC=com", Type: "group", Attrs: connector.Attributes{
		"cn":     s("Team"),
		"member": {connector.RefValue("", "CN=Ada Boss,OU=Users,DC=contoso,DC=com"), connector.RefValue("", "CN=Bob Dev,OU=Users,DC=contoso,DC=com")},
	}})

	cr := f.cycle(idbridge.Initial)
	imp := run(t, cr, "ad", idbridge.FullImport)
	assert.Equal(t, 3, imp.Adds)
	syn := run(t, cr, "ad", idbridge.FullSync)
	assert.Equal(t, 3, syn.Projections)
	assert.Equal(t, 3, syn.Provisions)
	assert.Empty(t, syn.Errors)
	exp := run(t, cr, "cloud", idbridge.Export)
	assert.Equal(t, 3, exp.Exported, "references to objects added earlier in the same batch go by DN")

	boss, ok := f.cloudObject("cn=E1,ou=users")
	require.True(t, ok)
	assert.Equal(t, "Ada Boss", boss.Attrs["displayName"][0].Str())
	assert.Equal(t, "ada.boss@contoso.com", boss.Attrs["mail"][0].Str())
	assert.True(t, boss.Attrs["accountEnabled"][0].Bool())
	assert.Equal(t, "g-boss", boss.Attrs["immutableId"][0].Str())

	dev, ok := f.cloudObject("cn=E2,ou=users")
	require.True(t, ok)
	assert.False(t, dev.Attrs["accountEnabled"][0].Bool(), "userAccountControl 514 has ACCOUNTDISABLE")
	mgr, _ := dev.Attrs["manager"][0].Ref()
	assert.Equal(t, boss.Anchor, mgr, "the manager reference points at the manager's cloud object")

	grp, ok := f.cloudObject("cn=Team,ou=groups")
	require.True(t, ok)
	var members []connector.Anchor
	for _, v := range grp.Attrs["members"] {
		a, _ := v.Ref()
		members = append(members, a)
	}
	assert.ElementsMatch(t, []connector.Anchor{boss.Anchor, dev.Anchor}, members)

	// Importing the cloud confirms the exports.
	cr = f.cycle(idbridge.Delta)
	assert.Equal(t, 3, run(t, cr, "cloud", idbridge.DeltaImport).Confirmed)
	pe, err := f.eng.PendingExports(f.ctx, "cloud", 0)
	require.NoError(t, err)
	assert.Empty(t, pe)

	// A second delta cycle finds nothing to do.
	cr = f.cycle(idbridge.Delta)
	for _, r := range cr.Runs {
		assert.Equal(t, r.Connector+" "+string(r.Profile)+": no changes", r.String())
	}
}

func TestJoinAndPrecedence(t *testing.T) {
	f := newFixture(t, idbridge.Options{})
	f.adUser("g1", "E1", "Ada", "Lovelace", 512, nil)
	f.adUser("g2", "E2", "Bob", "Builder", 512, nil)
	f.hr.Put(connector.Object{Anchor: "h1", DN: "worker=1", Type: "worker", Attrs: connector.Attributes{"employeeNumber": s("E1"), "dept": s("Research")}})
	f.hr.Put(connector.Object{Anchor: "h9", DN: "worker=9", Type: "worker", Attrs: connector.Attributes{"employeeNumber": s("E9"), "dept": s("Nowhere")}})

	cr := f.cycle(idbridge.Initial)
	hrSync := run(t, cr, "hr", idbridge.FullSync)
	assert.Equal(t, 1, hrSync.Joins, "h1 joins E1")
	assert.Equal(t, 0, hrSync.Projections, "a Join rule never projects: h9 stays a disconnector")
	require.Len(t, f.entries(), 2)

	e1 := f.entryBy("employeeID", "E1")
	require.NotNil(t, e1)
	assert.Equal(t, "Research", e1.Attrs["department"][0].Str(), "HR (precedence 50) wins over AD (100)")
	assert.Equal(t, metaverse.Source{Connector: "hr", Rule: "In from HR - Worker"}, e1.Sources["department"])
	assert.Len(t, e1.Links, 3, "AD user, HR worker, cloud user")
	e2 := f.entryBy("employeeID", "E2")
	assert.Equal(t, "Sales", e2.Attrs["department"][0].Str())

	u, ok := f.cloudObject("cn=E1,ou=users")
	require.True(t, ok)
	assert.Equal(t, "Research", u.Attrs["department"][0].Str())

	// The HR record goes away: the department is recalled to AD's value,
	// and the entry stays (AD is its authoritative source).
	f.hr.Delete("h1")
	cr = f.cycle(idbridge.Delta)
	assert.Equal(t, 1, run(t, cr, "hr", idbridge.DeltaSync).Disconnects)
	e1 = f.entryBy("employeeID", "E1")
	require.NotNil(t, e1)
	assert.Equal(t, "Sales", e1.Attrs["department"][0].Str())
	u, _ = f.cloudObject("cn=E1,ou=users")
	assert.Equal(t, "Sales", u.Attrs["department"][0].Str())
}

func TestRenameIsAnUpdate(t *testing.T) {
	f := newFixture(t, idbridge.Options{})
	f.adUser("g1", "E1", "Ada", "Lovelace", 512, nil)
	f.cycle(idbridge.Initial)
	before := f.entryBy("employeeID", "E1")
	require.NotNil(t, before)

	require.NoError(t, f.ad.Rename("g1", "CN=Ada Lovelace,OU=Moved,DC=contoso,DC=com"))
	cr := f.cycle(idbridge.Delta)
	imp := run(t, cr, "ad", idbridge.DeltaImport)
	assert.Equal(t, 1, imp.Renames)
	assert.Equal(t, 0, imp.Adds)
	assert.Equal(t, 0, imp.Deletes)
	syn := run(t, cr, "ad", idbridge.DeltaSync)
	assert.Equal(t, 0, syn.Projections+syn.Disconnects+syn.MetaverseDeletes+syn.Provisions+syn.Deprovisions)

	after := f.entryBy("employeeID", "E1")
	assert.Equal(t, before.ID, after.ID, "the entry survives the move")
	assert.Equal(t, 1, f.cloud.Len())
}

func TestDeleteDeletesEntryAndDeprovisions(t *testing.T) {
	f := newFixture(t, idbridge.Options{})
	f.adUser("g1", "E1", "Ada", "Lovelace", 512, nil)
	f.adUser("g2", "E2", "Bob", "Builder", 512, nil)
	f.hr.Put(connector.Object{Anchor: "h2", DN: "worker=2", Type: "worker", Attrs: connector.Attributes{"employeeNumber": s("E2"), "dept": s("Ops")}})
	f.cycle(idbridge.Initial)
	require.Equal(t, 2, f.cloud.Len())

	f.ad.Delete("g2")
	cr := f.cycle(idbridge.Delta)
	syn := run(t, cr, "ad", idbridge.DeltaSync)
	assert.Equal(t, 1, syn.MetaverseDeletes, "no authoritative source remains (the HR link is a Join)")
	assert.Equal(t, 1, syn.Deprovisions)
	assert.Equal(t, 1, run(t, cr, "cloud", idbridge.Export).Exported)
	assert.Nil(t, f.entryBy("employeeID", "E2"))
	_, ok := f.cloudObject("cn=E2,ou=users")
	assert.False(t, ok, "the cloud user was deleted")
	assert.Equal(t, 1, f.cloud.Len())

	// The HR worker is a disconnector now; the next cycle confirms the
	// delete on import and has nothing left to do.
	cr = f.cycle(idbridge.Delta)
	assert.Equal(t, 1, run(t, cr, "cloud", idbridge.DeltaSync).Confirmed)
	pe, err := f.eng.PendingExports(f.ctx, "cloud", 0)
	require.NoError(t, err)
	assert.Empty(t, pe)
}

func TestDeletionThreshold(t *testing.T) {
	f := newFixture(t, idbridge.Options{DeletionThreshold: 2})
	for _, n := range []string{"A", "B", "C", "D"} {
		f.adUser("g"+n, "E"+n, n, "Person", 512, nil)
	}
	f.cycle(idbridge.Initial)
	require.Equal(t, 4, f.cloud.Len())

	for _, n := range []string{"A", "B", "C"} {
		f.ad.Delete(connector.Anchor("g" + n))
	}
	_, err := f.eng.Cycle(f.ctx, idbridge.Delta)
	require.ErrorIs(t, err, idbridge.ErrDeletionThreshold)
	var dte *idbridge.DeletionThresholdError
	require.ErrorAs(t, err, &dte)
	assert.Equal(t, 3, dte.Deletes)
	assert.Equal(t, 4, f.cloud.Len(), "nothing was exported")

	pe, err := f.eng.PendingExports(f.ctx, "cloud", 0)
	require.NoError(t, err)
	require.Len(t, pe, 3)
	for _, p := range pe {
		assert.Equal(t, connector.Delete, p.Change.Kind)
	}

	f.eng.SetDeletionThreshold(3)
	res, err := f.eng.Export(f.ctx, "cloud")
	require.NoError(t, err)
	assert.Equal(t, 3, res.Exported)
	assert.Equal(t, 1, f.cloud.Len())
}

func TestStagingMode(t *testing.T) {
	f := newFixture(t, idbridge.Options{Staging: true})
	f.adUser("g1", "E1", "Ada", "Lovelace", 512, nil)
	f.adUser("g2", "E2", "Bob", "Builder", 512, nil)
	cr := f.cycle(idbridge.Initial)
	for _, r := range cr.Runs {
		assert.NotEqual(t, idbridge.Export, r.Profile, "staging mode runs no export")
	}
	assert.Equal(t, 0, f.cloud.Len())
	_, err := f.eng.Export(f.ctx, "cloud")
	require.ErrorIs(t, err, idbridge.ErrStagingMode)

	pe, err := f.eng.PendingExports(f.ctx, "cloud", 0)
	require.NoError(t, err)
	require.Len(t, pe, 2)
	assert.Equal(t, connector.Add, pe[0].Change.Kind)
	assert.Equal(t, "cn=E1,ou=users", pe[0].Change.DN)
	assert.Equal(t, "Ada Lovelace", pe[0].Change.Attrs["displayName"][0].Str())

	// Leaving staging mode, the next cycle exports what was held back.
	f.eng.SetStaging(false)
	cr = f.cycle(idbridge.Delta)
	assert.Equal(t, 2, run(t, cr, "cloud", idbridge.Export).Exported)
	assert.Equal(t, 2, f.cloud.Len())
}

func TestFailingObjectDoesNotStopTheRun(t *testing.T) {
	f := newFixture(t, idbridge.Options{})
	for _, n := range []string{"A", "B", "C"} {
		f.adUser("g"+n, "E"+n, n, "Person", 512, nil)
	}
	// Two objects join the same metaverse entry's employeeID: the second is
	// an ambiguous join, an error on that object only.
	f.adUser("gA2", "EA", "A2", "Dup", 512, nil)
	f.cloud.FailExport = func(c connector.Change) error {
		if c.DN == "cn=EB,ou=users" {
			return connector.ErrConstraint
		}
		return nil
	}
	cr, err := f.eng.Cycle(f.ctx, idbridge.Initial)
	require.NoError(t, err, "object errors do not fail the cycle")
	syn := run(t, cr, "ad", idbridge.FullSync)
	require.Len(t, syn.Errors, 1)
	assert.ErrorIs(t, syn.Errors[0], idbridge.ErrAmbiguousJoin)
	assert.Contains(t, syn.Errors[0].Error(), "CN=A2 Dup")
	exp := run(t, cr, "cloud", idbridge.Export)
	assert.Equal(t, 2, exp.Exported)
	assert.Equal(t, 1, exp.ExportFailed)
	require.Len(t, exp.Errors, 1)
	assert.ErrorIs(t, exp.Errors[0], connector.ErrConstraint)
	assert.Equal(t, 2, f.cloud.Len())

	// The refusal was for good: the export is parked until an operator
	// who fixed the cause asks for a retry; the next cycle sends it.
	assert.ErrorIs(t, exp.Errors[0], idbridge.ErrExportParked)
	f.cloud.FailExport = nil
	_, err = f.eng.RetryExports(f.ctx, "cloud")
	require.NoError(t, err)
	cr = f.cycle(idbridge.Delta)
	assert.Equal(t, 1, run(t, cr, "cloud", idbridge.Export).Exported)
	assert.Equal(t, 3, f.cloud.Len())
	// The ambiguous object is retried by every sync until fixed.
	f.ad.Delete("gA2")
	cr = f.cycle(idbridge.Delta)
	assert.Empty(t, run(t, cr, "ad", idbridge.DeltaSync).Errors)
}

func TestImportFailureKeepsWhatWasStagedAndResumes(t *testing.T) {
	f := newFixture(t, idbridge.Options{BatchSize: 2})
	for _, n := range []string{"A", "B", "C", "D", "E"} {
		f.adUser("g"+n, "E"+n, n, "Person", 512, nil)
	}
	f.ad.FailImportAfter = 3
	_, err := f.eng.FullImport(f.ctx, "ad")
	require.ErrorIs(t, err, connector.ErrUnavailable)

	f.ad.FailImportAfter = 0
	res, err := f.eng.FullImport(f.ctx, "ad")
	require.NoError(t, err)
	assert.Equal(t, 5, res.Adds+res.Unchanged)
	assert.Equal(t, 0, res.Deletes)
	cr := f.cycle(idbridge.Delta)
	assert.Equal(t, 5, run(t, cr, "ad", idbridge.DeltaSync).Projections)
	assert.Equal(t, 5, f.cloud.Len())
}

func TestDeltaSyncTouchesOnlyPendingObjects(t *testing.T) {
	f := newFixture(t, idbridge.Options{})
	for _, n := range []string{"A", "B", "C", "D"} {
		f.adUser("g"+n, "E"+n, n, "Person", 512, nil)
	}
	f.cycle(idbridge.Initial)
	f.cycle(idbridge.Delta)
	require.NoError(t, f.ad.Modify("gC", connector.Mod{Name: "title", Op: connector.ModReplace, Values: s("Chief")}))
	cr := f.cycle(idbridge.Delta)
	imp := run(t, cr, "ad", idbridge.DeltaImport)
	assert.Equal(t, 1, imp.Updates)
	syn := run(t, cr, "ad", idbridge.DeltaSync)
	assert.Equal(t, 1, syn.MetaverseUpdates)
	assert.Equal(t, 0, syn.ExportUpdates, "title does not flow to the cloud")
	assert.Equal(t, "Chief", f.entryBy("employeeID", "EC").Attrs["title"][0].Str())
}

func TestRuleFileTypeErrorIsRefusedWithItsPosition(t *testing.T) {
	bad := `metaverse:
  types:
    - name: person
      attributes:
        - {name: displayName, type: string}
rules:
  - name: Bad
    direction: inbound
    connector: ad
    source: user
    target: person
    precedence: 1
    linkType: Provision
    flows:
      - {target: displayName, expression: 'source.givenName + 1'}
`
	rf, err := rules.Parse("bad.yaml", []byte(bad))
	require.NoError(t, err, "the file parses; it does not type-check")
	_, err = idbridge.New(context.Background(), idbridge.Config{
		Store:      memstore.New(),
		Connectors: map[string]connector.Connector{"ad": memconn.New(adSchema).Connector()},
		Rules:      rf,
	})
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "bad.yaml:15")
	assert.Contains(t, msg, `"Bad"`)
	assert.Contains(t, msg, "source.givenName + 1")
}

func TestRulesReferringToUnknownConnector(t *testing.T) {
	rf, err := rules.ParseFile("testdata/engine-rules.yaml")
	require.NoError(t, err)
	_, err = idbridge.New(context.Background(), idbridge.Config{
		Store:      memstore.New(),
		Connectors: map[string]connector.Connector{"ad": memconn.New(adSchema).Connector()},
		Rules:      rf,
	})
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "hr") || strings.Contains(err.Error(), "cloud"), err.Error())
}

func TestRunHistoryIsRecorded(t *testing.T) {
	f := newFixture(t, idbridge.Options{})
	f.adUser("g1", "E1", "Ada", "Lovelace", 512, nil)
	f.cycle(idbridge.Initial)
	var runs []*metaverse.RunRecord
	require.NoError(t, f.store.View(f.ctx, func(tx metaverse.Tx) error {
		var err error
		runs, err = tx.Runs(f.ctx, "ad", 10)
		return err
	}))
	require.Len(t, runs, 2)
	assert.Equal(t, "FullSync", runs[0].Profile)
	assert.Equal(t, 1, runs[0].Counts["projections"])
	assert.Equal(t, "FullImport", runs[1].Profile)
}

func TestUnknownConnector(t *testing.T) {
	f := newFixture(t, idbridge.Options{})
	_, err := f.eng.FullImport(f.ctx, "nope")
	assert.True(t, errors.Is(err, idbridge.ErrUnknownConnector))
}

func TestPreviewChangesNothing(t *testing.T) {
	f := newFixture(t, idbridge.Options{})
	f.adUser("g1", "E1", "Ada", "Lovelace", 512, nil)
	f.hr.Put(connector.Object{Anchor: "h1", DN: "worker=1", Type: "worker", Attrs: connector.Attributes{"employeeNumber": s("E1"), "dept": s("Research")}})
	_, err := f.eng.FullImport(f.ctx, "ad")
	require.NoError(t, err)

	p, err := f.eng.Preview(f.ctx, "ad", "g1")
	require.NoError(t, err)
	require.NoError(t, p.Err)
	assert.Nil(t, p.Before)
	require.NotNil(t, p.After)
	assert.Equal(t, 1, p.Counts.Projections)
	assert.Equal(t, "Ada Lovelace", p.After.Attrs["displayName"][0].Str())
	assert.Equal(t, metaverse.Source{Connector: "ad", Rule: "In from AD - User"}, p.After.Sources["displayName"])
	require.Len(t, p.Exports, 1)
	assert.Equal(t, "cloud", p.Exports[0].Connector)
	assert.Equal(t, connector.Add, p.Exports[0].Change.Kind)
	assert.Empty(t, f.entries(), "a preview writes nothing")

	// What-if: with HR joined, the department would come from HR.
	f.cycle(idbridge.Initial)
	require.NoError(t, f.hr.Modify("h1", connector.Mod{Name: "dept", Op: connector.ModReplace, Values: s("Labs")}))
	_, err = f.eng.DeltaImport(f.ctx, "hr")
	require.NoError(t, err)
	p, err = f.eng.Preview(f.ctx, "hr", "h1")
	require.NoError(t, err)
	assert.Equal(t, "Research", p.Before.Attrs["department"][0].Str())
	assert.Equal(t, "Labs", p.After.Attrs["department"][0].Str())
	require.Len(t, p.Exports, 1)
	assert.Equal(t, []connector.Mod{{Name: "department", Op: connector.ModReplace, Values: s("Labs")}}, p.Exports[0].Change.Mods)
	assert.Equal(t, "Research", f.entryBy("employeeID", "E1").Attrs["department"][0].Str(), "still unchanged")

	_, err = f.eng.Preview(f.ctx, "ad", "nope")
	assert.ErrorIs(t, err, metaverse.ErrNotFound)
}

func TestDeprovisionActions(t *testing.T) {
	tests := []struct {
		action  string
		extra   string
		cloudOK bool // the cloud user still exists after the AD user leaves scope
		check   func(t *testing.T, u connector.Object)
	}{
		{action: "delete", cloudOK: false},
		{action: "disconnect", cloudOK: true, check: func(t *testing.T, u connector.Object) {
			assert.True(t, u.Attrs["accountEnabled"][0].Bool(), "left as it was")
		}},
		{action: "disable", extra: "\n    deprovisionFlows:\n      - {target: accountEnabled, expression: 'false'}", cloudOK: true, check: func(t *testing.T, u connector.Object) {
			assert.False(t, u.Attrs["accountEnabled"][0].Bool(), "disabled by the deprovision flow")
		}},
	}
	base, err := os.ReadFile("testdata/engine-rules.yaml")
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			// Give "Out to Cloud - User" the deprovision action under test.
			text := strings.Replace(string(base), "    scope: has(source.mail)\n", "    scope: has(source.mail)\n    deprovision: "+tt.action+tt.extra+"\n", 1)
			rf, err := rules.Parse("rules.yaml", []byte(text))
			require.NoError(t, err)
			f := newFixture(t, idbridge.Options{})
			require.NoError(t, f.eng.SetRules(f.ctx, rf))
			f.adUser("g1", "E1", "Ada", "Lovelace", 512, nil)
			f.cycle(idbridge.Initial)
			_, ok := f.cloudObject("cn=E1,ou=users")
			require.True(t, ok)

			// The user loses its mail: out of the outbound rule's scope.
			require.NoError(t, f.ad.Modify("g1", connector.Mod{Name: "mail", Op: connector.ModRemove}))
			cr := f.cycle(idbridge.Delta)
			assert.Equal(t, 1, run(t, cr, "ad", idbridge.DeltaSync).Deprovisions)
			u, ok := f.cloudObject("cn=E1,ou=users")
			assert.Equal(t, tt.cloudOK, ok)
			if tt.check != nil && ok {
				tt.check(t, u)
			}
			e := f.entryBy("employeeID", "E1")
			require.NotNil(t, e, "the entry stays: AD still holds it")
			assert.Len(t, e.LinkTo("cloud"), 0, "the cloud object is unlinked")
		})
	}
}
