package pgstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/pgstore"
)

func setCounter(ctx context.Context, s metaverse.Store, name string, v uint64) error {
	return s.Update(ctx, func(tx metaverse.Tx) error { return tx.SetCounter(ctx, name, v) })
}

func counter(t *testing.T, s metaverse.Store, name string) uint64 {
	t.Helper()
	var v uint64
	require.NoError(t, s.View(context.Background(), func(tx metaverse.Tx) error {
		var err error
		v, err = tx.Counter(context.Background(), name)
		return err
	}))
	return v
}

func TestFencedTerms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := open(t)
	steps := []struct {
		key    string
		term   uint64
		fenced bool
	}{
		{"engine-a", 5, false},
		{"engine-a", 5, false},
		{"engine-a", 7, false},
		{"engine-a", 6, true}, // deposed
		{"engine-a", 5, true},
		{"engine-b", 1, false}, // keys are independent
		{"engine-a", 7, false},
		{"engine-a", 8, false},
		{"engine-a", 7, true},
	}
	for i, st := range steps {
		err := setCounter(ctx, s.Fenced(st.key, st.term), fmt.Sprintf("c%d", i), 1)
		if st.fenced {
			require.ErrorIs(t, err, metaverse.ErrFenced, "step %d", i)
			assert.NotErrorIs(t, err, metaverse.ErrConflict)
			assert.Zero(t, counter(t, s, fmt.Sprintf("c%d", i)), "step %d: a fenced write was committed", i)
		} else {
			require.NoError(t, err, "step %d", i)
			assert.Equal(t, uint64(1), counter(t, s, fmt.Sprintf("c%d", i)))
		}
	}
}

// TestFencedLateCommit: a transaction of term 1 that began before term 2's
// first commit, and commits after it, fails with ErrFenced and leaves
// nothing behind.
func TestFencedLateCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := open(t)
	old, cur := s.Fenced("k", 1), s.Fenced("k", 2)
	require.NoError(t, setCounter(ctx, old, "warm", 1))

	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		first := true
		done <- old.Update(ctx, func(tx metaverse.Tx) error {
			if err := tx.SetCounter(ctx, "late", 1); err != nil {
				return err
			}
			if first {
				first = false
				close(inside)
				<-release
			}
			return nil
		})
	}()
	<-inside
	require.NoError(t, setCounter(ctx, cur, "new", 2))
	close(release)
	err := <-done
	require.ErrorIs(t, err, metaverse.ErrFenced)
	assert.Zero(t, counter(t, s, "late"))
	assert.Equal(t, uint64(2), counter(t, s, "new"))
	// Reads are not fenced.
	assert.Equal(t, uint64(2), counter(t, old, "new"))
}

// TestFencedSameTermConcurrent: writers of one term do not fence each other.
func TestFencedSameTermConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := open(t)
	f := s.Fenced("k", 3)
	var wg sync.WaitGroup
	errs := make(chan error, 6*15)
	for w := range 6 {
		wg.Go(func() {
			for i := range 15 {
				errs <- setCounter(ctx, f, fmt.Sprintf("w%d-%d", w, i), 1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())
	require.NoError(t, setCounter(ctx, s, "base still open", 1))
}

var _ metaverse.Fencer = (*pgstore.Store)(nil)
