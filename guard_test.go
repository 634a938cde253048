package idbridge_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
)

// scopeTypo gives the cloud user rule a scope with a trailing space in a
// value, which no user matches.
func scopeTypo(text string) string {
	return strings.Replace(text, "scope: has(source.mail)", `scope: 'has(source.mail) && source.department == "Sales "'`, 1)
}

// disableOnDeprovision makes the cloud user rule disable users that leave
// its scope instead of deleting them.
func disableOnDeprovision(text string) string {
	return strings.Replace(text, "    scope: has(source.mail)\n", "    scope: has(source.mail)\n    deprovision: disable\n    deprovisionFlows:\n      - {target: accountEnabled, constant: \"false\"}\n", 1)
}

func (f *fixture) setRules(rewrite ...func(string) string) {
	f.t.Helper()
	require.NoError(f.t, f.eng.SetRules(f.ctx, testRules(f.t, rewrite...)))
}

// syncAndExport runs a full sync of AD and an export of the cloud.
func (f *fixture) syncAndExport() (*idbridge.RunResult, error) {
	f.t.Helper()
	_, err := f.eng.FullSync(f.ctx, "ad")
	require.NoError(f.t, err)
	return f.eng.Export(f.ctx, "cloud")
}

// A scope typo that would delete every user of a 300-user tenant (fewer
// than the absolute threshold of 500) stops on the relative limit.
func TestGuardScopeTypoDeletesAll(t *testing.T) {
	f := newFixture(t, idbridge.Options{})
	f.addUsers(300)
	f.cycle(idbridge.Initial)
	require.Equal(t, 300, f.cloud.Len())
	calls := f.cloud.ExportCalls

	f.setRules(scopeTypo)
	_, err := f.syncAndExport()
	require.ErrorIs(t, err, idbridge.ErrDeletionThreshold)
	require.ErrorIs(t, err, idbridge.ErrMassChange)
	var me *idbridge.MassChangeError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, 300, me.Deletes)
	assert.Equal(t, 300, me.Objects)
	assert.Equal(t, []idbridge.ExceededLimit{{Kind: idbridge.ChangeDelete, Count: 300, Limit: 30, Percent: 10}}, me.Exceeded)
	require.Len(t, me.Sample, 20)
	assert.Equal(t, idbridge.ChangeDelete, me.Sample[0].Kind)
	assert.Contains(t, me.Sample[0].DN, ",ou=users")
	assert.Contains(t, err.Error(), "300 deletes pending, more than 10% of 300 objects")
	assert.Equal(t, calls, f.cloud.ExportCalls, "nothing was sent")
	assert.Equal(t, 300, f.cloud.Len())
}

// deprovision: disable over 600 users stops on the absolute limit of
// disables, and says what would change.
func TestGuardMassDisable(t *testing.T) {
	f := newFixtureWith(t, idbridge.Options{}, fixtureSetup{rules: disableOnDeprovision})
	f.addUsers(600)
	f.cycle(idbridge.Initial)
	require.Equal(t, 600, f.cloud.Len())
	calls := f.cloud.ExportCalls

	f.setRules(disableOnDeprovision, scopeTypo)
	_, err := f.syncAndExport()
	require.ErrorIs(t, err, idbridge.ErrMassChange)
	require.NotErrorIs(t, err, idbridge.ErrDeletionThreshold)
	var me *idbridge.MassChangeError
	require.ErrorAs(t, err, &me)
	assert.Zero(t, me.Deletes)
	assert.Equal(t, 600, me.Disables)
	assert.Equal(t, 600, me.Updates, "accountEnabled is an identity attribute too")
	assert.Contains(t, me.Exceeded, idbridge.ExceededLimit{Kind: idbridge.ChangeDisable, Count: 600, Limit: 500})
	require.NotEmpty(t, me.Sample)
	assert.Equal(t, idbridge.ChangeDisable, me.Sample[0].Kind)
	assert.Equal(t, []string{"accountEnabled: true → false"}, me.Sample[0].Changes)
	assert.Equal(t, calls, f.cloud.ExportCalls, "nothing was sent")

	// The administrator checked: let it through.
	f.eng.SetMassChange(idbridge.MassChangeOptions{Disables: 1000, DisablePercent: -1, Updates: -1, UpdatePercent: -1})
	res, err := f.eng.Export(f.ctx, "cloud")
	require.NoError(t, err)
	assert.Equal(t, 600, res.Exported)
	o, ok := f.cloudObject("cn=E7,ou=users")
	require.True(t, ok)
	assert.False(t, o.Attrs["accountEnabled"][0].Bool())
}

