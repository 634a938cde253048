package pgelector_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/ha"
	"github.com/idbridge/idbridge/ha/hatest"
	"github.com/idbridge/idbridge/ha/internal/netproxy"
	"github.com/idbridge/idbridge/ha/pgelector"
	"github.com/idbridge/idbridge/internal/testenv"
	"github.com/idbridge/idbridge/metaverse/pgstore"
)

func open(t *testing.T, dsn, schema string, ttl time.Duration) *pgelector.Elector {
	t.Helper()
	e, err := pgelector.Open(context.Background(), dsn, &pgelector.Options{Schema: schema, TTL: ttl})
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e
}

func TestConformance(t *testing.T) {
	dsn := testenv.Get(t, "IDBRIDGE_PG_DSN", "PostgreSQL")
	schema := testenv.PGSchema(t, dsn, "ha_")
	hatest.Run(t, hatest.Harness{
		NewElector: func(t *testing.T) ha.Elector { return open(t, dsn, schema, 2*time.Second) },
		Expiring:   true,
	})
}

// TestRenewal: a lease outlives its TTL while it is renewed, and its
// local expiry moves forward.
func TestRenewal(t *testing.T) {
	dsn := testenv.Get(t, "IDBRIDGE_PG_DSN", "PostgreSQL")
	schema := testenv.PGSchema(t, dsn, "ha_")
	e := open(t, dsn, schema, time.Second)
	l, err := e.Campaign(context.Background(), "k")
	require.NoError(t, err)
	first := l.Expires()
	deadline := time.NewTimer(3 * time.Second) // three TTLs
	defer deadline.Stop()
	select {
	case <-l.Done():
		t.Fatalf("lease lost while renewed: %v", l.Err())
	case <-deadline.C:
	}
	assert.True(t, l.Expires().After(first.Add(time.Second)), "expiry moved from %v to %v", first, l.Expires())
	require.NoError(t, l.Resign(context.Background()))
}

// TestPartitionedLeaderLosesLease: a leader cut off from PostgreSQL ends
// its lease with ErrLeaseLost once the lease's local expiry passes, no
// later; a standby takes over with a higher term after the TTL; the
// old leader's renewals, once healed, do not win the lease back.
func TestPartitionedLeaderLosesLease(t *testing.T) {
	dsn := testenv.Get(t, "IDBRIDGE_PG_DSN", "PostgreSQL")
	schema := testenv.PGSchema(t, dsn, "ha_")
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	p, err := netproxy.New(u.Host)
	require.NoError(t, err)
	defer p.Close()
	viaProxy := *u
	viaProxy.Host = p.Addr()

	const ttl = 2 * time.Second
	leader := open(t, viaProxy.String(), schema, ttl)
	standby := open(t, dsn, schema, ttl)
	l, err := leader.Campaign(context.Background(), "k")
	require.NoError(t, err)

	p.Partition()
	cut := time.Now()
	expires := l.Expires()
	got := make(chan ha.Lease, 1)
	go func() {
		s, err := standby.Campaign(context.Background(), "k")
		assert.NoError(t, err)
		got <- s
	}()
	<-l.Done()
	lost := time.Now()
	require.ErrorIs(t, l.Err(), ha.ErrLeaseLost)
	assert.False(t, lost.Before(expires), "lost at %v, before its expiry %v", lost, expires)
	s := <-got
	took := time.Now()
	require.NotNil(t, s)
	assert.Greater(t, s.Term(), l.Term())
	assert.False(t, took.Before(expires), "the standby led at %v, before the old lease's local expiry %v", took, expires)
	t.Logf("partition at %v: old lease lost after %v, standby led after %v", cut.Format(time.TimeOnly), lost.Sub(cut), took.Sub(cut))

	p.Heal()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = leader.Campaign(ctx, "k")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the healed node must not lead while the standby does")
	assert.NoError(t, s.Err())
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []pgelector.Options{
		{Schema: "Bad-Name"}, {TTL: -1}, {TTL: time.Millisecond}, {TTL: time.Second, RenewEvery: time.Second},
	} {
		assert.Error(t, o.Validate(), "%+v", o)
	}
	assert.NoError(t, (&pgelector.Options{TTL: 5 * time.Second}).Validate())
	assert.NoError(t, (*pgelector.Options)(nil).Validate())
}

// TestOpenRefusesAnUnverifiedRemoteHost: the elector connects to the
// store's database under the store's rule (before connecting at all).
func TestOpenRefusesAnUnverifiedRemoteHost(t *testing.T) {
	_, err := pgelector.Open(context.Background(), "postgres://u@db.example.test:5432/idbridge", nil)
	require.ErrorIs(t, err, pgstore.ErrInsecureTransport)
}
