package boltstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/idbridge/idbridge/metaverse/internal/codec"
)

// PruneRuns implements metaverse.RunPruner. The count bound walks the keys
// of the newest keep records (no decoding); the age bound decodes the
// oldest records until one is young enough.
func (t *tx) PruneRuns(ctx context.Context, keep int, olderThan time.Time) (int, error) {
	if err := t.checkWrite(ctx); err != nil {
		return 0, err
	}
	b := t.bucket(bRuns)
	// cut is the key of the oldest record kept; nil: none is kept.
	var cut []byte
	c := b.Cursor()
	if keep < 0 {
		cut, _ = c.First()
	} else if keep > 0 {
		k, _ := c.Last()
		for i := 1; i < keep && k != nil; i++ {
			k, _ = c.Prev()
		}
		if k == nil {
			k, _ = c.First() // fewer than keep records
		}
		cut = k
	}
	if cut != nil && !olderThan.IsZero() {
		for k, v := c.Seek(cut); k != nil; k, v = c.Next() {
			r, err := codec.DecodeRun(v)
			if err != nil {
				return 0, corrupt("run", fmt.Sprint(binary.BigEndian.Uint64(k)), err)
			}
			cut = k
			if !r.Started.Before(olderThan) {
				break
			}
			cut = nil // all so far are old; the next one decides
		}
	}
	cut = append([]byte(nil), cut...) // the cursor's key is the page's
	// Delete everything before cut (everything when cut is empty).
	n := 0
	for k, _ := c.First(); k != nil && (len(cut) == 0 || string(k) < string(cut)); k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
