package idbridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// ErrMassChange: an export run would delete, disable or change the
// identity of more objects than the mass-change guard allows (see
// Options.DeletionThreshold and Options.MassChange); nothing was exported.
// The error is a *MassChangeError.
var ErrMassChange = errors.New("idbridge: mass change stopped")

// MassChangeOptions configure the mass-change guard, which runs before each
// export and stops it, before anything is sent, when the pending changes
// of one kind exceed an absolute limit or a share of the connector space.
// The kinds are deletes (limited by Options.DeletionThreshold and
// DeletePercent), disables and updates of identity attributes. In every
// limit, zero means the default and a negative value turns the limit off.
type MassChangeOptions struct {
	// DeletePercent limits deletes to this share, in percent, of the
	// connector space's objects that exist in the connected system.
	// Default 10.
	DeletePercent float64
	// Disables limits the objects disabled: accountEnabled going from
	// true to false, or userAccountControl gaining ACCOUNTDISABLE
	// (deprovision: disable, a source account disabled). Default 500.
	Disables int
	// DisablePercent is the relative limit of disables. Default 10.
	DisablePercent float64
	// Updates limits the objects one of whose UpdateAttributes would take
	// a different value (setting a value on an object that has none is
	// not counted). Default 500.
	Updates int
	// UpdatePercent is the relative limit of updates. Default 10.
	UpdatePercent float64
	// UpdateAttributes are the attributes whose updates are counted.
	// Default accountEnabled, userPrincipalName, onPremisesImmutableId
	// (the source anchor in Entra ID); name the target connector's own
	// attributes.
	UpdateAttributes []string
	// MinChanges is the number of changes of a kind from which the
	// relative limits apply, so that a few changes in a small connector
	// space do not stop it. Default 20; negative: from the first change.
	MinChanges int
	// Samples bounds MassChangeError.Sample. Default 20; negative: no
	// sample.
	Samples int
}

// defaultMassChangeAttributes are the attributes whose updates the guard
// counts by default.
var defaultMassChangeAttributes = []string{"accountEnabled", "userPrincipalName", "onPremisesImmutableId"}

func (o MassChangeOptions) withDefaults() MassChangeOptions {
	o.DeletePercent = orDefault(o.DeletePercent, 10)
	o.Disables = orDefault(o.Disables, 500)
	o.DisablePercent = orDefault(o.DisablePercent, 10)
	o.Updates = orDefault(o.Updates, 500)
	o.UpdatePercent = orDefault(o.UpdatePercent, 10)
	o.MinChanges = orDefault(o.MinChanges, 20)
	o.Samples = orDefault(o.Samples, 20)
	if o.UpdateAttributes == nil {
		o.UpdateAttributes = defaultMassChangeAttributes
	}
	o.UpdateAttributes = slices.Clone(o.UpdateAttributes)
	return o
}

