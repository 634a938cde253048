package idbridge

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/rules"
)

// FullSync evaluates every object of a connector's connector space with the
// rules, whether or not it changed: run it after changing rules.
func (e *Engine) FullSync(ctx context.Context, connectorName string) (*RunResult, error) {
	return e.runSync(ctx, connectorName, true)
}

// DeltaSync evaluates only the objects of a connector's connector space that
// an import changed: its cost is proportional to the changes, not to the
// size of the directory.
func (e *Engine) DeltaSync(ctx context.Context, connectorName string) (*RunResult, error) {
	return e.runSync(ctx, connectorName, false)
}

func (e *Engine) runSync(ctx context.Context, name string, full bool) (*RunResult, error) {
	c, err := e.conn(name)
	if err != nil {
		return nil, err
	}
	set, end, err := e.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	res := &RunResult{Connector: name, Profile: DeltaSync, Started: e.opts.Now()}
	if full {
		res.Profile = FullSync
	}
	res.track = e.startRun(res)
	res.track.syncTotal(ctx, name, full)
	s := &syncer{e: e, rules: set, res: res, refs: newRefCache()}
	err = s.run(ctx, c, full)
	res.Ended = e.opts.Now()
	e.record(ctx, res, err)
	if err != nil {
		return res, fmt.Errorf("idbridge: %s of %q: %w", res.Profile, name, err)
	}
	return res, nil
}

// syncer runs one sync.
type syncer struct {
	e     *Engine
	rules *rules.Set
	res   *RunResult
	// retry holds objects whose references could not be resolved when they
	// were synced (their targets came later in the same run); they are
	// synced once more at the end, each once however many of its
	// references missed (a group of 50,000 members would otherwise be
	// re-synced 50,000 times). retrySet holds the same keys, each true
	// when its object is too large to share a transaction
	// (Options.LargeObjectValues).
	retry    []objKey
	retrySet map[objKey]bool
	// retrying is set during the retry pass, whose misses are final.
	retrying bool
	// refs caches reference resolution for the run (nil: no cache).
	refs *refCache
	// contribs is recompute's buffer.
	contribs []contribution
	// waitCounts caches the reference wait counters of the transaction
	// of waitBatch (see unresolved.go).
	waitBatch  *batch
	waitCounts map[string]uint64
	// folded holds the join attributes indexed folded (foldedJoinAttrs),
	// computed on first use.
	folded map[string]bool
	// explain, when set (Engine.Explain), records how attributes were
	// decided.
	explain *explainRec
}

// foldedAttr reports whether the store indexes attr folded.
func (s *syncer) foldedAttr(attr string) bool {
	if s.folded == nil {
		s.folded = foldedJoinAttrs(s.rules, s.e.store)
	}
	return s.folded[attr]
}

// retryLater queues o for the retry pass at the end of the run.
func (s *syncer) retryLater(o *metaverse.CSObject) {
	k := objKey{o.Connector, o.ID}
	if s.queued(k) {
		return
	}
	if s.retrySet == nil {
		s.retrySet = map[objKey]bool{}
	}
	s.retrySet[k] = s.large(o)
	s.retry = append(s.retry, k)
}

// queued reports whether k waits for the retry pass.
func (s *syncer) queued(k objKey) bool {
	_, ok := s.retrySet[k]
	return ok
}

// truncateRetry forgets the keys queued after the first n.
func (s *syncer) truncateRetry(n int) {
	for _, k := range s.retry[n:] {
		delete(s.retrySet, k)
	}
	s.retry = s.retry[:n]
}

// large reports whether o has more than Options.LargeObjectValues values.
func (s *syncer) large(o *metaverse.CSObject) bool {
	n := 0
	for _, vs := range o.Attrs {
		if n += len(vs); n > s.e.opts.LargeObjectValues {
			return true
		}
	}
	return false
}

