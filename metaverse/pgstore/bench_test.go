package pgstore_test

import (
	"context"
	"testing"

	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/internal/storebench"
	"github.com/idbridge/idbridge/metaverse/pgstore"
)

// BenchmarkStore runs the shared store benchmarks against the PostgreSQL
// of IDBRIDGE_PG_DSN: go test -run '^$' -bench . ./metaverse/pgstore
func BenchmarkStore(b *testing.B) {
	storebench.Run(b, storebench.Harness{
		Open: func(b *testing.B) metaverse.Store { s, _ := open(b); return s },
		Size: func(b *testing.B, s metaverse.Store) int64 {
			st, err := s.(*pgstore.Store).Stats(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			return st.Bytes
		},
	})
}
