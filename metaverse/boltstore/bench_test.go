package boltstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/boltstore"
	"github.com/idbridge/idbridge/metaverse/internal/storebench"
)

// BenchmarkStore runs the shared store benchmarks with fsync on, as in
// production: go test -run '^$' -bench . ./metaverse/boltstore
func BenchmarkStore(b *testing.B) {
	storebench.Run(b, storebench.Harness{
		Open: func(b *testing.B) metaverse.Store { return open(b, filepath.Join(b.TempDir(), "mv.db"), nil) },
		Size: func(b *testing.B, s metaverse.Store) int64 {
			st, err := s.(*boltstore.Store).Stats(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			return st.Bytes
		},
	})
}
