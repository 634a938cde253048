package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/internal/testenv"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/pgstore"
)

func waiters(t *testing.T, dsn, app string) int {
	t.Helper()
	n, err := testenv.PGLockWaiters(context.Background(), dsn, app)
	require.NoError(t, err)
	return n
}

// Two Stores on one schema stand for two processes: each has its own
// sessions, and the export lock of a connector is held by one at a time.
func TestLockExportAcrossStores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn, schema := newSchema(t)
	a, err := pgstore.Open(ctx, dsn, &pgstore.Options{Schema: schema, ApplicationName: schema + "_a"})
	require.NoError(t, err)
	defer a.Close()
	b, err := pgstore.Open(ctx, dsn, &pgstore.Options{Schema: schema, ApplicationName: schema + "_b"})
	require.NoError(t, err)
	defer b.Close()

	unlockA, err := a.LockExport(ctx, "cloud")
	require.NoError(t, err)

	// Another connector's lock is free.
	unlockOther, err := b.LockExport(ctx, "ad")
	require.NoError(t, err)
	unlockOther()

	// A store on another schema has locks of its own.
	dsn2, schema2 := newSchema(t)
	c, err := pgstore.Open(ctx, dsn2, &pgstore.Options{Schema: schema2})
	require.NoError(t, err)
	defer c.Close()
	unlockC, err := c.LockExport(ctx, "cloud")
	require.NoError(t, err)
	unlockC()

	// A wait ends with its context.
	cctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := b.LockExport(cctx, "cloud")
		errc <- err
	}()
	require.Eventually(t, func() bool { return waiters(t, dsn, schema+"_b") == 1 }, 10*time.Second, 10*time.Millisecond)
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)

	// B waits for A's lock and gets it when A releases it.
	got := make(chan func(), 1)
	go func() {
		unlock, err := b.LockExport(ctx, "cloud")
		assert.NoError(t, err)
		got <- unlock
	}()
	require.Eventually(t, func() bool { return waiters(t, dsn, schema+"_b") == 1 }, 10*time.Second, 10*time.Millisecond)
	select {
	case <-got:
		t.Fatal("B took the export lock while A held it")
	default:
	}
	unlockA()
	unlockA() // a second call does nothing
	unlockB := <-got
	require.NotNil(t, unlockB)
	unlockB()

	// Released: A takes it again at once.
	unlockA, err = a.LockExport(ctx, "cloud")
	require.NoError(t, err)
	unlockA()
}

// The lock's connection is not one of the pool's: a store with a pool of
// one connection still runs transactions while it holds the lock.
func TestLockExportLeavesThePool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn, schema := newSchema(t)
	s, err := pgstore.Open(ctx, dsn, &pgstore.Options{Schema: schema, MaxConns: 1})
	require.NoError(t, err)
	defer s.Close()
	unlock, err := s.LockExport(ctx, "cloud")
	require.NoError(t, err)
	defer unlock()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, s.Update(tctx, func(tx metaverse.Tx) error { return tx.SetCounter(tctx, "n", 1) }))
}
