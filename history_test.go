package idbridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
)

// allHistory pages through the whole history with q.
func allHistory(t *testing.T, e *idbridge.Engine, q idbridge.HistoryQuery) ([]idbridge.RunRecord, int) {
	t.Helper()
	var out []idbridge.RunRecord
	pages := 0
	for {
		p, err := e.History(context.Background(), q)
		require.NoError(t, err)
		pages++
		out = append(out, p.Runs...)
		if p.Next == "" {
			return out, pages
		}
		require.LessOrEqual(t, pages, 100)
		q.Cursor = p.Next
	}
}

func TestHistory(t *testing.T) {
	clock := newFakeClock(newEvents())
	f := newFixture(t, idbridge.Options{Clock: clock})
	f.adUser("a1", "E1", "Ada", "Lovelace", 512, nil)
	var runs []*idbridge.RunResult
	for range 3 {
		cr := f.cycle(idbridge.Delta)
		runs = append(runs, cr.Runs...)
		clock.Advance(time.Minute)
	}
	down := errors.New("server down")
	f.ad.FailCall(memconn.OpDeltaImport, down)
	f.ad.FailCall(memconn.OpImport, down)
	failed, err := f.eng.DeltaImport(f.ctx, "ad")
	require.ErrorIs(t, err, down)
	runs = append(runs, failed)

	all, pages := allHistory(t, f.eng, idbridge.HistoryQuery{Limit: 4})
	require.Len(t, all, len(runs))
	assert.Equal(t, (len(runs)+3)/4, pages)
	for i, r := range all {
		want := runs[len(runs)-1-i] // newest first
		assert.Equal(t, want.Connector, r.Connector)
		assert.Equal(t, want.Profile, r.Profile)
		assert.Equal(t, want.Started, r.Started)
		assert.Equal(t, idbridge.RunOutcome(want, nil) == idbridge.OutcomeSuccess || i == 0, true)
	}
	assert.Equal(t, idbridge.OutcomeFailed, all[0].Outcome)
	assert.Contains(t, all[0].Err, "server down")

	for _, c := range []struct {
		name string
		q    idbridge.HistoryQuery
		want func(*idbridge.RunResult) bool
	}{
		{"Connector", idbridge.HistoryQuery{Connector: "ad"}, func(r *idbridge.RunResult) bool { return r.Connector == "ad" }},
		{"Profile", idbridge.HistoryQuery{Profile: idbridge.DeltaSync}, func(r *idbridge.RunResult) bool { return r.Profile == idbridge.DeltaSync }},
		{"ConnectorProfile", idbridge.HistoryQuery{Connector: "cloud", Profile: idbridge.Export, Limit: 1},
			func(r *idbridge.RunResult) bool { return r.Connector == "cloud" && r.Profile == idbridge.Export }},
		{"Outcome", idbridge.HistoryQuery{Outcome: idbridge.OutcomeFailed}, func(r *idbridge.RunResult) bool { return r == failed }},
		{"Since", idbridge.HistoryQuery{Since: runs[0].Started.Add(time.Minute)},
			func(r *idbridge.RunResult) bool { return !r.Started.Before(runs[0].Started.Add(time.Minute)) }},
		{"Until", idbridge.HistoryQuery{Until: runs[0].Started.Add(time.Minute)},
			func(r *idbridge.RunResult) bool { return r.Started.Before(runs[0].Started.Add(time.Minute)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := allHistory(t, f.eng, c.q)
			var want []string
			for i := len(runs) - 1; i >= 0; i-- {
				if c.want(runs[i]) {
					want = append(want, runs[i].Connector+" "+string(runs[i].Profile)+" "+runs[i].Started.String())
				}
			}
			var have []string
			for _, r := range got {
				have = append(have, r.Connector+" "+string(r.Profile)+" "+r.Started.String())
			}
			require.NotEmpty(t, want)
			assert.Equal(t, want, have)
		})
	}

	_, err = f.eng.History(f.ctx, idbridge.HistoryQuery{Cursor: "nope"})
	require.ErrorIs(t, err, idbridge.ErrBadCursor)

	// JSON-serialisable.
	p, err := f.eng.History(f.ctx, idbridge.HistoryQuery{Limit: 1})
	require.NoError(t, err)
	b, err := json.Marshal(p)
	require.NoError(t, err)
	var back idbridge.HistoryPage
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, p.Next, back.Next)
	assert.Equal(t, p.Runs[0].Err, back.Runs[0].Err)
	assert.Contains(t, string(b), `"outcome":"failed"`)
}

