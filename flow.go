package idbridge

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/rules"
)

// contribution is one inbound flow's result for one metaverse attribute.
type contribution struct {
	prec int
	seq  int // evaluation order, to keep ties stable
	src  metaverse.Source
	res  rules.FlowResult
	obj  string // the contributing object's ID
}

// recompute sets an entry's attributes from every object linked to it:
// for each attribute, the in-scope inbound flow with the lowest precedence
// number wins (Entra Connect's precedence), Merge flows take the union of
// their contributors, apply-once flows keep a value once set, and an
// attribute no longer contributed by anyone is recalled (cleared).
// current is the object being synced (its copy in w), or nil.
func (s *syncer) recompute(w *work, entry *metaverse.Entry, current *metaverse.CSObject) error {
	// The contributions slice is reused from entry to entry (growing it
	// anew was a tenth of a full sync's allocations); taken, not shared,
	// in case of re-entry.
	all := s.contribs[:0]
	s.contribs = nil
	defer func() {
		clear(all)
		s.contribs = all[:0]
	}()
	if s.explain != nil {
		s.explain.recomputing(entry)
	}
	for _, l := range entry.Links {
		var obj *metaverse.CSObject
		if current != nil && l.Connector == current.Connector && l.ObjectID == current.ID {
			obj = current
		} else {
			var err error
			if obj, err = w.object(l.Connector, l.ObjectID); err != nil {
				return err
			}
		}
		if obj == nil || obj.Pending == metaverse.ImportDelete || obj.Anchor == "" {
			continue
		}
		in := inputOf(obj)
		for _, r := range s.rules.Inbound(obj.Connector, obj.Type) {
			rule := r.Rule()
			if rule.TargetType != entry.Type {
				continue
			}
			ok, err := r.InScope(w.ctx, in)
			if err != nil {
				return s.objErr(obj, "scope", fmt.Errorf("rule %q: %w", rule.Name, err))
			}
			if !ok {
				if s.explain != nil {
					s.explain.outOfScope(w, entry, obj, r, in)
				}
				continue
			}
			results, err := r.Flows(w.ctx, in)
			if err != nil {
				return s.objErr(obj, "flow", err)
			}
			for _, fr := range results {
				vals, err := s.toMetaverse(w, obj, fr.Values, current)
				if err != nil {
					return err
				}
				fr.Values = vals
				all = append(all, contribution{prec: rule.Precedence, seq: len(all), src: metaverse.Source{Connector: obj.Connector, Rule: rule.Name}, res: fr, obj: obj.ID})
			}
		}
	}
	// One sort groups contributions by attribute, lowest precedence first.
	slices.SortFunc(all, func(a, b contribution) int {
		return cmp.Or(strings.Compare(a.res.Target, b.res.Target), cmp.Compare(a.prec, b.prec), cmp.Compare(a.seq, b.seq))
	})
	attrs := make(connector.Attributes, len(all))
	sources := make(map[string]metaverse.Source, len(all))
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].res.Target == all[i].res.Target {
			j++
		}
		d := s.decide(entry, all[i:j], attrs, sources)
		if s.explain != nil {
			s.explain.decided(entry, all[i:j], d)
		}
		i = j
	}
	if attrs.Equal(entry.Attrs) && maps.Equal(sources, entry.Sources) {
		return nil
	}
	if len(entry.Attrs) > 0 || len(entry.Sources) > 0 {
		s.res.MetaverseUpdates++
	}
	entry.Attrs, entry.Sources, entry.Updated = attrs, sources, s.e.opts.Now()
	w.putEntry(entry)
	return nil
}

// decision is what decide made of one attribute's contributions.
type decision struct {
	winner int // index of the winning contribution; -1 when none won
	// kept: the current value stays, because an IgnoreThisFlow flow and
	// no winner (winner -1), or an apply-once winner and a current value.
	kept bool
}

// decide sets one attribute from its contributions, sorted by precedence:
// the first NotNull or AuthoritativeNull contribution wins.
func (s *syncer) decide(entry *metaverse.Entry, cs []contribution, attrs connector.Attributes, sources map[string]metaverse.Source) decision {
	name := cs[0].res.Target
	d := decision{winner: -1}
	keep := false
pick:
	for i := range cs {
		switch cs[i].res.Null {
		case rules.NotNull, rules.AuthoritativeNull:
			d.winner = i
			break pick
		case rules.IgnoreThisFlow:
			keep = true
		}
	}
	var winner *contribution
	if d.winner >= 0 {
		winner = &cs[d.winner]
	}
	switch {
	case winner == nil && keep:
		d.kept = true
		if old := entry.Attrs[name]; len(old) > 0 {
			attrs[name] = old
			if src, ok := entry.Sources[name]; ok {
				sources[name] = src
			}
		}
	case winner == nil:
		// Only Null contributions: no value.
	case winner.res.Null == rules.AuthoritativeNull:
		sources[name] = winner.src
	case winner.res.ApplyOnce && len(entry.Attrs[name]) > 0:
		d.kept = true
		attrs[name] = entry.Attrs[name]
		sources[name] = cmp.Or(entry.Sources[name], winner.src)
	default:
		vals := winner.res.Values
		if winner.res.Merge != rules.MergeUpdate {
			vals = merge(cs, winner.res.Merge)
		}
		if len(vals) > 0 {
			attrs[name] = vals
		}
		sources[name] = winner.src
	}
	return d
}

// merge returns the union of the values of every contribution with a
// merge type, without duplicates (case-insensitively for
// MergeCaseInsensitive), in precedence order.
func merge(cs []contribution, mt rules.MergeType) []connector.Value {
	var out []connector.Value
	seen := map[string]bool{}
	for _, c := range cs {
		if c.res.Null != rules.NotNull || c.res.Merge == rules.MergeUpdate {
			continue
		}
		for _, v := range c.res.Values {
			k := v.Key()
			if mt == rules.MergeCaseInsensitive {
				k = strings.ToLower(k)
			}
			k = v.Type().String() + "\x00" + k
			if !seen[k] {
				seen[k] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// toMetaverse turns references to objects of obj's connector space into
// references to the entries those objects are linked to. A reference to an
// object not (yet) linked is dropped, and the object being synced is synced
// again at the end of the run, when its target may have been projected.
func (s *syncer) toMetaverse(w *work, obj *metaverse.CSObject, vals []connector.Value, current *metaverse.CSObject) ([]connector.Value, error) {
	if len(vals) == 0 || vals[0].Type() != connector.Reference {
		return vals, nil
	}
	out := make([]connector.Value, 0, len(vals))
	for _, v := range vals {
		a, dn := v.Ref()
		var entryID string
		if a != "" {
			id, _, err := w.linkedEntry(obj.Connector, a)
			if err != nil {
				return nil, err
			}
			entryID = id
		} else if dn != "" {
			t, err := w.objectByDN(obj.Connector, dn)
			if err != nil {
				return nil, err
			}
			if t != nil {
				entryID = t.EntryID
			}
		}
		if entryID == "" {
			if current != nil {
				s.retryLater(current)
				if a != "" {
					s.waitFor(w, current, obj.Connector, waitAnchor, string(a))
				} else {
					s.waitFor(w, current, obj.Connector, waitDN, connector.FoldDN(dn))
				}
			}
			continue
		}
		out = append(out, connector.RefValue(connector.Anchor(entryID), ""))
	}
	return out, nil
}

// equalFold compares strings case-insensitively.
func equalFold(a, b string) bool {
	if utf8.ValidString(a) && utf8.ValidString(b) {
		return strings.EqualFold(a, b)
	}
	return a == b
}
