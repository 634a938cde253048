package ha

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// ErrNotStaging: Promote was asked of an engine that is not in staging
// mode.
var ErrNotStaging = errors.New("ha: the engine is not in staging mode")

// PromoteOptions tune Promote. The zero value is the default.
type PromoteOptions struct {
	// Full runs full imports and full syncs (Entra Connect's advice before
	// switching a staging server) rather than deltas.
	Full bool
	// DeletionThreshold: Promote refuses when the first export would
	// delete more than this from one connector. 0 means
	// idbridge.DefaultDeletionThreshold; negative disables the check.
	DeletionThreshold int
	// Force promotes even above the deletion threshold. The engine's own
	// deletion threshold still stops the export itself until raised.
	Force bool
	// DryRun reports without leaving staging mode.
	DryRun bool
	// Samples is how many pending exports each connector's report lists.
	// Default 20.
	Samples int
}

// WhatIf is what the first export after a promotion would do.
type WhatIf struct {
	// Runs are the confirming imports and syncs Promote ran, in order.
	Runs []*idbridge.RunResult
	// Connectors holds one report per connector, in name order.
	Connectors []ConnectorWhatIf
	// Promoted says whether the engine left staging mode.
	Promoted bool
}

// ConnectorWhatIf is what the first export would send to one connector.
type ConnectorWhatIf struct {
	Connector string
	// Counts by object type and change kind: Counts["user"][connector.Add].
	Counts                 map[string]map[connector.ChangeKind]int
	Adds, Updates, Deletes int
	// Unconfirmed counts exports already sent that no import has
	// confirmed yet (not sent again).
	Unconfirmed int
	// Samples are the first pending exports, in object ID order.
	Samples []idbridge.PendingExport
}

// Promote takes an engine in staging mode (Entra Connect's staging server,
// on a store of its own) towards active: it runs a confirming import and a
// sync on every connector, so that its connector spaces hold what the
// connected systems hold now (the active server's exports included),
// reports what its first export would do, refuses with a
// *idbridge.MassChangeError (matching idbridge.ErrDeletionThreshold)
// when a connector would lose more objects than the threshold allows
// (unless Force), and then leaves staging mode (unless DryRun). Stop the
// old active server first: two engines exporting to one system from two
// stores are not fenced against each other.
func Promote(ctx context.Context, eng *idbridge.Engine, opts PromoteOptions) (*WhatIf, error) {
	if !eng.Staging() {
		return nil, ErrNotStaging
	}
	if opts.Samples <= 0 {
		opts.Samples = 20
	}
	if opts.DeletionThreshold == 0 {
		opts.DeletionThreshold = idbridge.DefaultDeletionThreshold
	}
	w := &WhatIf{}
	step := func(r *idbridge.RunResult, err error) error {
		if r != nil {
			w.Runs = append(w.Runs, r)
		}
		return err
	}
	names := eng.Connectors()
	for _, name := range names {
		imp := eng.DeltaImport
		if opts.Full {
			imp = eng.FullImport
		}
		if err := step(imp(ctx, name)); err != nil {
			return w, fmt.Errorf("ha: promote: confirming import: %w", err)
		}
	}
	for _, name := range names {
		sync := eng.DeltaSync
		if opts.Full {
			sync = eng.FullSync
		}
		if err := step(sync(ctx, name)); err != nil {
			return w, fmt.Errorf("ha: promote: sync: %w", err)
		}
	}
	var refused error
	for _, name := range names {
		pending, err := eng.PendingExports(ctx, name, 0)
		if err != nil {
			return w, fmt.Errorf("ha: promote: pending exports of %q: %w", name, err)
		}
		cw := ConnectorWhatIf{Connector: name, Counts: map[string]map[connector.ChangeKind]int{}}
		for _, p := range pending {
			if p.State == metaverse.ExportUnconfirmed {
				cw.Unconfirmed++
				continue
			}
			typ := p.Change.Type
			if cw.Counts[typ] == nil {
				cw.Counts[typ] = map[connector.ChangeKind]int{}
			}
			cw.Counts[typ][p.Change.Kind]++
			switch p.Change.Kind {
			case connector.Add:
				cw.Adds++
			case connector.Update:
				cw.Updates++
			case connector.Delete:
				cw.Deletes++
			}
			if len(cw.Samples) < opts.Samples {
				cw.Samples = append(cw.Samples, p)
			}
		}
		w.Connectors = append(w.Connectors, cw)
		if opts.DeletionThreshold >= 0 && cw.Deletes > opts.DeletionThreshold && refused == nil {
			refused = &idbridge.MassChangeError{Connector: name, Deletes: cw.Deletes, Threshold: opts.DeletionThreshold,
				Exceeded: []idbridge.ExceededLimit{{Kind: idbridge.ChangeDelete, Count: cw.Deletes, Limit: opts.DeletionThreshold}}}
		}
	}
	if refused != nil && !opts.Force {
		return w, fmt.Errorf("ha: promote refused (Force overrides): %w", refused)
	}
	if !opts.DryRun {
		eng.SetStaging(false)
		w.Promoted = true
	}
	return w, nil
}

// Types returns the object types of the report's counts, sorted.
func (c *ConnectorWhatIf) Types() []string { return slices.Sorted(maps.Keys(c.Counts)) }
