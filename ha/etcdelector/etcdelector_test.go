package etcdelector_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idbridge/idbridge/ha"
	"github.com/idbridge/idbridge/ha/etcdelector"
	"github.com/idbridge/idbridge/ha/hatest"
	"github.com/idbridge/idbridge/ha/internal/netproxy"
	"github.com/idbridge/idbridge/internal/testenv"
)

func endpoints(t *testing.T) []string {
	return strings.Split(testenv.Get(t, "IDBRIDGE_ETCD_ENDPOINTS", "etcd"), ",")
}

func client(t *testing.T, eps []string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	return cli
}

func newElector(t *testing.T, cli *clientv3.Client, prefix string) *etcdelector.Elector {
	t.Helper()
	e, err := etcdelector.New(cli, &etcdelector.Options{Prefix: prefix, TTL: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e
}

func TestConformance(t *testing.T) {
	eps := endpoints(t)
	prefix := hatest.Key("/idbridge-test") + "/"
	hatest.Run(t, hatest.Harness{
		NewElector: func(t *testing.T) ha.Elector { return newElector(t, client(t, eps), prefix) },
		Expiring:   true,
	})
}

// TestPartitionedLeaderLosesLease: a leader cut off from etcd loses its
// lease at its local expiry; the standby leads only after the server
// expired the old lease, with a higher term.
func TestPartitionedLeaderLosesLease(t *testing.T) {
	eps := endpoints(t)
	host := strings.TrimPrefix(eps[0], "http://")
	p, err := netproxy.New(host)
	require.NoError(t, err)
	defer p.Close()
	prefix := hatest.Key("/idbridge-test") + "/"
	leader := newElector(t, client(t, []string{"http://" + p.Addr()}), prefix)
	standby := newElector(t, client(t, eps), prefix)

	l, err := leader.Campaign(context.Background(), "k")
	require.NoError(t, err)
	p.Partition()
	cut, expires := time.Now(), l.Expires()
	got := make(chan ha.Lease, 1)
	go func() {
		s, err := standby.Campaign(context.Background(), "k")
		assert.NoError(t, err)
		got <- s
	}()
	<-l.Done()
	lost := time.Now()
	require.ErrorIs(t, l.Err(), ha.ErrLeaseLost)
	// The leader gives up at its local expiry (a timer; expires may be
	// read without a monotonic clock: allow the timer's own slack).
	assert.False(t, lost.Before(expires.Add(-50*time.Millisecond)), "lost at %v, expiry %v", lost, expires)
	s := <-got
	took := time.Now()
	require.NotNil(t, s)
	assert.Greater(t, s.Term(), l.Term())
	assert.False(t, took.Before(expires), "the standby led at %v, before the old lease's local expiry %v", took, expires)
	t.Logf("old lease lost %v after the partition, standby led after %v", lost.Sub(cut), took.Sub(cut))
	require.NoError(t, s.Resign(context.Background()))
}
