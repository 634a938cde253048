package idbridge_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/rules"
)

// TestRuleErrorsAreObjectErrors: an expression that fails on one object
// (here int() of a title that is not a number) is an error of that object,
// with the step that failed; the others sync, the run does not fail, and
// the object is synced again by the next delta sync once it is fixed.
func TestRuleErrorsAreObjectErrors(t *testing.T) {
	tests := []struct {
		name  string
		rules semRules
		step  string
	}{
		{"inbound scope", semRules{adScope: `int(source.title) > 0`}, "scope"},
		{"inbound flow", semRules{adFlows: `      - {target: department, expression: 'string(int(source.title))'}`}, "flow"},
		{"outbound scope", semRules{adFlows: `      - {target: title, source: title}`, cloudScope: `int(source.title) > 0`}, "outbound scope"},
		{"outbound flow", semRules{adFlows: `      - {target: title, source: title}`, cloudFlows: "      - {target: jobCode, expression: 'string(int(source.title))'}\n"}, "outbound flow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSemEnv(t, tt.rules)
			e.ad.Put(adUser("a1", "E1", connector.Attributes{"title": s("42")}))
			e.ad.Put(adUser("a2", "E2", connector.Attributes{"title": s("Engineer")}))
			cr, err := e.eng.Cycle(e.ctx, idbridge.Initial)
			require.NoError(t, err)
			syn := run(t, cr, "ad", idbridge.FullSync)
			require.Len(t, syn.Errors, 1)
			oe := syn.Errors[0]
			assert.Contains(t, oe.Step, tt.step)
			assert.Equal(t, connector.Anchor("a2"), oe.Anchor)
			assert.Equal(t, 1, syn.ErrorCount)
			assert.NotNil(t, e.person("E1"), "the other object synced")

			p, err := e.eng.Preview(e.ctx, "ad", "a2")
			require.NoError(t, err, "a preview reports the object's error in Err")
			var perr *idbridge.ObjectError
			require.ErrorAs(t, p.Err, &perr)
			assert.Equal(t, oe.Step, perr.Step)
			_, err = e.eng.Preview(e.ctx, "nosuch", "a2")
			assert.ErrorIs(t, err, idbridge.ErrUnknownConnector)
			_, err = e.eng.PendingExports(e.ctx, "nosuch", 0)
			assert.ErrorIs(t, err, idbridge.ErrUnknownConnector)
			_, ok := e.cloud.ByDN("cn=E1")
			assert.True(t, ok)

			require.NoError(t, e.ad.Modify("a2", connector.Mod{Op: connector.ModReplace, Name: "title", Values: s("7")}))
			cr = e.cycle(idbridge.Delta)
			assert.Empty(t, cr.Errors())
			assert.NotNil(t, e.person("E2"))
			_, ok = e.cloud.ByDN("cn=E2")
			assert.True(t, ok, "exported once fixed")
		})
	}
}

// errConn reports one malformed record through sink.Error and fails its
// second import.
type errConn struct {
	*memconn.Connector
	imports int
}

var errUnreachable = errors.New("server unreachable")

func (c *errConn) Import(ctx context.Context, sink connector.ImportSink) error {
	c.imports++
	if c.imports == 2 {
		return errUnreachable
	}
	if err := sink.Error(ctx, &connector.ObjectError{DN: "cn=bad", Err: connector.ErrInvalidObject}); err != nil {
		return err
	}
	return c.Connector.Import(ctx, sink)
}

