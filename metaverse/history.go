package metaverse

import (
	"context"
	"time"
)

// RunPruner is implemented by transactions of stores that can delete old
// run history (all stores of this module): the engine calls it each time it
// records a run, to enforce its retention bound. With a store without it,
// the run history grows without bound.
type RunPruner interface {
	// PruneRuns deletes the oldest run records ("oldest" in the order of
	// AddRun calls, as Runs lists them) while there are more than keep
	// (keep < 0: no bound by count) or while the oldest started before
	// olderThan (zero: no bound by age), and returns how many it deleted.
	// A record is kept when a record added before it is kept, whatever its
	// start: the age bound costs a look at the oldest records only.
	PruneRuns(ctx context.Context, keep int, olderThan time.Time) (int, error)
}
