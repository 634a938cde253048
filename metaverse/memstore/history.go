package memstore

import (
	"context"
	"slices"
	"time"
)

// PruneRuns implements metaverse.RunPruner.
func (t *tx) PruneRuns(ctx context.Context, keep int, olderThan time.Time) (int, error) {
	if err := t.checkWrite(ctx); err != nil {
		return 0, err
	}
	s := t.s
	drop := 0 // the oldest records beyond keep
	if keep >= 0 && len(s.runs) > keep {
		drop = len(s.runs) - keep
	}
	for !olderThan.IsZero() && drop < len(s.runs) && s.runs[drop].Started.Before(olderThan) {
		drop++
	}
	if drop == 0 {
		return 0, nil
	}
	// The undo log keeps the whole history as it was: the rest goes to a
	// new array.
	t.undo = append(t.undo, undo{kind: undoPrune, pruned: s.runs})
	s.runs = slices.Clone(s.runs[drop:])
	return drop, nil
}
