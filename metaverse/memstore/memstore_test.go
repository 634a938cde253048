package memstore_test

import (
	"context"
	"testing"

	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/metaverse/storetest"
)

func TestConformance(t *testing.T) {
	storetest.RunOptions(t, storetest.HarnessFunc(func(context.Context, *testing.T) (metaverse.Store, error) {
		return memstore.New(), nil
	}), storetest.Options{Large: !testing.Short()})
}
