package metaverse

import (
	"context"
	"sync"
)

// ExportLocker is implemented by stores that serialise the exports of one
// connector across every engine that shares the store, so that two engines
// never send the same pending export twice. The engine takes the lock
// around each export run, after its own run lock, and reads the pending
// exports only once it holds it.
//
// pgstore implements it with a PostgreSQL session-level advisory lock
// keyed by schema and connector, held on a connection of its own for the
// run (a process that dies loses it with its session); memstore and
// boltstore, which one process alone can open, with an in-process lock
// (LocalExportLocks). Without it, the engine relies on its own run lock,
// which serialises the runs of one Engine only.
type ExportLocker interface {
	// LockExport waits until the caller holds the export lock of the
	// connector or ctx ends, and returns the function that releases it.
	// unlock may be called once; it never fails (a lock it cannot release
	// is released by ending its session).
	LockExport(ctx context.Context, connectorName string) (unlock func(), err error)
}

// LocalExportLocks is an in-process ExportLocker: one lock per connector
// name, waited for with a context. The zero value is ready to use; it must
// not be copied after first use. Stores that only one process can open
// embed it.
type LocalExportLocks struct {
	mu    sync.Mutex
	locks map[string]chan struct{}
}

var _ ExportLocker = (*LocalExportLocks)(nil)

// LockExport implements ExportLocker.
func (l *LocalExportLocks) LockExport(ctx context.Context, connectorName string) (func(), error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]chan struct{}{}
	}
	ch, ok := l.locks[connectorName]
	if !ok {
		ch = make(chan struct{}, 1)
		l.locks[connectorName] = ch
	}
	l.mu.Unlock()
	select {
	case ch <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() { once.Do(func() { <-ch }) }, nil
}
