package idbridge

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

// ErrWhatIfLimit: a what-if found more changes of one kind than a
// WhatIfLimit allows. The error is a *WhatIfLimitError.
var ErrWhatIfLimit = errors.New("idbridge: what-if exceeds a limit")

// WhatIfKind names a kind of change a what-if counts.
type WhatIfKind string

// What-if kinds. One object may show several (a join and an update).
const (
	// WhatIfProvision: an object a connector would add.
	WhatIfProvision WhatIfKind = "provision"
	// WhatIfUpdate: an object whose export would change attributes or
	// its DN (in the metaverse: an entry whose attributes would change).
	WhatIfUpdate WhatIfKind = "update"
	// WhatIfDelete: an object a connector would delete (deprovisioned);
	// in the metaverse, an entry that would be deleted.
	WhatIfDelete WhatIfKind = "delete"
	// WhatIfDisconnect: an object that would be unlinked from its entry
	// and left in its connected system.
	WhatIfDisconnect WhatIfKind = "disconnect"
	// WhatIfJoin: an object that would join an existing entry.
	WhatIfJoin WhatIfKind = "join"
	// WhatIfProjection: an object that would project a new entry (in the
	// metaverse: the new entry).
	WhatIfProjection WhatIfKind = "projection"
	// WhatIfWithdraw: a pending export that would no longer be sent (an
	// add, update or delete the new rules no longer want).
	WhatIfWithdraw WhatIfKind = "withdraw"
)

// WhatIfOptions tune Engine.WhatIf. The zero value is the defaults.
type WhatIfOptions struct {
	// Samples is the number of objects kept per kind of change, with
	// their state before and after. 0 means 20; negative keeps none.
	Samples int
	// Limits turn the what-if into a check: when a count exceeds one,
	// WhatIf returns the report and a *WhatIfLimitError (see Check).
	Limits []WhatIfLimit
	// Shadow is the empty store the what-if copies the engine's store
	// into and syncs; nil means a new memstore, which holds the whole
	// metaverse and connector spaces in memory for the duration of the
	// call. Give an empty boltstore on a temporary file to trade time
	// for memory. It is not closed.
	Shadow metaverse.Store
}

// WhatIfReport is what applying a rule set would change: the outcome of a
// full sync of every connector with the new rules, compared with the
// store as it is. It is JSON-serialisable.
type WhatIfReport struct {
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// Connectors counts the changes per connector and object type, in
	// connector then type order.
	Connectors []WhatIfCounts `json:"connectors"`
	// Metaverse counts the changes of metaverse entries per type.
	Metaverse []WhatIfCounts `json:"metaverse"`
	// Samples holds, per kind, at most WhatIfOptions.Samples objects
	// with their state before and after, in kind then ID order.
	Samples []WhatIfSample `json:"samples,omitempty"`
	// Errors holds the object errors the sync with the new rules would
	// record (at most Options.MaxErrors), as text; ErrorCount counts all.
	Errors     []string `json:"errors,omitempty"`
	ErrorCount int      `json:"errorCount"`
	// PendingImports counts the objects that had an import not yet
	// synced: their changes are in the report too, since a sync would
	// process them whatever the rules.
	PendingImports int `json:"pendingImports"`
}

// WhatIfCounts counts the changes of one connector's objects of one type
// (or, with Connector empty, of the metaverse entries of one type).
type WhatIfCounts struct {
	Connector   string `json:"connector,omitempty"`
	Type        string `json:"type"`
	Provisions  int    `json:"provisions,omitempty"`
	Updates     int    `json:"updates,omitempty"`
	Deletes     int    `json:"deletes,omitempty"`
	Disconnects int    `json:"disconnects,omitempty"`
	Joins       int    `json:"joins,omitempty"`
	Projections int    `json:"projections,omitempty"`
	Withdrawn   int    `json:"withdrawn,omitempty"`
	// Attributes counts, per attribute ("dn" for a rename), the objects
	// whose export of it would change, or the entries whose value of it
	// would change.
	Attributes map[string]int `json:"attributes,omitempty"`
}

// Count returns the count of one kind.
func (c *WhatIfCounts) Count(k WhatIfKind) int {
	switch k {
	case WhatIfProvision:
		return c.Provisions
	case WhatIfUpdate:
		return c.Updates
	case WhatIfDelete:
		return c.Deletes
	case WhatIfDisconnect:
		return c.Disconnects
	case WhatIfJoin:
		return c.Joins
	case WhatIfProjection:
		return c.Projections
	case WhatIfWithdraw:
		return c.Withdrawn
	}
	return 0
}

