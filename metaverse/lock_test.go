package metaverse_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/metaverse"
)

func TestLocalExportLocks(t *testing.T) {
	ctx := context.Background()
	var l metaverse.LocalExportLocks
	unlock, err := l.LockExport(ctx, "cloud")
	require.NoError(t, err)

	other, err := l.LockExport(ctx, "ad")
	require.NoError(t, err, "another connector's lock is free")
	other()

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = l.LockExport(cctx, "cloud")
	require.ErrorIs(t, err, context.Canceled, "a held lock is waited for until the context ends")

	got := make(chan func())
	go func() {
		u, err := l.LockExport(ctx, "cloud")
		assert.NoError(t, err)
		got <- u
	}()
	unlock()
	unlock() // a second call does nothing
	(<-got)()
}
