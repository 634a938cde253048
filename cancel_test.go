package idbridge_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
)

// cancellingStore cancels a context after the function of its n-th Update
// (counted from arm) has run, before the store commits: the transaction
// rolls back as when a run is cancelled mid-batch.
type cancellingStore struct {
	metaverse.Store
	updates atomic.Int64
	at      int64
	cancel  context.CancelFunc
}

func (s *cancellingStore) arm(at int64, cancel context.CancelFunc) {
	s.updates.Store(0)
	s.at, s.cancel = at, cancel
}

func (s *cancellingStore) Update(ctx context.Context, fn func(tx metaverse.Tx) error) error {
	n := s.updates.Add(1)
	return s.Store.Update(ctx, func(tx metaverse.Tx) error {
		err := fn(tx)
		if n == s.at && s.cancel != nil {
			s.cancel()
		}
		return err
	})
}

// TestCancelledSyncCountsCommitted: a sync cancelled in its second batch
// reports the projections of the first, which committed, and not those of
// the second, which rolled back (it reported both).
func TestCancelledSyncCountsCommitted(t *testing.T) {
	ctx := context.Background()
	st := &cancellingStore{Store: memstore.New()}
	ad := memconn.New(joinADSchema)
	for i := range 25 {
		ad.Put(connector.Object{Anchor: connector.Anchor(fmt.Sprint("a", i)), DN: fmt.Sprint("cn=u", i), Type: "user",
			Attrs: connector.Attributes{"employeeID": s(fmt.Sprint("E", i))}})
	}
	eng, err := idbridge.New(ctx, idbridge.Config{Store: st, Connectors: map[string]connector.Connector{"ad": ad.Connector(), "hr": memconn.New(joinHRSchema).Connector()},
		Rules: joinRules(t, `[{source: source.employeeNumber, target: employeeID}]`), Options: idbridge.Options{BatchSize: 10}})
	require.NoError(t, err)
	_, err = eng.FullImport(ctx, "ad")
	require.NoError(t, err)

	syncCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	st.arm(2, cancel)
	res, err := eng.FullSync(syncCtx, "ad")
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, res)
	committed := len(allEntries(t, st))
	assert.Equal(t, 10, committed, "the first batch committed")
	assert.Equal(t, committed, res.Projections, "the result counts what committed")

	// The next sync takes up the rest.
	st.arm(0, nil)
	res, err = eng.DeltaSync(ctx, "ad")
	require.NoError(t, err)
	assert.Equal(t, 15, res.Projections)
	assert.Len(t, allEntries(t, st), 25)
}