func (c *WhatIfCounts) add(k WhatIfKind) {
	switch k {
	case WhatIfProvision:
		c.Provisions++
	case WhatIfUpdate:
		c.Updates++
	case WhatIfDelete:
		c.Deletes++
	case WhatIfDisconnect:
		c.Disconnects++
	case WhatIfJoin:
		c.Joins++
	case WhatIfProjection:
		c.Projections++
	case WhatIfWithdraw:
		c.Withdrawn++
	}
}

// WhatIfSample is one changed object or entry.
type WhatIfSample struct {
	Kind      WhatIfKind `json:"kind"`
	Connector string     `json:"connector,omitempty"` // empty for an entry
	Type      string     `json:"type"`
	ID        string     `json:"id"`
	// Attributes names the attributes that would change.
	Attributes []string     `json:"attributes,omitempty"`
	Before     *WhatIfState `json:"before,omitempty"` // nil for a new object
	After      *WhatIfState `json:"after,omitempty"`  // nil for a removed one
}

// WhatIfState is an object or entry as it is or would be.
type WhatIfState struct {
	DN      string               `json:"dn,omitempty"`
	EntryID string               `json:"entryId,omitempty"`
	Attrs   connector.Attributes `json:"attrs,omitempty"`
	// Export is what an export would send (nil: nothing).
	Export *connector.Change `json:"export,omitempty"`
}

// WhatIfLimit bounds one count of a what-if, for use as a check in a
// product's CI: more than Max changes of Kind on Connector's objects of
// Type fails. Connector "" means every connector (each counted on its
// own); Metaverse selects the metaverse counts instead. Type "" means
// every type, counted together.
type WhatIfLimit struct {
	Kind      WhatIfKind
	Connector string
	Metaverse bool
	Type      string
	Max       int
}

// WhatIfLimitError lists the limits a what-if exceeded. It matches
// ErrWhatIfLimit.
type WhatIfLimitError struct {
	Exceeded []WhatIfExceeded
}

// WhatIfExceeded is one exceeded limit with the count found.
type WhatIfExceeded struct {
	Limit     WhatIfLimit
	Connector string // the connector counted ("" for the metaverse)
	Count     int
}

func (e *WhatIfLimitError) Error() string {
	var b strings.Builder
	b.WriteString("idbridge: what-if: ")
	for i, x := range e.Exceeded {
		if i > 0 {
			b.WriteString("; ")
		}
		what := "objects"
		if x.Limit.Type != "" {
			what = x.Limit.Type + " objects"
		}
		where := fmt.Sprintf(" in %q", x.Connector)
		if x.Limit.Metaverse {
			where = " in the metaverse"
			what = strings.Replace(what, "objects", "entries", 1)
		}
		fmt.Fprintf(&b, "the rule change has %d %s of %s%s (limit %d)", x.Count, x.Limit.Kind, what, where, x.Limit.Max)
	}
	return b.String()
}

// Is reports whether target is ErrWhatIfLimit.
func (e *WhatIfLimitError) Is(target error) bool { return target == ErrWhatIfLimit }

// Check returns a *WhatIfLimitError naming every limit the report exceeds,
// nil when there is none:
//
//	err := report.Check(idbridge.WhatIfLimit{Kind: idbridge.WhatIfDelete, Connector: "aad", Type: "user", Max: 100})
func (r *WhatIfReport) Check(limits ...WhatIfLimit) error {
	var ex []WhatIfExceeded
	for _, l := range limits {
		rows := r.Connectors
		if l.Metaverse {
			rows = r.Metaverse
		}
		sums := map[string]int{}
		var order []string
		for i := range rows {
			c := &rows[i]
			if (!l.Metaverse && l.Connector != "" && c.Connector != l.Connector) || (l.Type != "" && c.Type != l.Type) {
				continue
			}
			if _, ok := sums[c.Connector]; !ok {
				order = append(order, c.Connector)
			}
			sums[c.Connector] += c.Count(l.Kind)
		}
		for _, conn := range order {
			if n := sums[conn]; n > l.Max {
				ex = append(ex, WhatIfExceeded{Limit: l, Connector: conn, Count: n})
			}
		}
	}
	if len(ex) == 0 {
		return nil
	}
	return &WhatIfLimitError{Exceeded: ex}
}

