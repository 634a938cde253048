package idbridge_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/internal/testenv"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/boltstore"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/metaverse/pgstore"
)

// benchStores are the stores the engine benchmarks (and the tests that
// need every store) run on, as sub-benchmarks: store=mem, store=bolt (a
// bbolt file in b.TempDir(), fsync on) and store=pg (a fresh schema in the
// PostgreSQL of IDBRIDGE_PG_DSN, skipped without it).
var benchStores = []struct {
	name string
	open func(b testing.TB) metaverse.Store
}{
	{"mem", func(testing.TB) metaverse.Store { return memstore.New() }},
	{"bolt", func(b testing.TB) metaverse.Store {
		s, err := boltstore.Open(filepath.Join(b.TempDir(), "mv.db"), nil)
		require.NoError(b, err)
		b.Cleanup(func() { s.Close() })
		return s
	}},
	{"pg", func(b testing.TB) metaverse.Store {
		dsn := testenv.Get(b, "IDBRIDGE_PG_DSN", "PostgreSQL")
		schema := benchSchema(b, dsn)
		s, err := pgstore.Open(context.Background(), dsn, &pgstore.Options{Schema: schema, ApplicationName: schema})
		require.NoError(b, err)
		b.Cleanup(func() { s.Close() })
		return s
	}},
}

// benchSchema returns a fresh schema name, dropped when b ends.
func benchSchema(b testing.TB, dsn string) string {
	return testenv.PGSchema(b, dsn, "bench_")
}

// benchSizes returns the directory sizes a benchmark runs at: the million
// only with IDBRIDGE_BENCH_1M=1, so that the default `go test -bench` stays
// short.
func benchSizes(sizes ...int) []int {
	if os.Getenv("IDBRIDGE_BENCH_1M") == "1" {
		return append(sizes, 1_000_000)
	}
	return sizes
}

// memPeak samples the Go runtime's mapped, unreleased memory (close to the
// process's RSS, without the C and binary parts) every 10 ms until stop,
// which returns the peak in bytes.
func memPeak() (stop func() uint64) {
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	read := func() uint64 {
		metrics.Read(samples)
		return samples[0].Value.Uint64() - samples[1].Value.Uint64()
	}
	var (
		mu   sync.Mutex
		peak = read()
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				v := read()
				mu.Lock()
				peak = max(peak, v)
				mu.Unlock()
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return max(peak, read())
	}
}
