package idbridge_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// manualClock is a clock that moves only when told.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// failFor makes the cloud refuse the changes of one DN with err.
func (f *fixture) failFor(dn string, err error) *int {
	tries := new(int)
	f.cloud.FailExport = func(c connector.Change) error {
		if c.DN == dn {
			*tries++
			return err
		}
		return nil
	}
	return tries
}

func (f *fixture) pending(dn string) idbridge.PendingExport {
	f.t.Helper()
	pe, err := f.eng.PendingExports(f.ctx, "cloud", 0)
	require.NoError(f.t, err)
	for _, p := range pe {
		if p.Change.DN == dn {
			return p
		}
	}
	f.t.Fatalf("no pending export of %s", dn)
	return idbridge.PendingExport{}
}

// A change the target refuses for good is parked: not sent again at each
// cycle, reported by each export, sent again when the object changes or an
// operator asks.
func TestRefusedExportIsParked(t *testing.T) {
	f := newFixture(t, idbridge.Options{})
	f.addUsers(3)
	tries := f.failFor("cn=E1,ou=users", &connector.ObjectError{Op: "add", DN: "cn=E1,ou=users", Err: connector.ErrDuplicateValue})
	cr := f.cycle(idbridge.Initial)
	exp := run(t, cr, "cloud", idbridge.Export)
	assert.Equal(t, 2, exp.Exported)
	assert.Equal(t, 1, exp.ExportFailed)
	assert.Equal(t, 1, exp.ExportParked)
	require.Len(t, exp.Errors, 1)
	assert.ErrorIs(t, exp.Errors[0], idbridge.ErrExportParked)
	assert.ErrorIs(t, exp.Errors[0], connector.ErrDuplicateValue)
	p := f.pending("cn=E1,ou=users")
	assert.Equal(t, metaverse.ExportParked, p.State)
	assert.Equal(t, 1, p.Attempts)
	assert.Contains(t, p.LastError, "duplicate value")

	// Cycles do not send it again, and say why.
	for range 3 {
		cr = f.cycle(idbridge.Delta)
		exp = run(t, cr, "cloud", idbridge.Export)
		assert.Zero(t, exp.Exported)
		assert.Zero(t, exp.ExportFailed)
		assert.Equal(t, 1, exp.ExportParked)
		require.Len(t, exp.Errors, 1)
		assert.ErrorIs(t, exp.Errors[0], idbridge.ErrExportParked)
		assert.Contains(t, exp.Errors[0].Error(), "duplicate value")
	}
	assert.Equal(t, 1, *tries, "sent once")

	// The object changes in sync: its new change is sent.
	f.cloud.FailExport = nil
	o, _ := f.ad.Get("g1")
	require.NoError(t, f.ad.Modify(o.Anchor, connector.Mod{Name: "department", Op: connector.ModReplace, Values: s("Finance")}))
	cr = f.cycle(idbridge.Delta)
	exp = run(t, cr, "cloud", idbridge.Export)
	assert.Equal(t, 1, exp.Exported)
	assert.Zero(t, exp.ExportParked)
	assert.Equal(t, 3, f.cloud.Len())
}

func TestRetryExports(t *testing.T) {
	f := newFixture(t, idbridge.Options{})
	f.addUsers(3)
	f.cloud.FailExport = func(c connector.Change) error {
		if c.DN != "cn=E0,ou=users" {
			return connector.Permanent(connector.ErrAccessDenied)
		}
		return nil
	}
	cr := f.cycle(idbridge.Initial)
	require.Equal(t, 2, run(t, cr, "cloud", idbridge.Export).ExportParked)
	f.cloud.FailExport = nil // permissions fixed

	one := f.pending("cn=E1,ou=users").ObjectID
	n, err := f.eng.RetryExports(f.ctx, "cloud", one, "no-such-object")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, metaverse.ExportPending, f.pending("cn=E1,ou=users").State)
	assert.Zero(t, f.pending("cn=E1,ou=users").Attempts)
	res, err := f.eng.Export(f.ctx, "cloud")
	require.NoError(t, err)
	assert.Equal(t, 1, res.Exported)
	assert.Equal(t, 1, res.ExportParked)

	n, err = f.eng.RetryExports(f.ctx, "cloud")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "every parked export")
	res, err = f.eng.Export(f.ctx, "cloud")
	require.NoError(t, err)
	assert.Equal(t, 1, res.Exported)
	assert.Equal(t, 3, f.cloud.Len())

	_, err = f.eng.RetryExports(f.ctx, "nope")
	require.ErrorIs(t, err, idbridge.ErrUnknownConnector)
}

// A change refused with an error that may pass is sent again after a wait
// that doubles with each failure, up to a cap.
func TestRetryableExportBacksOff(t *testing.T) {
	clock := newManualClock()
	f := newFixture(t, idbridge.Options{Now: clock.Now, ExportRetryBackoff: time.Minute, ExportRetryMaxBackoff: 4 * time.Minute})
	f.addUsers(2)
	tries := f.failFor("cn=E1,ou=users", connector.ErrUnavailable)
	f.cycle(idbridge.Initial)
	require.Equal(t, 1, *tries)

	for i, step := range []struct {
		advance  time.Duration
		wantSent bool
	}{
		{0, false},
		{59 * time.Second, false},
		{time.Second, true}, // 1m after the first failure
		{time.Minute, false},
		{time.Minute, true}, // 2m after the second
		{3 * time.Minute, false},
		{time.Minute, true},                  // 4m after the third
		{4*time.Minute - time.Second, false}, // capped at 4m, not 8m
		{time.Second, true},
	} {
		clock.Advance(step.advance)
		before := *tries
		res, err := f.eng.Export(f.ctx, "cloud")
		require.NoError(t, err)
		if step.wantSent {
			assert.Equal(t, before+1, *tries, "step %d: sent", i)
			assert.Equal(t, 1, res.ExportFailed, "step %d", i)
			assert.ErrorIs(t, res.Errors[0], connector.ErrUnavailable)
			assert.NotErrorIs(t, res.Errors[0], idbridge.ErrExportParked)
		} else {
			assert.Equal(t, before, *tries, "step %d: deferred", i)
			assert.Equal(t, 1, res.ExportDeferred, "step %d", i)
		}
	}
	p := f.pending("cn=E1,ou=users")
	assert.Equal(t, metaverse.ExportFailed, p.State)
	assert.Equal(t, 5, p.Attempts)

	f.cloud.FailExport = nil
	clock.Advance(4 * time.Minute)
	res, err := f.eng.Export(f.ctx, "cloud")
	require.NoError(t, err)
	assert.Equal(t, 1, res.Exported)
	assert.Equal(t, 2, f.cloud.Len())
}