// WhatIf computes what applying the rule file f would change, writing
// nothing to the engine's store: it copies the store into a shadow store,
// runs there with the new rules a full sync of every connector in cycle
// order — the same code as FullSync — and compares the shadow with the
// store. A connector with no inbound rule in either rule set and no
// pending import is not synced: its objects are targets, evaluated by the
// sync of their entries' sources. No connector is called (no import, no
// export): the connector spaces are taken as last imported.
//
// The report counts, per connector and object type, provisions, updates
// per attribute, deletes, disconnects, joins, projections and withdrawn
// exports, and the metaverse changes per entry type, with a bounded
// sample. With opts.Limits, exceeding one returns the report and a
// *WhatIfLimitError (ErrWhatIfLimit).
//
// WhatIf holds the engine's run lock for its duration, so that no run of
// this engine changes the store between the copy and the comparison.
// Reference waits of unresolved references are not copied: a full sync
// re-evaluates every object anyway. A rule file that does not compile
// is refused as SetRules refuses it.
func (e *Engine) WhatIf(ctx context.Context, f *rules.File, opts WhatIfOptions) (*WhatIfReport, error) {
	if f == nil {
		return nil, errors.New("idbridge: what-if: no rules")
	}
	if opts.Samples == 0 {
		opts.Samples = 20
	}
	shadow := opts.Shadow
	if shadow == nil {
		mem := memstore.New()
		defer mem.Close()
		shadow = mem
	}
	_, end, err := e.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	rep := &WhatIfReport{Started: e.opts.Now()}
	sh := e.shadowEngine(shadow)
	if err := sh.SetRules(ctx, f); err != nil {
		return nil, fmt.Errorf("idbridge: what-if: %w", err)
	}
	seq, pending, err := e.copyTo(ctx, shadow)
	if err != nil {
		return nil, fmt.Errorf("idbridge: what-if: copy of the store: %w", err)
	}
	for _, n := range pending {
		rep.PendingImports += n
	}
	old, next := e.Rules(), sh.Rules()
	for _, name := range e.order {
		if pending[name] == 0 && !hasInbound(old, name) && !hasInbound(next, name) {
			// Its objects are all targets: the sync of their entries'
			// sources evaluates them, and a full sync of its own would
			// evaluate every entry a second time.
			continue
		}
		res, err := sh.FullSync(ctx, name)
		if res != nil {
			rep.ErrorCount += res.ErrorCount
			for _, oe := range res.Errors {
				if len(rep.Errors) < e.opts.MaxErrors {
					rep.Errors = append(rep.Errors, oe.Error())
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("idbridge: what-if: %w", err)
		}
	}
	d := &whatIfDiff{rep: rep, samples: opts.Samples, newID: formatID(seq), conns: map[countKey]*WhatIfCounts{}, mv: map[string]*WhatIfCounts{}, kept: map[WhatIfKind]int{}}
	if err := d.entries(ctx, e.store, shadow); err != nil {
		return nil, fmt.Errorf("idbridge: what-if: %w", err)
	}
	for _, name := range e.names {
		if err := d.objects(ctx, e.conns[name], e.store, shadow); err != nil {
			return nil, fmt.Errorf("idbridge: what-if: %w", err)
		}
	}
	d.finish()
	rep.Ended = e.opts.Now()
	if len(opts.Limits) > 0 {
		if err := rep.Check(opts.Limits...); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// hasInbound reports whether set has an inbound rule from connector name.
func hasInbound(set *rules.Set, name string) bool {
	for _, r := range set.Rules() {
		if r.Rule().Direction == rules.Inbound && r.Rule().Connector == name {
			return true
		}
	}
	return false
}

// shadowEngine returns an engine like e on store, in staging mode, with no
// lease: it only ever syncs.
func (e *Engine) shadowEngine(store metaverse.Store) *Engine {
	opts := e.opts
	opts.Lease = nil
	opts.Staging = true
	opts.Logger = e.log.With("whatif", true)
	// The shadow reports to nobody: no hooks, no metrics, no quarantine
	// (a what-if run must not change what operators see of the engine).
	opts.Hooks = Hooks{}
	opts.MeterProvider = nil
	opts.Quarantine = QuarantineOptions{Disabled: true}
	sh := &Engine{store: store, conns: e.conns, names: e.names, order: e.order, opts: opts, log: opts.Logger,
		run: make(chan struct{}, 1), closing: make(chan struct{}), quar: newQuarantines(opts.Quarantine)}
	sh.metrics, _ = newMetrics(sh, nil) // a no-op provider cannot fail
	sh.staging.Store(true)
	sh.thresh.Store(e.thresh.Load())
	sh.guard.Store(e.guard.Load())
	return sh
}

// copyTo copies the entries, connector spaces, watermarks and counters of
// e's store into dst, from one read transaction, and returns the ID
// sequence at the copy (IDs above it are new) and the number of pending
// imports per connector.
func (e *Engine) copyTo(ctx context.Context, dst metaverse.Store) (uint64, map[string]int, error) {
	size := max(e.opts.BatchSize, 1000)
	pending := map[string]int{}
	var seq uint64
	put := func(fn func(d metaverse.Tx) error) error { return dst.Update(ctx, fn) }
	err := e.store.View(ctx, func(tx metaverse.Tx) error {
		counters := []string{seqCounter}
		for _, name := range e.names {
			counters = append(counters, genCounter(name), waitCounter(name))
		}
		vals := make([]uint64, len(counters))
		for i, name := range counters {
			v, err := tx.Counter(ctx, name)
			if err != nil {
				return err
			}
			vals[i] = v
		}
		seq = vals[0]
		wms := map[string][]byte{}
		for _, name := range e.names {
			wm, err := tx.Watermark(ctx, name)
			if err != nil {
				return err
			}
			wms[name] = wm
		}
		if err := put(func(d metaverse.Tx) error {
			for i, name := range counters {
				if err := d.SetCounter(ctx, name, vals[i]); err != nil {
					return err
				}
			}
			for name, wm := range wms {
				if err := d.SetWatermark(ctx, name, wm); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		for after := ""; ; {
			page, err := tx.Entries(ctx, after, size)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			after = page[len(page)-1].ID
			if err := put(func(d metaverse.Tx) error {
				for _, en := range page {
					if err := d.PutEntry(ctx, en); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				return err
			}
		}
		for _, name := range e.names {
			for after := ""; ; {
				page, err := tx.Objects(ctx, name, after, size)
				if err != nil {
					return err
				}
				if len(page) == 0 {
					break
				}
				after = page[len(page)-1].ID
				for _, o := range page {
					if o.Pending != metaverse.ImportNone {
						pending[name]++
					}
				}
				if err := put(func(d metaverse.Tx) error {
					for _, o := range page {
						if err := d.PutObject(ctx, o); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return seq, pending, nil
}

type countKey struct{ conn, typ string }

// whatIfDiff compares the store (before) with the shadow (after).
type whatIfDiff struct {
	rep     *WhatIfReport
	samples int
	newID   string // IDs greater than this were made by the shadow sync
	conns   map[countKey]*WhatIfCounts
	mv      map[string]*WhatIfCounts
	kept    map[WhatIfKind]int
}

func (d *whatIfDiff) counts(conn, typ string) *WhatIfCounts {
	if conn == "" {
		c := d.mv[typ]
		if c == nil {
			c = &WhatIfCounts{Type: typ}
			d.mv[typ] = c
		}
		return c
	}
	k := countKey{conn, typ}
	c := d.conns[k]
	if c == nil {
		c = &WhatIfCounts{Connector: conn, Type: typ}
		d.conns[k] = c
	}
	return c
}

// note counts one change and samples it.
func (d *whatIfDiff) note(k WhatIfKind, conn, typ, id string, attrs []string, before, after func() *WhatIfState) {
	d.counts(conn, typ).add(k)
	if d.kept[k] >= d.samples {
		return
	}
	d.kept[k]++
	s := WhatIfSample{Kind: k, Connector: conn, Type: typ, ID: id, Attributes: attrs}
	if before != nil {
		s.Before = before()
	}
	if after != nil {
		s.After = after()
	}
	d.rep.Samples = append(d.rep.Samples, s)
}

func (d *whatIfDiff) attrs(conn, typ string, names []string) {
	c := d.counts(conn, typ)
	if c.Attributes == nil {
		c.Attributes = map[string]int{}
	}
	for _, n := range names {
		c.Attributes[n]++
	}
}

func (d *whatIfDiff) finish() {
	for _, k := range slices.SortedFunc(maps.Keys(d.conns), func(a, b countKey) int {
		return cmpOr2(compareStr(a.conn, b.conn), compareStr(a.typ, b.typ))
	}) {
		d.rep.Connectors = append(d.rep.Connectors, *d.conns[k])
	}
	for _, t := range slices.Sorted(maps.Keys(d.mv)) {
		d.rep.Metaverse = append(d.rep.Metaverse, *d.mv[t])
	}
	kinds := []WhatIfKind{WhatIfProvision, WhatIfUpdate, WhatIfDelete, WhatIfDisconnect, WhatIfJoin, WhatIfProjection, WhatIfWithdraw}
	slices.SortStableFunc(d.rep.Samples, func(a, b WhatIfSample) int {
		return cmpOr2(slices.Index(kinds, a.Kind)-slices.Index(kinds, b.Kind), cmpOr2(compareStr(a.Connector, b.Connector), compareStr(a.ID, b.ID)))
	})
}

func cmpOr2(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// cursor pages through one store's entries or one connector space by ID.
type cursor[T any] struct {
	fetch func(after string) ([]T, string, error)
	buf   []T
	after string
	done  bool
}

// peek returns the next item without consuming it; ok is false at the end.
func (c *cursor[T]) peek() (T, bool, error) {
	var zero T
	if len(c.buf) == 0 && !c.done {
		page, last, err := c.fetch(c.after)
		if err != nil {
			return zero, false, err
		}
		if len(page) == 0 {
			c.done = true
		}
		c.buf, c.after = page, last
	}
	if len(c.buf) == 0 {
		return zero, false, nil
	}
	return c.buf[0], true, nil
}

func (c *cursor[T]) next() { c.buf = c.buf[1:] }

// mergeByID walks two cursors in ID order and calls fn with each ID's item
// from either side (the zero value when absent).
func mergeByID[T any](a, b *cursor[T], id func(T) string, fn func(x, y T, hasX, hasY bool) error) error {
	for {
		x, okx, err := a.peek()
		if err != nil {
			return err
		}
		y, oky, err := b.peek()
		if err != nil {
			return err
		}
		var zero T
		switch {
		case !okx && !oky:
			return nil
		case okx && (!oky || id(x) < id(y)):
			a.next()
			err = fn(x, zero, true, false)
		case oky && (!okx || id(y) < id(x)):
			b.next()
			err = fn(zero, y, false, true)
		default:
			a.next()
			b.next()
			err = fn(x, y, true, true)
		}
		if err != nil {
			return err
		}
	}
}

const whatIfPage = 1000

func entryCursor(ctx context.Context, st metaverse.Store) *cursor[*metaverse.Entry] {
	return &cursor[*metaverse.Entry]{fetch: func(after string) (page []*metaverse.Entry, last string, err error) {
		err = st.View(ctx, func(tx metaverse.Tx) error {
			page, err = tx.Entries(ctx, after, whatIfPage)
			return err
		})
		if len(page) > 0 {
			last = page[len(page)-1].ID
		}
		return page, last, err
	}}
}

// entries compares the metaverse entries.
func (d *whatIfDiff) entries(ctx context.Context, before, after metaverse.Store) error {
	state := func(en *metaverse.Entry) func() *WhatIfState {
		return func() *WhatIfState { return &WhatIfState{Attrs: en.Attrs} }
	}
	return mergeByID(entryCursor(ctx, before), entryCursor(ctx, after), func(en *metaverse.Entry) string { return en.ID },
		func(b, a *metaverse.Entry, hasB, hasA bool) error {
			switch {
			case !hasB:
				d.note(WhatIfProjection, "", a.Type, a.ID, nil, nil, state(a))
			case !hasA:
				d.note(WhatIfDelete, "", b.Type, b.ID, nil, state(b), nil)
			default:
				if changed := changedAttrs(b.Attrs, a.Attrs); len(changed) > 0 {
					d.attrs("", a.Type, changed)
					d.note(WhatIfUpdate, "", a.Type, a.ID, changed, state(b), state(a))
				}
			}
			return nil
		})
}

// changedAttrs names the attributes whose values differ, sorted.
func changedAttrs(a, b connector.Attributes) []string {
	var out []string
	for k, v := range a {
		if !connector.SameValues(v, b[k]) {
			out = append(out, k)
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok && len(v) > 0 {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// csItem is an object with the change an export would send for it.
type csItem struct {
	o  *metaverse.CSObject
	ch *connector.Change // nil: nothing to send
}

func objectCursor(ctx context.Context, st metaverse.Store, c *conn) *cursor[csItem] {
	return &cursor[csItem]{fetch: func(after string) (items []csItem, last string, err error) {
		err = st.View(ctx, func(tx metaverse.Tx) error {
			page, err := tx.Objects(ctx, c.name, after, whatIfPage)
			if err != nil {
				return err
			}
			items = make([]csItem, len(page))
			b := &batch{ctx: ctx, tx: tx}
			w := b.work()
			for i, o := range page {
				items[i].o = o
				if o.Export == nil {
					continue
				}
				it, ok, err := buildChange(w, c, o)
				if err != nil {
					return err
				}
				if ok {
					items[i].ch = &it.change
				}
			}
			return nil
		})
		if len(items) > 0 {
			last = items[len(items)-1].o.ID
		}
		return items, last, err
	}}
}

// objects compares one connector space.
func (d *whatIfDiff) objects(ctx context.Context, c *conn, before, after metaverse.Store) error {
	state := func(it csItem) func() *WhatIfState {
		return func() *WhatIfState {
			return &WhatIfState{DN: it.o.DN, EntryID: it.o.EntryID, Attrs: it.o.Attrs, Export: it.ch}
		}
	}
	return mergeByID(objectCursor(ctx, before, c), objectCursor(ctx, after, c), func(it csItem) string { return it.o.ID },
		func(b, a csItem, hasB, hasA bool) error {
			switch {
			case !hasB:
				if a.ch != nil && a.ch.Kind == connector.Add {
					d.note(WhatIfProvision, c.name, a.o.Type, a.o.ID, nil, nil, state(a))
				}
				return nil
			case !hasA:
				// Removed by the sync: a provision never exported that
				// is no longer wanted, or an object deleted by an import.
				if b.ch != nil && b.o.Pending != metaverse.ImportDelete {
					d.note(WhatIfWithdraw, c.name, b.o.Type, b.o.ID, nil, state(b), nil)
				}
				return nil
			}
			typ, id := a.o.Type, a.o.ID
			switch {
			case a.o.EntryID != "" && a.o.EntryID != b.o.EntryID:
				if a.o.EntryID > d.newID {
					d.note(WhatIfProjection, c.name, typ, id, nil, state(b), state(a))
				} else {
					d.note(WhatIfJoin, c.name, typ, id, nil, state(b), state(a))
				}
			case a.o.EntryID == "" && b.o.EntryID != "" && (a.ch == nil || a.ch.Kind != connector.Delete):
				d.note(WhatIfDisconnect, c.name, typ, id, nil, state(b), state(a))
			}
			switch {
			case a.ch == nil:
				if b.ch != nil {
					d.note(WhatIfWithdraw, c.name, typ, id, nil, state(b), state(a))
				}
			case a.ch.Kind == connector.Delete:
				if b.ch == nil || b.ch.Kind != connector.Delete {
					d.note(WhatIfDelete, c.name, typ, id, nil, state(b), state(a))
				}
			case a.ch.Kind == connector.Add && (b.ch == nil || b.ch.Kind != connector.Add):
				d.note(WhatIfProvision, c.name, typ, id, nil, state(b), state(a))
			default:
				if changed := changedExport(b.ch, a.ch); len(changed) > 0 {
					d.attrs(c.name, typ, changed)
					d.note(WhatIfUpdate, c.name, typ, id, changed, state(b), state(a))
				}
			}
			return nil
		})
}

// changedExport names the attributes (and "dn") that the export after
// would send differently from the export before (nil: none), sorted.
func changedExport(before, after *connector.Change) []string {
	if after.Kind == connector.Add {
		var was connector.Attributes
		dn := ""
		if before != nil && before.Kind == connector.Add {
			was, dn = before.Attrs, before.DN
		}
		out := changedAttrs(was, after.Attrs)
		if connector.FoldDN(dn) != connector.FoldDN(after.DN) {
			out = append(out, "dn")
			slices.Sort(out)
		}
		return out
	}
	mods := func(ch *connector.Change) map[string][]connector.Mod {
		m := map[string][]connector.Mod{}
		if ch == nil || ch.Kind != connector.Update {
			return m
		}
		for _, x := range ch.Mods {
			m[x.Name] = append(m[x.Name], x)
		}
		if ch.OldDN != "" {
			m["dn"] = []connector.Mod{{Name: "dn", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue(connector.FoldDN(ch.DN))}}}
		}
		return m
	}
	mb, ma := mods(before), mods(after)
	var out []string
	for name, xs := range ma {
		if !sameMods(mb[name], xs) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func sameMods(a, b []connector.Mod) bool {
	return slices.EqualFunc(a, b, func(x, y connector.Mod) bool {
		return x.Op == y.Op && connector.SameValues(x.Values, y.Values)
	})
}