// runs calls fn for consecutive runs [i, j) of the indexes [0, n), each of
// at most limit indexes, and each large one (large(i)) alone.
func runs(n, limit int, large func(int) bool, fn func(i, j int) error) error {
	for i := 0; i < n; {
		j := i + 1
		if !large(i) {
			for j < min(i+limit, n) && !large(j) {
				j++
			}
		}
		if err := fn(i, j); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func (s *syncer) run(ctx context.Context, c *conn, full bool) error {
	after := ""
	for {
		var page []*metaverse.CSObject
		if err := s.e.store.View(ctx, func(tx metaverse.Tx) error {
			var err error
			if full {
				page, err = tx.Objects(ctx, c.name, after, s.e.opts.BatchSize)
			} else {
				page, err = tx.PendingImports(ctx, c.name, after, s.e.opts.BatchSize)
			}
			return err
		}); err != nil {
			return fatal(err)
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].ID
		if err := s.page(ctx, page); err != nil {
			return err
		}
		s.res.track.add(len(page))
	}
	// Objects whose references pointed at objects synced later in this run.
	s.retrying = true
	defer func() { s.retrying = false }()
	for len(s.retry) > 0 {
		keys, large := s.retry, s.retrySet
		s.retry, s.retrySet = nil, nil
		err := runs(len(keys), s.e.opts.BatchSize, func(i int) bool { return large[keys[i]] }, func(i, j int) error {
			return s.batchKeys(ctx, keys[i:j])
		})
		if err != nil {
			return err
		}
		s.retry, s.retrySet = nil, nil // a second miss is final for this run
	}
	return nil
}

// page syncs a page of objects: in one transaction, but for the large ones
// (more than Options.LargeObjectValues values), each synced in a
// transaction of its own. Their decoded copies are dropped from the page at
// once and read again in their transaction, so that the page never holds
// several of them.
//
// A transaction holds what it decoded, resolved and wrote until it
// commits: the largest groups of a million-entry directory (hundreds of
// thousands of members each) are often neighbours, and syncing them in one
// transaction held them all at once — the peak of a 1M-entry sync's memory.
func (s *syncer) page(ctx context.Context, page []*metaverse.CSObject) error {
	large := make([]bool, len(page))
	for i, o := range page {
		if large[i] = s.large(o); large[i] {
			page[i] = &metaverse.CSObject{Connector: o.Connector, ID: o.ID} // no Type: one reads it
		}
	}
	return runs(len(page), len(page), func(i int) bool { return large[i] }, func(i, j int) error {
		if err := s.batch(ctx, page[i:j]); err != nil {
			return err
		}
		clear(page[i:j]) // let the collector have them
		return nil
	})
}

// batch syncs objects in one transaction.
func (s *syncer) batch(ctx context.Context, page []*metaverse.CSObject) error {
	return s.update(ctx, func(b *batch, w func() *work) error {
		for _, o := range page {
			if err := s.one(w(), o); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *syncer) batchKeys(ctx context.Context, keys []objKey) error {
	return s.update(ctx, func(b *batch, w func() *work) error {
		for _, k := range keys {
			if err := s.one(w(), &metaverse.CSObject{Connector: k.conn, ID: k.id}); err != nil {
				return err
			}
		}
		return nil
	})
}

// update runs fn in a store transaction, keeping the counts of a
// transaction that is retried or rolled back out of the result: a run
// cancelled or failed mid-batch reports what committed.
func (s *syncer) update(ctx context.Context, fn func(b *batch, w func() *work) error) error {
	base := *s.res
	baseRetry := len(s.retry)
	rollback := func() {
		errs := s.res.Errors
		*s.res = base
		s.res.Errors = errs[:len(base.Errors):len(base.Errors)]
		s.truncateRetry(baseRetry)
	}
	attempt := 0
	err := s.e.store.Update(ctx, func(tx metaverse.Tx) error {
		if attempt++; attempt > 1 {
			s.refs.reset() // what the failed attempt read or wrote is rolled back
		}
		rollback()
		b := &batch{ctx: ctx, tx: tx, refs: s.refs}
		if err := fn(b, b.work); err != nil {
			return err
		}
		return b.finish()
	})
	if err != nil {
		rollback()
		s.refs.reset()
	}
	return fatal(err)
}

// one syncs one object in its own unit of work: an error in it is recorded
// on the object and in the result, and the run goes on.
func (s *syncer) one(w *work, page *metaverse.CSObject) error {
	// The copy read with the page is current unless this batch wrote the
	// object since (an object synced earlier unlinked it from a deleted
	// entry); an object with no Type was never read.
	k := objKey{page.Connector, page.ID}
	var o *metaverse.CSObject
	var err error
	if page.Type != "" && !w.touched[k] {
		o = w.adopt(page)
	} else if o, err = w.object(k.conn, k.id); err != nil || o == nil {
		return err
	}
	err = s.syncObject(w, o)
	if err == nil {
		return w.commit()
	}
	if isFatal(err) {
		return err
	}
	var oe *ObjectError
	if !errors.As(err, &oe) {
		oe = &ObjectError{Connector: o.Connector, ObjectID: o.ID, Anchor: o.Anchor, DN: o.DN, Step: "sync", Err: err}
	}
	s.res.addError(s.e.opts.MaxErrors, oe)
	// Keep the object pending, with its error, so that the next sync
	// retries it; the failed unit of work is dropped.
	w2 := w.batch.work()
	cur, err := w2.object(o.Connector, o.ID)
	if err != nil || cur == nil {
		return err
	}
	cur.Error = oe.Error()
	w2.putObject(cur)
	return w2.commit()
}

func (s *syncer) objErr(o *metaverse.CSObject, step string, err error) error {
	if isFatal(err) {
		return err
	}
	return &ObjectError{Connector: o.Connector, ObjectID: o.ID, Anchor: o.Anchor, DN: o.DN, Step: step, Err: err}
}

func inputOf(o *metaverse.CSObject) *rules.Input {
	return &rules.Input{Anchor: o.Anchor, DN: o.DN, Type: o.Type, Attrs: o.Attrs}
}

// syncObject runs inbound sync for one connector-space object (scope, join,
// projection, flows into its entry) and then outbound sync for its entry.
func (s *syncer) syncObject(w *work, o *metaverse.CSObject) error {
	ctx := w.ctx
	if o.Pending == metaverse.ImportDelete {
		return s.objectGone(w, o)
	}
	in := inputOf(o)
	var scoped []*rules.Compiled
	for _, r := range s.rules.Inbound(o.Connector, o.Type) {
		ok, err := r.InScope(ctx, in)
		if err != nil {
			return s.objErr(o, "scope", fmt.Errorf("rule %q: %w", r.Rule().Name, err))
		}
		if ok {
			scoped = append(scoped, r)
		}
	}

	var entry *metaverse.Entry
	if o.EntryID != "" {
		var err error
		if entry, err = w.entry(o.EntryID); err != nil {
			return err
		}
		if entry == nil {
			o.EntryID, o.LinkType, o.Rule = "", 0, ""
		}
	}
	if entry != nil && linkOf(entry, o).Inbound && !targets(scoped, entry.Type) {
		// Out of scope of every inbound rule that could hold the link.
		if err := s.disconnect(w, o, entry); err != nil {
			return err
		}
		entry = nil
	}
	if entry == nil && o.EntryID == "" {
		var err error
		if entry, err = s.joinOrProject(w, o, in, scoped); err != nil {
			return err
		}
		if entry != nil {
			if err := s.arrived(w, o, entry); err != nil {
				return err
			}
		}
	}
	if entry != nil {
		if err := s.recompute(w, entry, o); err != nil {
			return err
		}
		if err := s.outbound(w, entry, o); err != nil {
			return err
		}
	}
	o.Error = ""
	// An object queued for the retry pass stays pending until that pass
	// syncs it again: its references wait for objects later in this run,
	// and if the run stops before the retry pass (a crash, a store
	// failure), the next sync must take it up rather than leave the
	// references out for good.
	switch {
	case s.retrying || !s.queued(objKey{o.Connector, o.ID}):
		o.Pending = metaverse.ImportNone
		o.Changed = nil
	case o.Pending == metaverse.ImportNone:
		o.Pending = metaverse.ImportUpdate // in a full sync
	}
	w.putObject(o)
	return nil
}

func targets(rs []*rules.Compiled, mvType string) bool {
	for _, r := range rs {
		if r.Rule().TargetType == mvType {
			return true
		}
	}
	return false
}

func linkOf(e *metaverse.Entry, o *metaverse.CSObject) metaverse.Link {
	for _, l := range e.Links {
		if l.Connector == o.Connector && l.ObjectID == o.ID {
			return l
		}
	}
	return metaverse.Link{}
}

// joinOrProject links an unlinked object: the join groups of the in-scope
// rules are tried in precedence order, and the first group that finds
// exactly one entry joins; else the first in-scope Provision rule projects a
// new entry; else the object stays a disconnector.
func (s *syncer) joinOrProject(w *work, o *metaverse.CSObject, in *rules.Input, scoped []*rules.Compiled) (*metaverse.Entry, error) {
	for _, r := range scoped {
		rule := r.Rule()
		for g := range rule.Join {
			keys, err := r.JoinKeys(w.ctx, in, g)
			if err != nil {
				return nil, s.objErr(o, "join", fmt.Errorf("rule %q: %w", rule.Name, err))
			}
			ids, err := s.candidates(w, rule.TargetType, keys)
			if err != nil {
				return nil, err
			}
			if s.explain != nil {
				s.explain.joinTried(o, rule, g, keys, ids)
			}
			switch {
			case len(ids) == 0:
				continue
			case len(ids) > 1:
				return nil, s.objErr(o, "join", fmt.Errorf("rule %q join group %d matches %d metaverse entries (%v): %w", rule.Name, g+1, len(ids), ids, ErrAmbiguousJoin))
			}
			entry, err := w.entry(ids[0])
			if err != nil {
				return nil, err
			}
			if err := s.takeOverAdd(w, o, entry); err != nil {
				return nil, err
			}
			for _, l := range entry.Links {
				if l.Connector == o.Connector && l.ObjectID != o.ID {
					return nil, s.objErr(o, "join", fmt.Errorf("rule %q joins metaverse entry %s, which is already joined to object %s of the same connector: %w", rule.Name, entry.ID, l.ObjectID, ErrAmbiguousJoin))
				}
			}
			lt := rule.LinkType
			if lt == 0 {
				lt = metaverse.Join
			}
			s.link(w, o, entry, lt, rule.Name, true)
			s.res.Joins++
			return entry, nil
		}
	}
	for _, r := range scoped {
		rule := r.Rule()
		if rule.LinkType != metaverse.Provision {
			continue
		}
		id, err := w.newID()
		if err != nil {
			return nil, err
		}
		now := s.e.opts.Now()
		entry := &metaverse.Entry{ID: id, Type: rule.TargetType, Attrs: connector.Attributes{}, Sources: map[string]metaverse.Source{}, Created: now, Updated: now}
		s.link(w, o, entry, metaverse.Provision, rule.Name, true)
		s.res.Projections++
		return entry, nil
	}
	return nil, nil
}

// ErrAmbiguousJoin: a join rule matched more than one metaverse entry, or
// an entry already joined to another object of the same connector. The
// object is left unjoined with this error.
var ErrAmbiguousJoin = errors.New("idbridge: ambiguous join")

// candidates returns the entries of type typ matching every join key of
// a group. One key is looked up in the store's index (an exact one when
// the group has one, as it selects best; a case-insensitive one on a store
// that indexed it folded, see joinIndexes) and the candidates found are
// filtered by the others, each compared exactly or case-insensitively as
// its condition says.
func (s *syncer) candidates(w *work, typ string, keys []rules.JoinKey) ([]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	for _, k := range keys {
		if len(k.Values) == 0 {
			return nil, nil // a condition with no value joins nothing
		}
	}
	_, folds := s.e.store.(metaverse.FoldIndexer)
	li := lookupKey(len(keys), func(i int) bool { return keys[i].CaseInsensitive }, folds)
	if li < 0 {
		return nil, nil // refused by SetRules; kept safe here
	}
	lk := keys[li]
	var ids []string
	seen := map[string]bool{}
	for _, v := range lk.Values {
		found, err := w.findEntries(typ, lk.Attr, v, lk.CaseInsensitive)
		if err != nil {
			return nil, err
		}
		for _, id := range found {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	for i, k := range keys {
		// An exact lookup on an attribute another rule declared folded
		// finds every case: it is filtered too.
		if i == li && (lk.CaseInsensitive || !s.foldedAttr(lk.Attr)) {
			continue
		}
		kept := ids[:0]
		for _, id := range ids {
			e, err := w.peekEntry(id)
			if err != nil {
				return nil, err
			}
			if e != nil && anyMatch(e.Attrs[k.Attr], k.Values, k.CaseInsensitive) {
				kept = append(kept, id)
			}
		}
		ids = kept
	}
	return ids, nil
}

// lookupKey returns the index of the condition, among n, that candidates
// looks up: the first exact one, else the first (case-insensitive) one
// when the store indexes folded; -1 when the store can look up none.
func lookupKey(n int, caseInsensitive func(i int) bool, folds bool) int {
	for i := range n {
		if !caseInsensitive(i) {
			return i
		}
	}
	if folds && n > 0 {
		return 0
	}
	return -1
}

func anyMatch(have, want []connector.Value, fold bool) bool {
	for _, h := range have {
		for _, v := range want {
			if h == v || (fold && h.Type() == connector.String && v.Type() == connector.String && equalFold(h.Str(), v.Str())) {
				return true
			}
		}
	}
	return false
}

// link ties o to entry.
func (s *syncer) link(w *work, o *metaverse.CSObject, entry *metaverse.Entry, lt metaverse.LinkType, rule string, inbound bool) {
	entry.Links = append(entry.Links, metaverse.Link{Connector: o.Connector, ObjectID: o.ID, Type: lt, Rule: rule, Inbound: inbound})
	o.EntryID, o.LinkType, o.Rule = entry.ID, lt, rule
	w.putEntry(entry)
	w.putObject(o)
}

// unlink removes the link between o and entry (both are written).
func unlink(w *work, o *metaverse.CSObject, entry *metaverse.Entry) metaverse.Link {
	var gone metaverse.Link
	kept := entry.Links[:0]
	for _, l := range entry.Links {
		if l.Connector == o.Connector && l.ObjectID == o.ID {
			gone = l
			continue
		}
		kept = append(kept, l)
	}
	entry.Links = kept
	o.EntryID, o.LinkType, o.Rule = "", 0, ""
	w.putEntry(entry)
	w.putObject(o)
	return gone
}

// objectGone processes an object deleted from its connected system.
func (s *syncer) objectGone(w *work, o *metaverse.CSObject) error {
	if o.Export != nil && o.Export.Kind == connector.Delete {
		s.res.Confirmed++
	}
	s.res.Deletes++
	if o.EntryID != "" {
		entry, err := w.entry(o.EntryID)
		if err != nil {
			return err
		}
		if entry != nil {
			if err := s.disconnect(w, o, entry); err != nil {
				return err
			}
		}
	}
	w.deleteObject(o)
	return nil
}

// disconnect removes o from entry. An entry left with no authoritative
// inbound source (Provision or StickyJoin) is deleted; otherwise its
// attributes are recomputed without o's contributions.
func (s *syncer) disconnect(w *work, o *metaverse.CSObject, entry *metaverse.Entry) error {
	unlink(w, o, entry)
	s.res.Disconnects++
	for _, l := range entry.Links {
		if l.Inbound && l.Type.Authoritative() {
			if err := s.recompute(w, entry, nil); err != nil {
				return err
			}
			return s.outbound(w, entry, nil)
		}
	}
	return s.deleteEntry(w, entry)
}

// deleteEntry deletes an entry: objects it provisioned are deprovisioned,
// objects joined to it become disconnectors.
func (s *syncer) deleteEntry(w *work, entry *metaverse.Entry) error {
	for _, l := range append([]metaverse.Link(nil), entry.Links...) {
		t, err := w.object(l.Connector, l.ObjectID)
		if err != nil {
			return err
		}
		if t == nil {
			continue
		}
		if l.Inbound {
			unlink(w, t, entry)
			s.res.Disconnects++
			continue
		}
		if err := s.deprovision(w, entry, t, l); err != nil {
			return err
		}
	}
	w.deleteEntry(entry.ID)
	s.res.MetaverseDeletes++
	return nil
}
