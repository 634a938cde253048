package admin

import (
	"context"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/metaverse"
)

// Source is what the admin pages read: an *idbridge.Engine satisfies it.
// The handler only reads the store (Store().View); it never writes it.
// A Source must be safe for concurrent use: the handler calls it from the
// goroutines of concurrent requests.
type Source interface {
	// Connectors lists the connector names, in the engine's order.
	Connectors() []string
	// Store returns the store the pages read with View.
	Store() metaverse.Store
	// PendingExports lists up to limit pending exports of a connector
	// (0: no limit), in object ID order.
	PendingExports(ctx context.Context, connectorName string, limit int) ([]idbridge.PendingExport, error)
	// History returns a page of the run history, newest first.
	History(ctx context.Context, q idbridge.HistoryQuery) (*idbridge.HistoryPage, error)
	// ObjectErrors returns a page of the objects in error now.
	ObjectErrors(ctx context.Context, q idbridge.ErrorQuery) (*idbridge.ErrorPage, error)
	// Quarantines lists the connectors in quarantine.
	Quarantines() []idbridge.Quarantine
}

// Cycler is the capability behind the "run a cycle" action. When the
// Source does not have it, the action is not offered.
type Cycler interface {
	Cycle(ctx context.Context, mode idbridge.CycleMode) (*idbridge.CycleResult, error)
}

// ExportRetrier is the capability behind the "retry exports" action
// (parked and failed exports sent again). When the Source does not have
// it, the action is not offered.
type ExportRetrier interface {
	RetryExports(ctx context.Context, connectorName string, ids ...string) (int, error)
}

// QuarantineClearer is the capability behind the "clear quarantine"
// action. When the Source does not have it, the action is not offered.
type QuarantineClearer interface {
	ClearQuarantine(ctx context.Context, connectorName string) error
}

// The engine has every capability the pages use.
var (
	_ Source            = (*idbridge.Engine)(nil)
	_ Cycler            = (*idbridge.Engine)(nil)
	_ ExportRetrier     = (*idbridge.Engine)(nil)
	_ QuarantineClearer = (*idbridge.Engine)(nil)
)
