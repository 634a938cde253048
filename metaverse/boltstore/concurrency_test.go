package boltstore_test

import (
	"context"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/internal/smoke"
)

func TestConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "mv.db"), nil)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 20 {
				assert.NoError(t, s.Update(ctx, func(tx metaverse.Tx) error {
					v, err := tx.Counter(ctx, "n")
					if err != nil {
						return err
					}
					return tx.SetCounter(ctx, "n", v+1)
				}))
			}
		}()
		go func() {
			defer wg.Done()
			for range 20 {
				assert.NoError(t, s.View(ctx, func(tx metaverse.Tx) error {
					_, err := tx.Counter(ctx, "n")
					return err
				}))
			}
		}()
	}
	wg.Wait()
	require.NoError(t, s.View(ctx, func(tx metaverse.Tx) error {
		v, err := tx.Counter(ctx, "n")
		assert.Equal(t, uint64(80), v, "serializable writers lose no increment")
		return err
	}))
}

// TestCloseDuringTransaction: Close waits for a running transaction, whose
// next call fails with ErrClosed.
func TestCloseDuringTransaction(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "mv.db"), nil)
	smoke.Fill(t, s, 2)
	closed := make(chan error, 1)
	var txErr error
	err := s.View(ctx, func(tx metaverse.Tx) error {
		go func() { closed <- s.Close() }()
		for {
			if _, txErr = tx.Entry(ctx, "e-a0"); txErr != nil {
				return txErr
			}
			runtime.Gosched()
		}
	})
	assert.ErrorIs(t, err, metaverse.ErrClosed)
	assert.ErrorIs(t, txErr, metaverse.ErrClosed)
	require.NoError(t, <-closed)
	assert.ErrorIs(t, s.Update(ctx, func(metaverse.Tx) error { return nil }), metaverse.ErrClosed)
}
