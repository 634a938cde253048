package admin

import (
	"context"
	"errors"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
)

// Explainer is the capability behind the lineage of the object and entry
// pages: per attribute, every flow that contributed and why it won or
// lost, and what the outbound rules make of the entry. Without it the
// pages show only the stored lineage (the winning connector and rule of
// each attribute, the links).
type Explainer interface {
	Explain(ctx context.Context, target idbridge.ExplainTarget) (*idbridge.Explanation, error)
}

var _ Explainer = (*idbridge.Engine)(nil)

// explainView is an Explanation as shown, with the values of hidden
// attributes removed.
type explainView struct {
	Error      string // why there is no explanation ("" when there is one)
	EntryID    string
	SyncError  string
	Attributes []explainedAttr
	Outbound   []explainedOutbound
	Joins      []explainedJoin // the join groups tried for an unlinked object
}

type explainedJoin struct {
	Rule       string
	Group      int
	Keys       []modRow // each condition: the metaverse attribute and the values looked up
	Candidates []string // the entries found
}

type explainedAttr struct {
	Name          string
	Hidden        bool
	Values        []string
	Connector     string
	Rule          string
	Contributions []explainedContribution
}

type explainedContribution struct {
	idbridge.Contribution
	Values []string
	Won    bool
}

type explainedOutbound struct {
	Connector, ObjectID, DN string
	Rules                   []idbridge.RuleScope
	Attributes              []explainedAttr
	Export                  *idbridge.ExportExplanation
	ExportMods              []modRow
}

// explain explains target when the Source can, nil otherwise. A failure
// is shown on the page rather than failing it: the stored lineage is
// still worth reading.
func (h *Handler) explain(ctx context.Context, target idbridge.ExplainTarget) *explainView {
	ex, ok := h.src.(Explainer)
	if !ok {
		return nil
	}
	x, err := ex.Explain(ctx, target)
	if err != nil {
		h.log.WarnContext(ctx, "admin: explain failed", "connector", target.Connector, "object", target.ObjectID, "entry", target.EntryID, "err", err)
		msg := "The explanation could not be computed; the log has the error."
		if errors.Is(err, context.Canceled) {
			msg = "The explanation was cancelled."
		}
		return &explainView{Error: msg}
	}
	v := &explainView{EntryID: x.EntryID, SyncError: x.Error}
	for _, j := range x.Joins {
		ej := explainedJoin{Rule: j.Rule, Group: j.Group, Candidates: j.Candidates}
		for _, k := range j.Keys {
			m := h.modRow(k.Attr, k.Values)
			if k.CaseInsensitive {
				m.Op = "case-insensitive"
			}
			ej.Keys = append(ej.Keys, m)
		}
		v.Joins = append(v.Joins, ej)
	}
	for _, a := range x.Attributes {
		v.Attributes = append(v.Attributes, h.explainedAttr(a.Name, a.Values, a.Connector, a.Rule, a.Contributions))
	}
	for _, o := range x.Outbound {
		eo := explainedOutbound{Connector: o.Connector, ObjectID: o.ObjectID, DN: o.DN, Rules: o.Rules, Export: o.Export}
		for _, a := range o.Attributes {
			eo.Attributes = append(eo.Attributes, h.explainedAttr(a.Name, a.Values, "", a.Rule, a.Contributions))
		}
		if o.Export != nil {
			c := *o.Export
			c.Attrs = nil // shown through ExportMods, hidden values removed
			eo.Export = &c
			for _, name := range sortedKeys(o.Export.Attrs) {
				m := h.modRow(name, o.Export.Attrs[name])
				m.Op = "set"
				eo.ExportMods = append(eo.ExportMods, m)
			}
			for _, mod := range o.Export.Mods {
				m := h.modRow(mod.Name, mod.Values)
				m.Op = mod.Op
				eo.ExportMods = append(eo.ExportMods, m)
			}
		}
		v.Outbound = append(v.Outbound, eo)
	}
	return v
}

func (h *Handler) explainedAttr(name string, values []connector.Value, conn, rule string, cs []idbridge.Contribution) explainedAttr {
	a := explainedAttr{Name: name, Hidden: h.opts.HideAttribute(name), Connector: conn, Rule: rule}
	if !a.Hidden {
		a.Values = valueStrings(values)
	}
	for _, c := range cs {
		ec := explainedContribution{Contribution: c, Won: c.Outcome == idbridge.OutcomeWon || c.Outcome == idbridge.OutcomeMerged}
		ec.Contribution.Values = nil
		if !a.Hidden {
			ec.Values = valueStrings(c.Values)
		}
		a.Contributions = append(a.Contributions, ec)
	}
	return a
}

func valueStrings(vs []connector.Value) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.String())
	}
	return out
}
