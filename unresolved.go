package idbridge

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// References that arrive later (reference resolution, as MIM and Entra
// Connect do it in delta sync).
//
// A reference whose target cannot be resolved when its object syncs — a
// member or a manager not yet in the connector space, not in the scope of
// any inbound rule, not projected, or with no object yet in the target
// connector space — is left out of what flows, and the object is synced
// again at the end of the run (the retry pass), when the target may have
// come later in the same run. When it is still missing then, the engine
// records a wait: the target's key (its anchor or DN in the referrer's
// connector space, or its metaverse entry in a target connector space)
// and the object to sync again. When an object arrives under that key —
// an object is projected or joined, a target object is provisioned — the
// waiting objects are made pending imports and queued for the retry pass,
// so that the reference flows in the same sync, or, when the waiting
// object belongs to another connector, in that connector's next delta
// sync. Nothing needs a full sync.
//
// Waits are kept in the store, in the same transaction as the objects
// whose sync made or used them, under reserved watermark keys (see
// waitKey): every metaverse.Store keeps them, indexed by key, with no new
// capability. A counter per connector says whether any wait exists, so
// that a sync that finds none costs one counter read per transaction. A
// wait whose referrer no longer needs it costs at most one extra sync of
// that referrer, when its key arrives.

// waitKind says what names the awaited object.
type waitKind byte

const (
	waitAnchor waitKind = 'a' // anchor in the referrer's connector space
	waitDN     waitKind = 'd' // folded DN in the referrer's connector space
	waitEntry  waitKind = 'e' // metaverse entry with no object in the connector space
)

const waitPrefix = "idbridge.refwait/"

// waitKey is the watermark key of the waits for one object: reserved
// prefix, then connector, kind and value in URL-safe base64 (any byte may
// be in an anchor; a store may keep keys as text).
func waitKey(conn string, kind waitKind, value string) string {
	b := binary.AppendUvarint(nil, uint64(len(conn)))
	b = append(b, conn...)
	b = append(b, byte(kind))
	b = append(b, value...)
	return waitPrefix + base64.RawURLEncoding.EncodeToString(b)
}

func waitCounter(conn string) string { return "idbridge.refwaits." + conn }

// encodeWaiters and decodeWaiters give the value of a wait key: the
// objects waiting, as length-prefixed connector names and IDs.
func encodeWaiters(ks []objKey) []byte {
	var b []byte
	for _, k := range ks {
		b = binary.AppendUvarint(b, uint64(len(k.conn)))
		b = append(b, k.conn...)
		b = binary.AppendUvarint(b, uint64(len(k.id)))
		b = append(b, k.id...)
	}
	return b
}

func decodeWaiters(b []byte) ([]objKey, error) {
	var out []objKey
	next := func() (string, bool) {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return "", false
		}
		s := string(b[w : w+int(n)])
		b = b[w+int(n):]
		return s, true
	}
	for len(b) > 0 {
		conn, ok1 := next()
		id, ok2 := next()
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("idbridge: malformed reference wait record")
		}
		out = append(out, objKey{conn, id})
	}
	return out, nil
}

// waiting returns the number of waits of connector conn, as the current
// transaction has it (read once per transaction, kept up to date by the
// transaction's own changes).
func (s *syncer) waiting(w *work, conn string) (uint64, error) {
	if s.waitBatch != w.batch {
		s.waitBatch, s.waitCounts = w.batch, map[string]uint64{}
	}
	if n, ok := s.waitCounts[conn]; ok {
		return n, nil
	}
	n, err := w.tx.Counter(w.ctx, waitCounter(conn))
	if err != nil {
		return 0, fatal(err)
	}
	s.waitCounts[conn] = n
	return n, nil
}

// addWaits changes connector conn's wait counter by delta, in the
// transaction and in the syncer's copy.
func (s *syncer) addWaits(w *work, conn string, delta int) error {
	n, err := s.waiting(w, conn)
	if err != nil {
		return err
	}
	n = uint64(max(int64(n)+int64(delta), 0))
	s.waitCounts[conn] = n
	return fatal(w.tx.SetCounter(w.ctx, waitCounter(conn), n))
}

// waitFor records that referrer has a reference to an object of
// connector conn named by (kind, value) that could not be resolved. Only
// a miss of the retry pass is recorded: a miss of the first pass may
// still resolve later in the run. It reaches the store with the unit of
// work.
func (s *syncer) waitFor(w *work, referrer *metaverse.CSObject, conn string, kind waitKind, value string) {
	if !s.retrying || referrer == nil || value == "" {
		return
	}
	k := objKey{referrer.Connector, referrer.ID}
	key := waitKey(conn, kind, value)
	w.onCommit(func() error {
		b, err := w.tx.Watermark(w.ctx, key)
		if err != nil {
			return fatal(err)
		}
		ks, err := decodeWaiters(b)
		if err != nil || slices.Contains(ks, k) {
			return err
		}
		if err := w.tx.SetWatermark(w.ctx, key, encodeWaiters(append(ks, k))); err != nil {
			return fatal(err)
		}
		return s.addWaits(w, conn, 1)
	})
}

// arrived is called when o has just been linked to entry: references to
// o by anchor or DN, and references from connector o.Connector to entry,
// can now be resolved. The objects waiting for them are made pending and
// queued for the retry pass; their waits are removed with the unit of
// work.
func (s *syncer) arrived(w *work, o *metaverse.CSObject, entry *metaverse.Entry) error {
	n, err := s.waiting(w, o.Connector)
	if err != nil || n == 0 {
		return err
	}
	if o.Anchor != "" {
		if err := s.wake(w, waitKey(o.Connector, waitAnchor, string(o.Anchor)), o); err != nil {
			return err
		}
	}
	if o.DN != "" {
		if err := s.wake(w, waitKey(o.Connector, waitDN, connector.FoldDN(o.DN)), o); err != nil {
			return err
		}
	}
	return s.wake(w, waitKey(o.Connector, waitEntry, entry.ID), o)
}

// wake makes the objects waiting under key pending and queues them for the
// retry pass, and removes the wait with the unit of work.
func (s *syncer) wake(w *work, key string, arrived *metaverse.CSObject) error {
	b, err := w.tx.Watermark(w.ctx, key)
	if err != nil {
		return fatal(err)
	}
	if b == nil {
		return nil
	}
	ks, err := decodeWaiters(b)
	if err != nil {
		return err
	}
	for _, k := range ks {
		if k.conn == arrived.Connector && k.id == arrived.ID {
			continue
		}
		r, err := w.object(k.conn, k.id)
		if err != nil {
			return err
		}
		if r == nil || r.Pending == metaverse.ImportDelete {
			continue
		}
		if r.Pending == metaverse.ImportNone {
			r.Pending = metaverse.ImportUpdate
			r.Changed = nil // every rule reads it again
		}
		w.putObject(r)
		if r.Connector == s.res.Connector {
			s.retryLater(r) // else: that connector's next sync
		}
	}
	conn := arrived.Connector
	w.onCommit(func() error {
		if err := w.tx.SetWatermark(w.ctx, key, nil); err != nil {
			return fatal(err)
		}
		return s.addWaits(w, conn, -len(ks))
	})
	return nil
}

// onCommit runs fn when the unit of work commits, after its objects and
// entries are written; a unit of work that fails drops it.
func (w *work) onCommit(fn func() error) { w.ops = append(w.ops, fn) }
