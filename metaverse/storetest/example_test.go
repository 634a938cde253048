package storetest_test

import (
	"context"
	"testing"

	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/metaverse/storetest"
)

// A store's conformance test: a harness that makes new, empty stores. The
// suite closes them; a persistent store would also release its files or
// schema with t.Cleanup.
func ExampleRunOptions() {
	// In a _test.go file of the store's package:
	TestConformance := func(t *testing.T) {
		h := storetest.HarnessFunc(func(ctx context.Context, t *testing.T) (metaverse.Store, error) {
			return memstore.New(), nil
		})
		storetest.RunOptions(t, h, storetest.Options{Large: !testing.Short()})
	}
	_ = TestConformance
}
