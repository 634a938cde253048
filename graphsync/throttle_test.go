package graphsync_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
)

// TestThrottleStorm: with 30% of requests (and of the requests inside each
// $batch) throttled, creates, updates and deletes all end applied, each
// once.
func TestThrottleStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for Retry-After")
	}
	srv, c := newEnv(t, graphtest.Options{Seed: 7}, func(cfg *graphsync.Config) { cfg.MaxAttempts = 30 })
	var changes []connector.Change
	for i := range 100 {
		changes = append(changes, newUser(fmt.Sprintf("st%03d", i), "onPremisesImmutableId", fmt.Sprintf("ST%03d", i)))
	}
	srv.SetFaults(0.3, 0)
	res := export(t, c, changes)
	var ids []connector.Anchor
	for i, r := range res {
		require.NoError(t, r.Err, "create %d", i)
		assert.Empty(t, r.Warnings, "create %d: no conflict, so no retry was applied twice", i)
		ids = append(ids, r.Anchor)
	}
	changes = changes[:0]
	for i, id := range ids {
		switch {
		case i < 30:
			changes = append(changes, connector.Change{Kind: connector.Update, Type: graphsync.TypeUser, Anchor: id,
				Mods: []connector.Mod{{Name: "jobTitle", Op: connector.ModReplace, Values: str(fmt.Sprint("title ", i))}}})
		case i < 50:
			changes = append(changes, connector.Change{Kind: connector.Delete, Type: graphsync.TypeUser, Anchor: id})
		}
	}
	res = export(t, c, changes)
	for i, r := range res {
		require.NoError(t, r.Err, "change %d", i)
	}
	srv.SetFaults(0, 0)

	throttled := 0
	for _, r := range srv.Requests() {
		if r.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	assert.Greater(t, throttled, 20, "the storm happened")
	st := c.ThrottleStats()
	assert.Positive(t, st.Throttled, "the connector reports the throttling")
	assert.Positive(t, st.Waited)
	t.Logf("throttle stats: %+v", st)
	assert.Equal(t, 100+30+20, srv.Writes(), "every change applied exactly once")
	assert.Len(t, srv.Users(), 80)
	for i, id := range ids[:30] {
		u, ok := srv.Object(string(id))
		require.True(t, ok)
		assert.Equal(t, fmt.Sprint("title ", i), u["jobTitle"])
	}
	t.Logf("%d requests throttled", throttled)
}

// TestWriteBudget: paced at a budget, the export stays within it (no 429
// from the emulator's budget) and uses most of it.
func TestWriteBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for seconds")
	}
	const budget = 400
	srv, c := newEnv(t, graphtest.Options{WriteBudget: budget, WriteWindow: 1e9}, func(cfg *graphsync.Config) {
		cfg.WriteBudget = graphsync.Budget{Writes: budget, Per: 1e9}
	})
	var changes []connector.Change
	for i := range 1600 {
		changes = append(changes, newUser(fmt.Sprintf("wb%04d", i)))
	}
	res := export(t, c, changes)
	for i, r := range res {
		require.NoError(t, r.Err, "create %d", i)
	}
	throttled := 0
	for _, r := range srv.Requests() {
		if r.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	assert.Zero(t, throttled, "paced below the budget: Graph never had to throttle")
	assert.Equal(t, 1600, srv.Writes())
}
