// Package hatest is the conformance suite of ha.Elector implementations.
// An elector's test is a few lines:
//
//	func TestConformance(t *testing.T) {
//		hatest.Run(t, hatest.Harness{NewElector: func(t *testing.T) ha.Elector { … }})
//	}
//
// # Errors
//
// The suite reports failures through t; it returns nothing.
//
// # Concurrency
//
// Subtests do not run in parallel with each other; within a subtest
// several nodes campaign concurrently.
package hatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/ha"
)

// Harness makes electors for the suite.
type Harness struct {
	// NewElector returns the elector of a new node; every node shares one
	// backend (one database, one etcd cluster, one process). The harness
	// closes it when t ends (t.Cleanup); the suite may close it earlier.
	// An in-process elector may return the same elector every time.
	NewElector func(t *testing.T) ha.Elector
	// Expiring says the electors' leases expire unless renewed (Expires is
	// not zero).
	Expiring bool
	// Blocked is how long the suite waits to see that a campaign does not
	// succeed while another node leads. Default 500 ms.
	Blocked time.Duration
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	if h.Blocked == 0 {
		h.Blocked = 500 * time.Millisecond
	}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"Campaign", testCampaign},
		{"Exclusive", testExclusive},
		{"Handover", testHandover},
		{"TermsGrow", testTermsGrow},
		{"KeysIndependent", testKeysIndependent},
		{"CampaignCancelled", testCampaignCancelled},
		{"Close", testClose},
		{"OneLeaderAtATime", testOneLeaderAtATime},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

// Key returns a key unique to this run, so that runs sharing a backend do
// not see each other.
func Key(prefix string) string {
	r := make([]byte, 6)
	rand.Read(r)
	return prefix + "/" + hex.EncodeToString(r)
}

func campaign(t *testing.T, e ha.Elector, key string) ha.Lease {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, err := e.Campaign(ctx, key)
	require.NoError(t, err)
	require.NotNil(t, l)
	return l
}

func isDone(l ha.Lease) bool {
	select {
	case <-l.Done():
		return true
	default:
		return false
	}
}

func testCampaign(t *testing.T, h Harness) {
	key := Key("campaign é/ü x")
	l := campaign(t, h.NewElector(t), key)
	assert.Equal(t, key, l.Key())
	assert.NotZero(t, l.Term())
	assert.NoError(t, l.Err())
	assert.False(t, isDone(l))
	if h.Expiring {
		assert.True(t, l.Expires().After(time.Now()), "a new lease expires in the future")
	} else {
		assert.True(t, l.Expires().IsZero())
	}
	require.NoError(t, l.Resign(context.Background()))
	<-l.Done()
	assert.ErrorIs(t, l.Err(), ha.ErrResigned)
	assert.NoError(t, l.Resign(context.Background()), "Resign is idempotent")
}

func testExclusive(t *testing.T, h Harness) {
	key := Key("exclusive")
	a, b := h.NewElector(t), h.NewElector(t)
	l := campaign(t, a, key)
	ctx, cancel := context.WithTimeout(context.Background(), h.Blocked)
	defer cancel()
	other, err := b.Campaign(ctx, key)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a second node led %v while the first held the lease", other)
	assert.False(t, isDone(l))
	require.NoError(t, l.Resign(context.Background()))
}

func testHandover(t *testing.T, h Harness) {
	key := Key("handover")
	a, b := h.NewElector(t), h.NewElector(t)
	la := campaign(t, a, key)
	got := make(chan ha.Lease, 1)
	go func() {
		l, err := b.Campaign(context.Background(), key)
		assert.NoError(t, err)
		got <- l
	}()
	require.NoError(t, la.Resign(context.Background()))
	lb := <-got
	require.NotNil(t, lb)
	assert.Greater(t, lb.Term(), la.Term())
	assert.ErrorIs(t, la.Err(), ha.ErrResigned)
	assert.NoError(t, lb.Err())
	require.NoError(t, lb.Resign(context.Background()))
}

func testTermsGrow(t *testing.T, h Harness) {
	key := Key("terms")
	nodes := []ha.Elector{h.NewElector(t), h.NewElector(t)}
	var last uint64
	for i := range 6 {
		l := campaign(t, nodes[i%2], key)
		assert.Greater(t, l.Term(), last, "lease %d", i)
		last = l.Term()
		require.NoError(t, l.Resign(context.Background()))
	}
}

func testKeysIndependent(t *testing.T, h Harness) {
	a, b := h.NewElector(t), h.NewElector(t)
	l1 := campaign(t, a, Key("k1"))
	l2 := campaign(t, b, Key("k2"))
	l3 := campaign(t, a, Key("k3"))
	for _, l := range []ha.Lease{l1, l2, l3} {
		assert.False(t, isDone(l))
		require.NoError(t, l.Resign(context.Background()))
	}
}

func testCampaignCancelled(t *testing.T, h Harness) {
	key := Key("cancel")
	a, b := h.NewElector(t), h.NewElector(t)
	l := campaign(t, a, key)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := b.Campaign(ctx, key)
		errc <- err
	}()
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
	require.NoError(t, l.Resign(context.Background()))
	// The cancelled campaign left nothing behind: b can lead now.
	lb := campaign(t, b, key)
	require.NoError(t, lb.Resign(context.Background()))
}

func testClose(t *testing.T, h Harness) {
	key := Key("close")
	a := h.NewElector(t)
	l := campaign(t, a, key)
	require.NoError(t, a.Close())
	<-l.Done()
	assert.ErrorIs(t, l.Err(), ha.ErrClosed)
	_, err := a.Campaign(context.Background(), Key("after-close"))
	assert.ErrorIs(t, err, ha.ErrClosed)
	assert.NoError(t, a.Close(), "Close is idempotent")
	// The lease was released: another node leads at once.
	b := h.NewElector(t)
	lb := campaign(t, b, key)
	assert.Greater(t, lb.Term(), l.Term())
	require.NoError(t, lb.Resign(context.Background()))
}

// testOneLeaderAtATime: four nodes campaign in a loop; every leadership
// is checked against a shared record of the current leader.
func testOneLeaderAtATime(t *testing.T, h Harness) {
	key := Key("one")
	const nodes, rounds = 4, 3
	var mu sync.Mutex
	var current ha.Lease
	var terms []uint64
	var wg sync.WaitGroup
	for range nodes {
		e := h.NewElector(t)
		wg.Go(func() {
			for range rounds {
				l, err := e.Campaign(context.Background(), key)
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				assert.Nil(t, current, "two leaders at once")
				current = l
				terms = append(terms, l.Term())
				mu.Unlock()
				mu.Lock()
				current = nil
				mu.Unlock()
				assert.NoError(t, l.Resign(context.Background()))
			}
		})
	}
	wg.Wait()
	require.Len(t, terms, nodes*rounds)
	for i := 1; i < len(terms); i++ {
		assert.Greater(t, terms[i], terms[i-1], "terms in the order leaderships began")
	}
}
