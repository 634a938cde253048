package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/metaverse"
)

// exportLocker tests the optional metaverse.ExportLocker: one holder per
// connector, a wait that ends with its context, release by unlock.
func (s *suite) exportLocker(t *testing.T) {
	st := s.newStore(t)
	l, ok := st.(metaverse.ExportLocker)
	if !ok {
		t.Skipf("%T is not a metaverse.ExportLocker", st)
	}
	ctx := context.Background()
	unlock, err := l.LockExport(ctx, "cloud")
	require.NoError(t, err)

	other, err := l.LockExport(ctx, "ad")
	require.NoError(t, err, "another connector's lock is free")
	other()

	// Held: a wait can only end with its context.
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = l.LockExport(wctx, "cloud")
	require.ErrorIs(t, err, context.DeadlineExceeded)

	got := make(chan func(), 1)
	go func() {
		u, err := l.LockExport(ctx, "cloud")
		assert.NoError(t, err)
		got <- u
	}()
	unlock()
	unlock() // a second call does nothing
	u := <-got
	require.NotNil(t, u)
	u()
}