// TestImportErrors: a record the connector reports as malformed is an
// object error of the import; a failing import fails its run and the
// cycle, which still syncs and exports the other connectors.
func TestImportErrors(t *testing.T) {
	ctx := context.Background()
	ad := memconn.New(joinADSchema)
	ad.Put(connector.Object{Anchor: "a1", DN: "cn=a1", Type: "user", Attrs: connector.Attributes{"employeeID": s("E1")}})
	ec := &errConn{Connector: ad.Connector()}
	eng := newRunEngine(t, ec, nil)
	cr, err := eng.Cycle(ctx, idbridge.Initial)
	require.NoError(t, err)
	imp := run(t, cr, "ad", idbridge.FullImport)
	assert.Equal(t, 1, imp.Adds)
	require.Len(t, imp.Errors, 1)
	assert.Equal(t, "import", imp.Errors[0].Step)
	assert.ErrorIs(t, imp.Errors[0], connector.ErrInvalidObject)
	assert.Equal(t, "cn=bad", imp.Errors[0].DN)

	cr, err = eng.Cycle(ctx, idbridge.Initial)
	require.ErrorIs(t, err, errUnreachable)
	require.NotNil(t, cr)
	assert.Len(t, cr.Runs, 2, "the failed import, then the sync")
	assert.False(t, cr.Ended.Before(cr.Started))
}

// TestRunSystemClock: Run on the system clock (Options.Clock nil) runs its
// first cycle at once and returns when its context ends.
func TestRunSystemClock(t *testing.T) {
	eng := newRunEngine(t, memconn.New(joinADSchema).Connector(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cycles := 0
	err := eng.Run(ctx, idbridge.Schedule{Interval: time.Hour, OnCycle: func(cr *idbridge.CycleResult, err error) {
		cycles++
		assert.NoError(t, err)
		assert.Equal(t, idbridge.Initial, cr.Mode, "InitialFirst")
		cancel()
	}, InitialFirst: true})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, cycles)
}

// TestSetRules: new rules replace the old ones only when they compile; a
// full sync then applies them.
func TestSetRules(t *testing.T) {
	e := newSemEnv(t, semRules{adFlows: "      - {target: title, source: title}"})
	e.ad.Put(adUser("a1", "E1", connector.Attributes{"title": s("Engineer")}))
	e.cycle(idbridge.Initial)
	before := e.eng.Rules()

	bad := semRules{adFlows: "      - {target: nosuch, source: title}"}.file(t)
	require.Error(t, e.eng.SetRules(e.ctx, bad))
	assert.Same(t, before, e.eng.Rules(), "kept")

	unknown := &rules.File{Metaverse: bad.Metaverse, Rules: []rules.Rule{{Name: "X", Direction: rules.Inbound, Connector: "nosuch", SourceType: "user", TargetType: "person"}}}
	assert.ErrorContains(t, e.eng.SetRules(e.ctx, unknown), `unknown connector "nosuch"`)
	assert.Same(t, before, e.eng.Rules(), "kept")

	require.NoError(t, e.eng.SetRules(e.ctx, semRules{adFlows: "      - {target: title, expression: 'source.title.upperAscii()'}"}.file(t)))
	_, err := e.eng.FullSync(e.ctx, "ad")
	require.NoError(t, err)
	assert.Equal(t, []string{"ENGINEER"}, strs(e.person("E1").Attrs["title"]))
}

// TestDeletionThresholdSetting: SetDeletionThreshold(0) restores the
// default; a negative threshold disables the check.
func TestDeletionThresholdSetting(t *testing.T) {
	e := newSemEnv(t, semRules{})
	for i := range 3 {
		e.ad.Put(adUser("a"+string(rune('0'+i)), "E"+string(rune('0'+i)), nil))
	}
	e.cycle(idbridge.Initial)
	e.cycle(idbridge.Delta)
	require.Equal(t, 3, e.cloud.Len())
	for i := range 3 {
		e.ad.Delete(connector.Anchor("a" + string(rune('0'+i))))
	}
	e.eng.SetDeletionThreshold(2)
	cr, err := e.eng.Cycle(e.ctx, idbridge.Delta)
	require.ErrorIs(t, err, idbridge.ErrDeletionThreshold)
	var dte *idbridge.DeletionThresholdError
	require.ErrorAs(t, err, &dte)
	assert.Equal(t, 3, dte.Deletes)
	assert.Equal(t, 2, dte.Threshold)
	assert.NotNil(t, cr)
	assert.Equal(t, 3, e.cloud.Len(), "nothing deleted")

	e.eng.SetDeletionThreshold(0) // the default, 500
	_, err = e.eng.Export(e.ctx, "cloud")
	require.NoError(t, err)
	assert.Zero(t, e.cloud.Len())
}
