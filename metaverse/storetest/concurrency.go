package storetest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// retryUpdate runs Update, again while it fails with ErrConflict (which
// the contract allows for concurrent writers, and says may be retried).
func retryUpdate(ctx context.Context, st metaverse.Store, fn func(tx metaverse.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := st.Update(ctx, fn)
		if !errors.Is(err, metaverse.ErrConflict) || attempt >= 100 {
			return err
		}
		time.Sleep(time.Duration(attempt) * time.Millisecond)
	}
}

// concurrency checks that Updates are serializable (concurrent
// read-modify-write loses nothing) and that Views running during Updates
// see committed states only, never part of a transaction. Run it with
// -race.
func (s *suite) concurrency(t *testing.T) {
	ctx := context.Background()
	n, m := s.opts.Goroutines, s.opts.Updates

	t.Run("Counter", func(t *testing.T) {
		st := s.newStore(t)
		var wg sync.WaitGroup
		errs := make(chan error, n*m)
		for g := 0; g < n; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < m; i++ {
					errs <- retryUpdate(ctx, st, func(tx metaverse.Tx) error {
						v, err := tx.Counter(ctx, "counter")
						if err != nil {
							return err
						}
						runtime.Gosched() // invite another writer in between
						return tx.SetCounter(ctx, "counter", v+1)
					})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		var got uint64
		view(t, st, func(tx metaverse.Tx) error {
			var err error
			got, err = tx.Counter(ctx, "counter")
			return err
		})
		assert.Equal(t, uint64(n*m), got, "increments were lost: Update is not serializable")
	})

	t.Run("ReadModifyWriteEntries", func(t *testing.T) {
		// The same with an entry attribute and an object: writers append
		// to a multi-valued attribute and move an anchor.
		st := s.newStore(t)
		require.NoError(t, st.Index(ctx, "member"))
		put(t, st, &metaverse.Entry{ID: "group", Type: "group"})
		var wg sync.WaitGroup
		errs := make(chan error, n*m)
		for g := 0; g < n; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < m; i++ {
					member := connector.RefValue(connector.Anchor(fmt.Sprintf("m-%d-%d", g, i)), "")
					errs <- retryUpdate(ctx, st, func(tx metaverse.Tx) error {
						e, err := tx.Entry(ctx, "group")
						if err != nil {
							return err
						}
						e.Attrs = e.Attrs.Clone()
						if e.Attrs == nil {
							e.Attrs = connector.Attributes{}
						}
						e.Attrs["member"] = append(e.Attrs["member"], member)
						return tx.PutEntry(ctx, e)
					})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		e := getEntry(t, st, "group")
		require.NotNil(t, e)
		assert.Len(t, e.Attrs["member"], n*m, "members were lost")
		assert.Equal(t, []string{"group"}, find(t, st, "group", "member", connector.RefValue("m-0-0", "")))
		assert.Equal(t, []string{"group"}, find(t, st, "", "member", connector.RefValue(connector.Anchor(fmt.Sprintf("m-%d-%d", n-1, m-1)), "")))
	})

	t.Run("ViewsDuringUpdates", func(t *testing.T) {
		// Writers keep invariants in each transaction (two counters equal;
		// as many entries as the counter says; every object's anchor found);
		// readers check them in Views running meanwhile.
		st := s.newStore(t)
		require.NoError(t, st.Index(ctx, "mail"))
		stop := make(chan struct{})
		var writers, readers sync.WaitGroup
		errs := make(chan error, 4*n+4)
		writers.Add(n)
		for g := 0; g < n; g++ {
			go func() {
				defer writers.Done()
				for i := 0; i < m; i++ {
					err := retryUpdate(ctx, st, func(tx metaverse.Tx) error {
						a, err := tx.Counter(ctx, "a")
						if err != nil {
							return err
						}
						id := fmt.Sprintf("e-%d-%03d", g, i)
						if err := tx.SetCounter(ctx, "a", a+1); err != nil {
							return err
						}
						if err := tx.PutEntry(ctx, person(id, "shared@example.com")); err != nil {
							return err
						}
						o := object("ad", id, "anchor-"+id, "CN="+id)
						o.Pending = metaverse.ImportAdd
						if err := tx.PutObject(ctx, o); err != nil {
							return err
						}
						runtime.Gosched()
						return tx.SetCounter(ctx, "b", a+1)
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		readers.Add(n)
		for r := 0; r < n; r++ {
			go func() {
				defer readers.Done()
				for views := 0; ; views++ {
					select {
					case <-stop:
						if views > 0 {
							return
						}
					default:
					}
					err := st.View(ctx, func(tx metaverse.Tx) error {
						a, err := tx.Counter(ctx, "a")
						if err != nil {
							return err
						}
						b, err := tx.Counter(ctx, "b")
						if err != nil {
							return err
						}
						if a != b {
							return fmt.Errorf("a View saw counters %d and %d: part of a transaction", a, b)
						}
						es, err := tx.Entries(ctx, "", 0)
						if err != nil {
							return err
						}
						ids, err := tx.FindEntries(ctx, "person", "mail", connector.StringValue("shared@example.com"))
						if err != nil {
							return err
						}
						os, err := tx.PendingImports(ctx, "ad", "", 0)
						if err != nil {
							return err
						}
						if uint64(len(es)) != a || uint64(len(ids)) != a || uint64(len(os)) != a {
							return fmt.Errorf("a View saw counter %d, %d entries, %d found, %d pending imports", a, len(es), len(ids), len(os))
						}
						for _, o := range os {
							got, err := tx.ObjectByAnchor(ctx, "ad", o.Anchor)
							if err != nil {
								return fmt.Errorf("anchor of listed object %s: %w", o.ID, err)
							}
							if got.ID != o.ID {
								return fmt.Errorf("anchor %s leads to %s, not %s", o.Anchor, got.ID, o.ID)
							}
						}
						return nil
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		writers.Wait()
		close(stop)
		readers.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		var es []*metaverse.Entry
		view(t, st, func(tx metaverse.Tx) error {
			var err error
			es, err = tx.Entries(ctx, "", 0)
			return err
		})
		assert.Len(t, es, n*m)
	})

	t.Run("Index", func(t *testing.T) {
		// Index declared while Updates run: afterwards every entry is
		// found, whether written before, during or after.
		st := s.newStore(t)
		var wg sync.WaitGroup
		errs := make(chan error, n+1)
		for g := 0; g < n; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < m; i++ {
					id := fmt.Sprintf("e-%d-%03d", g, i)
					if err := retryUpdate(ctx, st, func(tx metaverse.Tx) error { return tx.PutEntry(ctx, person(id, "x")) }); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.Gosched()
			errs <- st.Index(ctx, "mail")
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		assert.Len(t, find(t, st, "person", "mail", connector.StringValue("x")), n*m)
	})
}

// closed checks that a closed store refuses everything with ErrClosed, that
// Close can be called twice, and that Close during a transaction neither
// deadlocks nor corrupts it.
func (s *suite) closed(t *testing.T) {
	ctx := context.Background()

	t.Run("AfterClose", func(t *testing.T) {
		st := s.newStore(t)
		baseline(t, st)
		require.NoError(t, st.Close())
		called := false
		fn := func(metaverse.Tx) error { called = true; return nil }
		assert.ErrorIs(t, st.View(ctx, fn), metaverse.ErrClosed, "View")
		assert.ErrorIs(t, st.Update(ctx, fn), metaverse.ErrClosed, "Update")
		assert.False(t, called, "fn ran on a closed store")
		assert.ErrorIs(t, st.Index(ctx, "mail"), metaverse.ErrClosed, "Index")
		assert.NoError(t, st.Close(), "second Close")
	})

	t.Run("DuringTransaction", func(t *testing.T) {
		// Close while a transaction runs in another goroutine: the
		// transaction either completes or fails with ErrClosed, Close
		// returns, and the store is closed afterwards.
		for _, write := range []bool{false, true} {
			name := map[bool]string{false: "View", true: "Update"}[write]
			t.Run(name, func(t *testing.T) {
				st := s.newStore(t)
				baseline(t, st)
				started, release := make(chan struct{}), make(chan struct{})
				txErr := make(chan error, 1)
				go func() {
					fn := func(tx metaverse.Tx) error {
						close(started)
						<-release
						_, err := tx.Entry(ctx, "e1")
						if err != nil {
							return err
						}
						if write {
							return tx.SetCounter(ctx, "c1", 6)
						}
						return nil
					}
					if write {
						txErr <- st.Update(ctx, fn)
					} else {
						txErr <- st.View(ctx, fn)
					}
				}()
				<-started
				closeErr := make(chan error, 1)
				go closeStore(st, closeErr)
				waitClosing(t, closeErr)
				close(release)
				select {
				case err := <-txErr:
					if err != nil {
						assert.ErrorIs(t, err, metaverse.ErrClosed, "%s during Close", name)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("%s does not return when Close is called during it", name)
				}
				select {
				case err := <-closeErr:
					assert.NoError(t, err)
				case <-time.After(10 * time.Second):
					t.Fatal("Close does not return while a transaction ends")
				}
				assert.ErrorIs(t, st.View(ctx, func(metaverse.Tx) error { return nil }), metaverse.ErrClosed)
			})
		}
	})
}

// closeStore calls Close; waitClosing finds it by name in the goroutine
// dump.
func closeStore(st metaverse.Store, done chan<- error) { done <- st.Close() }

// waitClosing waits until the goroutine running closeStore is blocked
// inside Close (its stack shows it waiting, not running), or until Close
// returned without blocking, in which case the error is put back.
func waitClosing(t *testing.T, closeErr chan error) {
	t.Helper()
	const marker = "storetest.closeStore("
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 1<<20)
	for time.Now().Before(deadline) {
		select {
		case err := <-closeErr:
			closeErr <- err
			return
		default:
		}
		n := runtime.Stack(buf, true)
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			header, _, _ := strings.Cut(g, "\n")
			if strings.Contains(g, marker) && !strings.Contains(header, "[running]") && !strings.Contains(header, "[runnable]") {
				return
			}
		}
		runtime.Gosched()
	}
	t.Fatal("Close neither blocked nor returned within 10s")
}