func TestGuardLimits(t *testing.T) {
	const users = 100
	mail := func(f *fixture, n int) { // change the mail of n users from g50 on
		for i := 50; i < 50+n; i++ {
			a := connector.Anchor(fmt.Sprintf("g%d", i))
			require.NoError(f.t, f.ad.Modify(a, connector.Mod{Name: "mail", Op: connector.ModReplace, Values: s(fmt.Sprintf("new%d@contoso.com", i))}))
		}
	}
	for _, tc := range []struct {
		name    string
		opts    idbridge.Options
		change  func(f *fixture)
		wantErr []error // nil: the export goes through
		want    idbridge.ExceededLimit
	}{
		{name: "a few deletes, disables and updates", opts: idbridge.Options{MassChange: idbridge.MassChangeOptions{UpdateAttributes: []string{"mail"}}},
			change: func(f *fixture) {
				for i := range 5 {
					f.ad.Delete(connector.Anchor(fmt.Sprintf("g%d", i)))
					a := connector.Anchor(fmt.Sprintf("g%d", 10+i))
					require.NoError(f.t, f.ad.Modify(a, connector.Mod{Name: "userAccountControl", Op: connector.ModReplace, Values: []connector.Value{connector.IntValue(514)}}))
				}
				mail(f, 10)
			}},
		{name: "many updates of an attribute not watched", change: func(f *fixture) { mail(f, 50) }},
		{name: "updates over the share", opts: idbridge.Options{MassChange: idbridge.MassChangeOptions{UpdateAttributes: []string{"mail"}}},
			change: func(f *fixture) { mail(f, 30) }, wantErr: []error{idbridge.ErrMassChange},
			want: idbridge.ExceededLimit{Kind: idbridge.ChangeUpdate, Count: 30, Limit: 10, Percent: 10}},
		{name: "updates over the absolute limit", opts: idbridge.Options{MassChange: idbridge.MassChangeOptions{UpdateAttributes: []string{"mail"}, Updates: 25, UpdatePercent: -1}},
			change: func(f *fixture) { mail(f, 30) }, wantErr: []error{idbridge.ErrMassChange},
			want: idbridge.ExceededLimit{Kind: idbridge.ChangeUpdate, Count: 30, Limit: 25}},
		{name: "updates over the share, below MinChanges", opts: idbridge.Options{MassChange: idbridge.MassChangeOptions{UpdateAttributes: []string{"mail"}, MinChanges: 31}},
			change: func(f *fixture) { mail(f, 30) }},
		{name: "deletes over the share", change: func(f *fixture) {
			for i := range 25 {
				f.ad.Delete(connector.Anchor(fmt.Sprintf("g%d", i)))
			}
		}, wantErr: []error{idbridge.ErrMassChange, idbridge.ErrDeletionThreshold},
			want: idbridge.ExceededLimit{Kind: idbridge.ChangeDelete, Count: 25, Limit: 10, Percent: 10}},
		{name: "deletes with the threshold off", opts: idbridge.Options{DeletionThreshold: -1}, change: func(f *fixture) {
			for i := range 25 {
				f.ad.Delete(connector.Anchor(fmt.Sprintf("g%d", i)))
			}
		}},
		{name: "disables over the share", change: func(f *fixture) {
			for i := range 21 {
				require.NoError(f.t, f.ad.Modify(connector.Anchor(fmt.Sprintf("g%d", i)), connector.Mod{Name: "userAccountControl", Op: connector.ModReplace, Values: []connector.Value{connector.IntValue(514)}}))
			}
		}, wantErr: []error{idbridge.ErrMassChange},
			want: idbridge.ExceededLimit{Kind: idbridge.ChangeDisable, Count: 21, Limit: 10, Percent: 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts)
			f.addUsers(users)
			f.cycle(idbridge.Initial)
			f.cycle(idbridge.Delta) // confirms the adds
			tc.change(f)
			cr, err := f.eng.Cycle(f.ctx, idbridge.Delta)
			if tc.wantErr == nil {
				require.NoError(t, err)
				assert.NotZero(t, run(t, cr, "cloud", idbridge.Export).Exported)
				return
			}
			for _, want := range tc.wantErr {
				require.ErrorIs(t, err, want)
			}
			if !slices.Contains(tc.wantErr, idbridge.ErrDeletionThreshold) {
				require.NotErrorIs(t, err, idbridge.ErrDeletionThreshold)
			}
			var me *idbridge.MassChangeError
			require.ErrorAs(t, err, &me)
			assert.Contains(t, me.Exceeded, tc.want)
			assert.Equal(t, users, f.cloud.Len())
		})
	}
}