func orDefault[T int | float64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// Kinds of change counted by the mass-change guard.
const (
	ChangeDelete  = "delete"
	ChangeDisable = "disable"
	ChangeUpdate  = "update"
)

// MassChangeError is returned when an export would exceed a limit of the
// mass-change guard. It matches ErrMassChange, and ErrDeletionThreshold too
// when a limit of deletes is exceeded. It says what the export would do:
// counts per kind and a sample of the objects.
type MassChangeError struct {
	Connector string
	// Deletes, Disables and Updates count the changes of each kind the
	// export would send (an object both disabled and given another UPN
	// counts in both).
	Deletes, Disables, Updates int
	// Threshold is the deletion threshold in force (-1: off).
	Threshold int
	// Objects is the number of objects of the connector space that exist
	// in the connected system, counted up to what the relative limits
	// needed (0 when none was checked).
	Objects int
	// Exceeded lists the limits exceeded.
	Exceeded []ExceededLimit
	// Sample lists some of the changes, in object ID order.
	Sample []MassChange
}

// DeletionThresholdError is the error of the deletion threshold, now one
// limit of the mass-change guard.
//
// Deprecated: use MassChangeError.
type DeletionThresholdError = MassChangeError

// ExceededLimit is one limit of the mass-change guard that an export would
// exceed.
type ExceededLimit struct {
	Kind  string // ChangeDelete, ChangeDisable or ChangeUpdate
	Count int    // changes of that kind
	// Limit is the absolute limit, or for a relative one the largest
	// count allowed (Percent of Objects).
	Limit int
	// Percent is the relative limit, 0 for an absolute one.
	Percent float64
}

// MassChange is one change in the sample of a MassChangeError.
type MassChange struct {
	ObjectID string
	DN       string
	Kind     string // ChangeDelete, ChangeDisable, ChangeUpdate
	// Changes says, for a disable or an update, what changes:
	// "accountEnabled: true → false".
	Changes []string
}

func (e *MassChangeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "idbridge: export to %q stopped before exporting anything: ", e.Connector)
	for i, l := range e.Exceeded {
		if i > 0 {
			b.WriteString("; ")
		}
		if l.Percent > 0 {
			fmt.Fprintf(&b, "%d %ss pending, more than %g%% of %d objects", l.Count, l.Kind, l.Percent, e.Objects)
		} else if l.Kind == ChangeDelete {
			fmt.Fprintf(&b, "%d deletes pending, deletion threshold is %d", l.Count, l.Limit)
		} else {
			fmt.Fprintf(&b, "%d %ss pending, limit is %d", l.Count, l.Kind, l.Limit)
		}
	}
	b.WriteString(" (check PendingExports; then fix the rules, or raise the limit with SetDeletionThreshold or SetMassChange)")
	return b.String()
}

// Is reports whether target is ErrMassChange, or ErrDeletionThreshold when
// a limit of deletes is exceeded.
func (e *MassChangeError) Is(target error) bool {
	if target == ErrMassChange {
		return true
	}
	if target == ErrDeletionThreshold {
		return slices.ContainsFunc(e.Exceeded, func(l ExceededLimit) bool { return l.Kind == ChangeDelete })
	}
	return false
}

// SetMassChange replaces the limits of the mass-change guard (see
// Options.MassChange), for example to let an export through that the
// guard stopped, after checking PendingExports.
func (e *Engine) SetMassChange(o MassChangeOptions) {
	o = o.withDefaults()
	e.guard.Store(&o)
}

// checkMassChange counts what an export run at now would send and returns a
// *MassChangeError when a limit is exceeded.
func (e *Engine) checkMassChange(ctx context.Context, c *conn, now time.Time) error {
	o := *e.guard.Load()
	threshold := int(e.thresh.Load())
	if threshold < 0 && o.Disables < 0 && o.DisablePercent < 0 && o.Updates < 0 && o.UpdatePercent < 0 {
		return nil // every limit off: nothing to count
	}
	me := &MassChangeError{Connector: c.name, Threshold: threshold}
	var sample []MassChange
	err := e.store.View(ctx, func(tx metaverse.Tx) error {
		me.Deletes, me.Disables, me.Updates, sample = 0, 0, 0, sample[:0]
		for after := ""; ; {
			page, err := tx.PendingExports(ctx, c.name, after, 1000)
			if err != nil || len(page) == 0 {
				return err
			}
			after = page[len(page)-1].ID
			for _, obj := range page {
				if e.hold(obj.Export, now) != holdNone {
					continue
				}
				for _, ch := range classify(obj, o.UpdateAttributes) {
					switch ch.Kind {
					case ChangeDelete:
						me.Deletes++
					case ChangeDisable:
						me.Disables++
					case ChangeUpdate:
						me.Updates++
					}
					if len(sample) < o.Samples {
						sample = append(sample, ch)
					}
				}
			}
		}
	})
	if err != nil {
		return fatal(err)
	}
	me.Sample = sample
	for _, k := range []struct {
		kind    string
		count   int
		limit   int
		percent float64
	}{
		{ChangeDelete, me.Deletes, threshold, o.DeletePercent},
		{ChangeDisable, me.Disables, o.Disables, o.DisablePercent},
		{ChangeUpdate, me.Updates, o.Updates, o.UpdatePercent},
	} {
		if k.kind == ChangeDelete && threshold < 0 {
			continue // the deletion threshold off turns off both its limits
		}
		if k.limit >= 0 && k.count > k.limit {
			me.Exceeded = append(me.Exceeded, ExceededLimit{Kind: k.kind, Count: k.count, Limit: k.limit})
			continue
		}
		if k.percent <= 0 || k.count == 0 || k.count < o.MinChanges {
			continue
		}
		// The limit is exceeded unless the connector space has at least
		// count*100/percent objects: count no further than that.
		need := int(float64(k.count)*100/k.percent) + 1
		n, err := e.countExisting(ctx, c.name, need)
		if err != nil {
			return err
		}
		me.Objects = max(me.Objects, n)
		if allowed := int(float64(n) * k.percent / 100); k.count > allowed {
			me.Exceeded = append(me.Exceeded, ExceededLimit{Kind: k.kind, Count: k.count, Limit: allowed, Percent: k.percent})
		}
	}
	if len(me.Exceeded) > 0 {
		return me
	}
	return nil
}