// The retention bound is enforced as runs are recorded: by count and by
// age.
func TestHistoryRetention(t *testing.T) {
	t.Run("Runs", func(t *testing.T) {
		f := newFixture(t, idbridge.Options{HistoryRetention: idbridge.HistoryRetention{Runs: 4}})
		for range 3 {
			f.cycle(idbridge.Delta)
		}
		all, _ := allHistory(t, f.eng, idbridge.HistoryQuery{})
		assert.Len(t, all, 4)
	})
	t.Run("Age", func(t *testing.T) {
		clock := newFakeClock(newEvents())
		f := newFixture(t, idbridge.Options{Clock: clock, HistoryRetention: idbridge.HistoryRetention{Age: time.Hour}})
		f.cycle(idbridge.Delta)
		first, _ := allHistory(t, f.eng, idbridge.HistoryQuery{})
		clock.Advance(2 * time.Hour)
		_, err := f.eng.DeltaImport(f.ctx, "ad")
		require.NoError(t, err)
		all, _ := allHistory(t, f.eng, idbridge.HistoryQuery{})
		require.Len(t, all, 1, "the runs older than an hour are gone (there were %d)", len(first))
		assert.Equal(t, clock.Now(), all[0].Started)
	})
	t.Run("Unbounded", func(t *testing.T) {
		f := newFixture(t, idbridge.Options{HistoryRetention: idbridge.HistoryRetention{Runs: -1, Age: -1}})
		for range 3 {
			f.cycle(idbridge.Delta)
		}
		all, _ := allHistory(t, f.eng, idbridge.HistoryQuery{})
		assert.Len(t, all, 3*6, "3 imports and 3 syncs per cycle")
	})
}

func TestObjectErrors(t *testing.T) {
	f := newFixture(t, idbridge.Options{ExportRetryBackoff: -1})
	for i := range 6 {
		f.adUser(fmt.Sprintf("a%d", i), fmt.Sprintf("E%d", i), "Given", fmt.Sprintf("Sn%d", i), 512, nil)
	}
	f.cycle(idbridge.Initial)
	// Import errors on two objects the connector space holds, a permanent
	// export refusal (parked) and a transient one.
	for _, a := range []string{"a1", "a2"} {
		f.ad.FailObject(memconn.OpImport, a, connector.ErrInvalidObject)
		f.ad.FailObject(memconn.OpDeltaImport, a, connector.ErrInvalidObject)
		require.NoError(t, f.ad.Modify(connector.Anchor(a), connector.Mod{Name: "title", Op: connector.ModReplace, Values: s("Dr")}))
	}
	f.adUser("a6", "E6", "New", "Sn6", 512, nil)
	f.adUser("a7", "E7", "New", "Sn7", 512, nil)
	f.cloud.FailExport = func(ch connector.Change) error {
		switch ch.DN {
		case "cn=E6,ou=users":
			return connector.ErrConstraint
		case "cn=E7,ou=users":
			return connector.ErrUnavailable
		}
		return nil
	}
	// (A full sync clears the import errors it meets: a delta cycle.)
	cr := f.cycle(idbridge.Delta)
	exp := run(t, cr, "cloud", idbridge.Export)
	require.Equal(t, 2, exp.ExportFailed, exp.String())

	var all []idbridge.CurrentError
	q := idbridge.ErrorQuery{Limit: 1}
	for {
		p, err := f.eng.ObjectErrors(f.ctx, q)
		require.NoError(t, err)
		require.LessOrEqual(t, len(p.Errors), 1)
		all = append(all, p.Errors...)
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	require.Len(t, all, 4, "%+v", all)
	assert.Equal(t, "ad", all[0].Connector)
	assert.Equal(t, "import", all[0].Step)
	assert.Contains(t, all[0].Error, "invalid object")
	assert.Equal(t, "ad", all[1].Connector)
	byDN := map[string]idbridge.CurrentError{}
	for _, e := range all[2:] {
		assert.Equal(t, "cloud", e.Connector)
		assert.Equal(t, "export", e.Step)
		assert.Equal(t, 1, e.Attempts)
		byDN[e.DN] = e
	}
	assert.True(t, byDN["cn=E6,ou=users"].Parked)
	assert.False(t, byDN["cn=E7,ou=users"].Parked)

	one, err := f.eng.ObjectErrors(f.ctx, idbridge.ErrorQuery{Connector: "cloud"})
	require.NoError(t, err)
	assert.Len(t, one.Errors, 2)
	none, err := f.eng.ObjectErrors(f.ctx, idbridge.ErrorQuery{Connector: "hr"})
	require.NoError(t, err)
	assert.Empty(t, none.Errors)
	assert.NotNil(t, none.Errors, "an empty list, not null, in JSON")
	_, err = f.eng.ObjectErrors(f.ctx, idbridge.ErrorQuery{Connector: "nope"})
	require.ErrorIs(t, err, idbridge.ErrUnknownConnector)
	_, err = f.eng.ObjectErrors(f.ctx, idbridge.ErrorQuery{Cursor: "garbage"})
	require.ErrorIs(t, err, idbridge.ErrBadCursor)

	// Fixed: the errors go away.
	f.ad.ClearFaults()
	f.cloud.FailExport = nil
	_, err = f.eng.RetryExports(f.ctx, "cloud")
	require.NoError(t, err)
	f.cycle(idbridge.Initial)
	p, err := f.eng.ObjectErrors(f.ctx, idbridge.ErrorQuery{})
	require.NoError(t, err)
	assert.Empty(t, p.Errors)
}
