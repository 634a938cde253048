package idbridge_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

// fakeLease is an idbridge.Lease a test controls.
type fakeLease struct {
	mu      sync.Mutex
	expires time.Time
	done    chan struct{}
	once    sync.Once
}

func newFakeLease(expires time.Time) *fakeLease {
	return &fakeLease{expires: expires, done: make(chan struct{})}
}

func (l *fakeLease) Expires() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.expires
}
func (l *fakeLease) Done() <-chan struct{} { return l.done }
func (l *fakeLease) end()                  { l.once.Do(func() { close(l.done) }) }

// blockingTarget is a memconn connector whose Export, when armed, says it
// started and then waits for its context to end, as a slow remote system
// would.
type blockingTarget struct {
	*memconn.Connector
	armed   bool
	started chan struct{}
}

func (b *blockingTarget) Export(ctx context.Context, changes []connector.Change) ([]connector.ExportResult, error) {
	if !b.armed {
		return b.Connector.Export(ctx, changes)
	}
	close(b.started)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(time.Minute): // a bound, so that the test fails rather than hangs
		return nil, errors.New("the export call was not cut short")
	}
}

func leaseEngine(t *testing.T, opts idbridge.Options, target connector.Connector, ad *memconn.System) (*idbridge.Engine, metaverse.Store) {
	t.Helper()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	data, err := os.ReadFile("testdata/engine-rules.yaml")
	require.NoError(t, err)
	rf, err := rules.Parse("testdata/engine-rules.yaml", data)
	require.NoError(t, err)
	eng, err := idbridge.New(context.Background(), idbridge.Config{
		Store:      store,
		Connectors: map[string]connector.Connector{"ad": ad.Connector(), "hr": memconn.New(hrSchema).Connector(), "cloud": target},
		Rules:      rf,
		Options:    opts,
	})
	require.NoError(t, err)
	return eng, store
}

func pendingStates(t *testing.T, store metaverse.Store, conn string) map[metaverse.ExportState]int {
	t.Helper()
	out := map[metaverse.ExportState]int{}
	ctx := context.Background()
	require.NoError(t, store.View(ctx, func(tx metaverse.Tx) error {
		page, err := tx.PendingExports(ctx, conn, "", 1000)
		for _, o := range page {
			out[o.Export.State]++
			assert.Zero(t, o.Export.Attempts, "a lease stop is not a failed attempt")
		}
		return err
	}))
	return out
}

func fillAD(ad *memconn.System, n int) {
	for i := range n {
		id := string(rune('a' + i))
		ad.Put(connector.Object{Anchor: connector.Anchor("g-" + id), DN: "CN=" + id + ",OU=Users,DC=contoso,DC=com", Type: "user",
			Attrs: connector.Attributes{"employeeID": s("e" + id), "givenName": s(id), "sn": s("Lee"), "mail": s(id + "@contoso.com"),
				"userAccountControl": {connector.IntValue(512)}}})
	}
}

// TestExportUnderLease: a batch is sent only when the lease outlasts the
// batch timeout; refused, nothing reaches the target and every change
// stays pending, not failed.
func TestExportUnderLease(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name     string
		expires  time.Time
		ended    bool
		exported bool
	}{
		{"held long enough", now.Add(10 * time.Second), false, true},
		{"no expiry", time.Time{}, false, true},
		{"expires within the batch timeout", now.Add(2 * time.Second), false, false},
		{"expired", now.Add(-time.Second), false, false},
		{"ended", now.Add(10 * time.Second), true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ad, cloud := memconn.New(adSchema), memconn.New(cloudSchema)
			fillAD(ad, 3)
			l := newFakeLease(tc.expires)
			if tc.ended {
				l.end()
			}
			eng, store := leaseEngine(t, idbridge.Options{Lease: l, ExportBatchTimeout: 3 * time.Second, Now: func() time.Time { return now }}, cloud.Connector(), ad)
			_, err := eng.Cycle(context.Background(), idbridge.Initial)
			if tc.exported {
				require.NoError(t, err)
				assert.Equal(t, 3, cloud.Len())
				return
			}
			require.ErrorIs(t, err, idbridge.ErrLeaseExpiring)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Zero(t, cloud.Len(), "nothing may be sent")
			assert.Equal(t, map[metaverse.ExportState]int{metaverse.ExportPending: 3}, pendingStates(t, store, "cloud"))
		})
	}
}

// TestExportCutByLeaseEnd: a lease that ends while a batch is in the
// connected system cancels the call; the batch's changes stay pending
// (their outcome is unknown: the next leader's import decides).
func TestExportCutByLeaseEnd(t *testing.T) {
	ad, cloud := memconn.New(adSchema), memconn.New(cloudSchema)
	fillAD(ad, 2)
	target := &blockingTarget{Connector: cloud.Connector(), armed: true, started: make(chan struct{})}
	l := newFakeLease(time.Now().Add(time.Hour))
	eng, store := leaseEngine(t, idbridge.Options{Lease: l}, target, ad)
	go func() {
		<-target.started
		l.end()
	}()
	_, err := eng.Cycle(context.Background(), idbridge.Initial)
	require.ErrorIs(t, err, idbridge.ErrLeaseExpiring)
	assert.Equal(t, map[metaverse.ExportState]int{metaverse.ExportPending: 2}, pendingStates(t, store, "cloud"))
}
