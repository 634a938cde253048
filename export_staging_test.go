package idbridge_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
)

// blockingImport is a connector whose Import tells started and then waits
// for release: the run that calls it holds the engine until then.
type blockingImport struct {
	connector.Connector
	started chan struct{}
	release chan struct{}
}

func (b *blockingImport) Import(ctx context.Context, sink connector.ImportSink) error {
	close(b.started)
	<-b.release
	return b.Connector.Import(ctx, sink)
}

// goroutineIn reports whether a goroutine running fn is inside the
// function inner (it has passed everything fn does before calling it).
func goroutineIn(fn, inner string) bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte(fn)) && bytes.Contains(g, []byte(inner)) {
			return true
		}
	}
	return false
}

// addUsers puts n AD users with employee IDs E0..E(n-1).
func (f *fixture) addUsers(n int) {
	for i := range n {
		f.adUser(fmt.Sprintf("g%d", i), fmt.Sprintf("E%d", i), fmt.Sprintf("User%d", i), "Person", 512, nil)
	}
}

// An export queued behind another run checks staging mode when it starts,
// not when it was called.
func TestStagingSwitchedOnWhileExportWaits(t *testing.T) {
	hr := &blockingImport{started: make(chan struct{}), release: make(chan struct{})}
	f := newFixtureWith(t, idbridge.Options{}, fixtureSetup{wrap: func(name string, c connector.Connector) connector.Connector {
		if name == "hr" {
			hr.Connector = c
			return hr
		}
		return c
	}})
	f.addUsers(20)
	_, err := f.eng.FullImport(f.ctx, "ad")
	require.NoError(t, err)
	_, err = f.eng.FullSync(f.ctx, "ad")
	require.NoError(t, err)

	imported := make(chan error, 1)
	go func() {
		_, err := f.eng.FullImport(f.ctx, "hr")
		imported <- err
	}()
	<-hr.started // the import holds the engine
	exported := make(chan error, 1)
	go func() {
		_, err := f.eng.Export(f.ctx, "cloud")
		exported <- err
	}()
	require.Eventually(t, func() bool { return goroutineIn("(*Engine).Export", "(*Engine).begin") }, 10*time.Second, time.Millisecond)
	f.eng.SetStaging(true)
	close(hr.release)
	require.NoError(t, <-imported)
	require.ErrorIs(t, <-exported, idbridge.ErrStagingMode)
	assert.Zero(t, f.cloud.Len(), "nothing exported after SetStaging(true)")
}

// Staging mode switched on during an export stops it before its next
// batch.
func TestStagingSwitchedOnDuringExport(t *testing.T) {
	f := newFixture(t, idbridge.Options{ExportBatchSize: 5})
	f.addUsers(20)
	_, err := f.eng.FullImport(f.ctx, "ad")
	require.NoError(t, err)
	_, err = f.eng.FullSync(f.ctx, "ad")
	require.NoError(t, err)
	f.cloud.FailExport = func(connector.Change) error {
		f.eng.SetStaging(true) // during the first batch
		return nil
	}
	res, err := f.eng.Export(f.ctx, "cloud")
	require.ErrorIs(t, err, idbridge.ErrStagingMode)
	require.NotNil(t, res)
	assert.Equal(t, 5, res.Exported, "the batch in flight is recorded")
	assert.Equal(t, 5, f.cloud.Len(), "no batch is sent after SetStaging(true)")

	f.eng.SetStaging(false)
	f.cloud.FailExport = nil
	res, err = f.eng.Export(f.ctx, "cloud")
	require.NoError(t, err)
	assert.Equal(t, 15, res.Exported)
}