// countExisting counts the objects of a connector space that exist in the
// connected system (they have an anchor), stopping at limit.
func (e *Engine) countExisting(ctx context.Context, connName string, limit int) (int, error) {
	n := 0
	err := e.store.View(ctx, func(tx metaverse.Tx) error {
		n = 0
		for after := ""; n < limit; {
			page, err := tx.Objects(ctx, connName, after, 1000)
			if err != nil || len(page) == 0 {
				return err
			}
			after = page[len(page)-1].ID
			for _, o := range page {
				if o.Anchor != "" {
					n++
				}
			}
		}
		return nil
	})
	return n, fatal(err)
}

// classify says which kinds of guarded change an object's pending export
// is: a delete; a disable; an update of one of attrs that replaces or
// removes a value the object has.
func classify(o *metaverse.CSObject, attrs []string) []MassChange {
	x := o.Export
	dn := cmpOr(o.DN, x.DN)
	switch {
	case x.Kind == connector.Delete:
		return []MassChange{{ObjectID: o.ID, DN: dn, Kind: ChangeDelete}}
	case o.Anchor == "":
		return nil // an add
	}
	var out []MassChange
	if d, ok := disables(o.Attrs, x.Attrs); ok {
		out = append(out, MassChange{ObjectID: o.ID, DN: dn, Kind: ChangeDisable, Changes: []string{d}})
	}
	var changes []string
	for _, name := range attrs {
		want, ok := x.Attrs[name]
		have := o.Attrs[name]
		if !ok || len(have) == 0 || valuesMatch(have, want) {
			continue
		}
		changes = append(changes, name+": "+showValues(have)+" → "+showValues(want))
	}
	if len(changes) > 0 {
		out = append(out, MassChange{ObjectID: o.ID, DN: dn, Kind: ChangeUpdate, Changes: changes})
	}
	return out
}

// accountDisable is userAccountControl's ACCOUNTDISABLE bit.
const accountDisable = 2

// disables says whether want disables an account that have shows enabled,
// and how.
func disables(have, want connector.Attributes) (string, bool) {
	if w, ok := want["accountEnabled"]; ok && len(w) == 1 && w[0].Type() == connector.Boolean && !w[0].Bool() {
		if h, ok := have.First("accountEnabled"); ok && h.Bool() {
			return "accountEnabled: true → false", true
		}
	}
	if w, ok := want["userAccountControl"]; ok && len(w) == 1 && w[0].Type() == connector.Integer && w[0].Int()&accountDisable != 0 {
		if h, ok := have.First("userAccountControl"); ok && h.Type() == connector.Integer && h.Int()&accountDisable == 0 {
			return fmt.Sprintf("userAccountControl: %d → %d", h.Int(), w[0].Int()), true
		}
	}
	return "", false
}

func showValues(vs []connector.Value) string {
	switch len(vs) {
	case 0:
		return "(none)"
	case 1:
		return vs[0].String()
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
