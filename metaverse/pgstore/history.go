package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/idbridge/idbridge/metaverse/internal/codec"
)

// PruneRuns implements metaverse.RunPruner.
func (t *tx) PruneRuns(ctx context.Context, keep int, olderThan time.Time) (int, error) {
	if err := t.checkWrite(ctx); err != nil {
		return 0, err
	}
	var n int64
	if keep >= 0 {
		var err error
		n, err = t.exec(ctx, "pruning runs", `DELETE FROM runs WHERE seq <= (SELECT seq FROM runs ORDER BY seq DESC OFFSET $1 LIMIT 1)`, keep)
		if err != nil {
			return 0, err
		}
	}
	if olderThan.IsZero() {
		return int(n), nil
	}
	// The oldest records, a few at a time, while they started before
	// olderThan.
	const chunk = 16
	for {
		rows, err := t.query(ctx, "pruning runs", `SELECT seq, data FROM runs ORDER BY seq LIMIT $1`, chunk)
		if err != nil {
			return 0, err
		}
		var last int64 = -1
		seen, stop := 0, false
		for rows.Next() {
			var seq int64
			var data []byte
			if err := rows.Scan(&seq, &data); err != nil {
				rows.Close()
				return 0, t.fail("pruning runs", err)
			}
			seen++
			if stop {
				continue
			}
			r, err := codec.DecodeRun(data)
			if err != nil {
				rows.Close()
				return 0, fmt.Errorf("pgstore: pruning runs: run %d: %w", seq, err)
			}
			if !r.Started.Before(olderThan) {
				stop = true
				continue
			}
			last = seq
		}
		if err := rows.Err(); err != nil {
			return 0, t.fail("pruning runs", err)
		}
		if last < 0 {
			return int(n), nil
		}
		m, err := t.exec(ctx, "pruning runs", `DELETE FROM runs WHERE seq <= $1`, last)
		if err != nil {
			return 0, err
		}
		n += m
		if stop || seen < chunk {
			return int(n), nil
		}
	}
}
