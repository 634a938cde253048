package memstore

import "github.com/idbridge/idbridge/metaverse"

// undo is one record of an Update's undo log: the state of one key before
// one write. Writing a key twice logs it twice; replaying the log
// backwards restores the state before the first write. Records are plain values (no closures) so that logging
// allocates nothing beyond the log's reused backing array.
type undo struct {
	kind  undoKind
	had   bool   // watermark, counter: whether the key existed
	space string // object: connector name
	key   string // entry or object ID, watermark connector, counter name
	entry *metaverse.Entry
	obj   *metaverse.CSObject
	wm    []byte
	n     uint64 // counter: previous value; run: previous sequence
	runs  int    // run: previous length of the history
	// prune: the whole history before PruneRuns.
	pruned []*metaverse.RunRecord
}

type undoKind uint8

const (
	undoEntry undoKind = iota + 1
	undoObject
	undoWatermark
	undoCounter
	undoRun
	undoPrune
)

// rollback replays the undo log backwards, indexes included.
func (t *tx) rollback() {
	s := t.s
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := &t.undo[i]
		switch u.kind {
		case undoEntry:
			s.setEntry(u.key, u.entry)
		case undoObject:
			s.space(u.space, true).set(u.key, u.obj)
		case undoWatermark:
			if u.had {
				s.watermarks[u.key] = u.wm
			} else {
				delete(s.watermarks, u.key)
			}
		case undoCounter:
			if u.had {
				s.counters[u.key] = u.n
			} else {
				delete(s.counters, u.key)
			}
		case undoRun:
			clear(s.runs[u.runs:])
			s.runs = s.runs[:u.runs]
			s.runSeq = u.n
		case undoPrune:
			s.runs = u.pruned
		}
	}
	t.undo = t.undo[:0]
}
