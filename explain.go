package idbridge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/rules"
)

// ErrInvalidTarget: an ExplainTarget names neither a metaverse entry nor a
// connector-space object, or both.
var ErrInvalidTarget = errors.New("idbridge: invalid explain target")

// ExplainTarget names what Explain explains: a metaverse entry by ID, or a
// connector-space object of Connector by Anchor or by ObjectID (an object
// provisioned but not yet exported has no anchor).
type ExplainTarget struct {
	EntryID   string
	Connector string
	Anchor    connector.Anchor
	ObjectID  string
}

// FlowOutcome says what became of one flow's contribution to an attribute.
type FlowOutcome string

// Outcomes of contributions.
const (
	// OutcomeWon: the contribution sets the attribute (lowest precedence
	// number with a value or an AuthoritativeNull).
	OutcomeWon FlowOutcome = "won"
	// OutcomeMerged: a merge flow's values, merged into the winner's.
	OutcomeMerged FlowOutcome = "merged"
	// OutcomePrecedence: lost to a contribution with a lower precedence
	// number (or, at equal precedence, evaluated first).
	OutcomePrecedence FlowOutcome = "precedence"
	// OutcomeNull: the flow gave no value (Null): no contribution.
	OutcomeNull FlowOutcome = "null"
	// OutcomeIgnored: the flow gave IgnoreThisFlow: no contribution, and
	// when nothing else wins the current value stays.
	OutcomeIgnored FlowOutcome = "ignoreThisFlow"
	// OutcomeKept: the winning flow is apply-once and the attribute has a
	// value already, which stays.
	OutcomeKept FlowOutcome = "applyOnceKept"
	// OutcomeOutOfScope: the object is not in the rule's scope; Values are
	// what the flow would give if it were.
	OutcomeOutOfScope FlowOutcome = "outOfScope"
	// OutcomeNotJoined: the object is in the rule's scope but linked to no
	// metaverse entry (no join matched, no Provision rule projected it).
	OutcomeNotJoined FlowOutcome = "notJoined"
)

// Explanation says how a metaverse entry's attributes get their values,
// and what they make its objects in other connector spaces become: what
// a sync of the object (or of the entry) would do now, without doing it.
// It is JSON-serialisable (connector.Value has a JSON form).
type Explanation struct {
	// The connector-space object asked about; empty for an entry.
	Connector string           `json:"connector,omitempty"`
	ObjectID  string           `json:"objectId,omitempty"`
	Anchor    connector.Anchor `json:"anchor,omitempty"`
	DN        string           `json:"dn,omitempty"`
	// The metaverse entry after sync; empty when the object is linked to
	// none (a disconnector: see Attributes for what it would contribute).
	EntryID   string `json:"entryId,omitempty"`
	EntryType string `json:"entryType,omitempty"`
	// Links are the entry's links after sync.
	Links []ExplainedLink `json:"links,omitempty"`
	// Joins are the join groups the sync tried for the object, when it was
	// not linked (in rule and group order, up to the one that joined).
	Joins []JoinAttempt `json:"joins,omitempty"`
	// Attributes, by name: each metaverse attribute a flow contributes to,
	// with its value after sync and every contribution.
	Attributes []AttributeExplanation `json:"attributes"`
	// Outbound, by connector: what the outbound rules make of the entry
	// and the pending export that results.
	Outbound []OutboundExplanation `json:"outbound,omitempty"`
	// Error is the object error the sync would record ("" when none).
	Error string `json:"error,omitempty"`
}

// ExplainedLink is a link of the entry to a connector-space object.
type ExplainedLink struct {
	Connector string           `json:"connector"`
	ObjectID  string           `json:"objectId"`
	Anchor    connector.Anchor `json:"anchor,omitempty"`
	DN        string           `json:"dn,omitempty"`
	Type      string           `json:"type"` // Provision, Join, StickyJoin
	Rule      string           `json:"rule"`
	Inbound   bool             `json:"inbound"` // a source of the entry (else a target)
}

// JoinAttempt is one join group tried for an unlinked object.
type JoinAttempt struct {
	Rule  string `json:"rule"`
	Group int    `json:"group"` // 1-based, as in CompileError
	// Keys are the group's conditions evaluated on the object: a
	// metaverse attribute and the values looked up (none: the group
	// cannot join).
	Keys []JoinKeyExplanation `json:"keys"`
	// Candidates are the entries found: none, one (joined) or several
	// (ErrAmbiguousJoin).
	Candidates []string `json:"candidates,omitempty"`
}

// JoinKeyExplanation is one join condition evaluated on an object.
type JoinKeyExplanation struct {
	Attr            string            `json:"attr"`
	Values          []connector.Value `json:"values,omitempty"`
	CaseInsensitive bool              `json:"caseInsensitive,omitempty"`
}

// AttributeExplanation explains one metaverse attribute.
type AttributeExplanation struct {
	Name   string            `json:"name"`
	Values []connector.Value `json:"values,omitempty"` // after sync; none when cleared
	// Connector and Rule whose flow won (the entry's Sources); empty when
	// none did.
	Connector string `json:"connector,omitempty"`
	Rule      string `json:"rule,omitempty"`
	// Contributions in precedence order, then those out of scope or not
	// joined.
	Contributions []Contribution `json:"contributions"`
}

// Contribution is one flow's result for one attribute and what became of
// it.
type Contribution struct {
	Connector  string `json:"connector"`
	ObjectID   string `json:"objectId,omitempty"` // the source object (inbound)
	Rule       string `json:"rule"`
	Precedence int    `json:"precedence"`
	// Flow is the flow as written: "expression: …", "source: mail" or
	// "constant: …".
	Flow string `json:"flow"`
	// Result is the flow's NullKind: NotNull, Null, AuthoritativeNull or
	// IgnoreThisFlow.
	Result  string            `json:"result"`
	Values  []connector.Value `json:"values,omitempty"`
	Outcome FlowOutcome       `json:"outcome"`
	Reason  string            `json:"reason"`
}

// OutboundExplanation explains the outbound rules of one connector for the
// entry.
type OutboundExplanation struct {
	Connector string `json:"connector"`
	// The target object after sync (before, when sync deprovisions it);
	// empty when there is none and none is provisioned.
	ObjectID string `json:"objectId,omitempty"`
	DN       string `json:"dn,omitempty"`
	// Rules are the connector's outbound rules for the entry's type, in
	// precedence order, with their scope.
	Rules []RuleScope `json:"rules,omitempty"`
	// Attributes, by name: what each target attribute should be.
	Attributes []OutboundAttribute `json:"attributes,omitempty"`
	// Export is the pending export on the target object after sync; nil
	// when there is nothing to export.
	Export *ExportExplanation `json:"export,omitempty"`
}

// RuleScope says whether a rule has the entry in its scope.
type RuleScope struct {
	Rule       string `json:"rule"`
	Precedence int    `json:"precedence"`
	InScope    bool   `json:"inScope"`
}

// OutboundAttribute explains one attribute of the target object ("dn"
// for its DN).
type OutboundAttribute struct {
	Name string `json:"name"`
	// Values the target should have (references are target object IDs);
	// none when the attribute is cleared or left as it is (Rule empty).
	Values []connector.Value `json:"values,omitempty"`
	Rule   string            `json:"rule,omitempty"` // whose flow won
	// Contributions in precedence order.
	Contributions []Contribution `json:"contributions"`
}

// ExportExplanation is a pending export: what an export would send now.
type ExportExplanation struct {
	Kind      string               `json:"kind"`  // Add, Update, Delete
	State     string               `json:"state"` // Pending, Unconfirmed, Failed, Parked
	DN        string               `json:"dn,omitempty"`
	OldDN     string               `json:"oldDn,omitempty"` // a rename
	Attrs     connector.Attributes `json:"attrs,omitempty"` // Add
	Mods      []ExplainedMod       `json:"mods,omitempty"`  // Update
	Attempts  int                  `json:"attempts,omitempty"`
	LastError string               `json:"lastError,omitempty"`
}

// ExplainedMod is one modification of an Update.
type ExplainedMod struct {
	Name   string            `json:"name"`
	Op     string            `json:"op"` // Add, Remove, Replace
	Values []connector.Value `json:"values,omitempty"`
}

// Explain explains a metaverse entry, or the entry a connector-space object
// is linked to: per attribute, its value, the connector, rule and flow that
// won, and every other contribution with why it lost (precedence, Null,
// IgnoreThisFlow, out of scope, not joined); per outbound connector, the
// rules in scope, what each target attribute should be and why, and the
// pending export that results. Like Preview, it syncs the object (its
// pending import, if any) or re-evaluates the entry inside a transaction
// that is rolled back: it writes nothing. For an object linked to no entry
// after sync, Attributes lists what its rules would contribute and Joins
// the join groups tried. Like the run profiles, it waits for a run in
// progress to end.
//
// An unknown entry or object fails with an error matching
// metaverse.ErrNotFound; a target naming neither or both with
// ErrInvalidTarget.
func (e *Engine) Explain(ctx context.Context, target ExplainTarget) (*Explanation, error) {
	byEntry := target.EntryID != ""
	byObject := target.Connector != "" || target.Anchor != "" || target.ObjectID != ""
	switch {
	case byEntry == byObject:
		return nil, fmt.Errorf("%w: name an entry (EntryID) or an object (Connector and Anchor or ObjectID)", ErrInvalidTarget)
	case byObject && (target.Connector == "" || (target.Anchor == "") == (target.ObjectID == "")):
		return nil, fmt.Errorf("%w: an object needs its Connector and one of Anchor and ObjectID", ErrInvalidTarget)
	}
	if byObject {
		if _, err := e.conn(target.Connector); err != nil {
			return nil, err
		}
	}
	var x *Explanation
	err := e.dryRun(ctx, true, func(s *syncer, w *work) error {
		x = &Explanation{Attributes: []AttributeExplanation{}}
		var before *metaverse.Entry
		entryID := target.EntryID
		if byObject {
			o, err := explainObject(w, target)
			if err != nil {
				return err
			}
			x.Connector, x.ObjectID = o.Connector, o.ID
			if o.EntryID != "" {
				if before, err = w.peekEntry(o.EntryID); err != nil {
					return err
				}
				before = before.Clone()
			}
			objErr, err := s.syncObjectDry(w, o)
			if err != nil {
				return err
			}
			if objErr != nil {
				x.Error = objErr.Error()
			}
			x.Anchor, x.DN = o.Anchor, o.DN
			x.Joins = s.explain.joins[objKey{o.Connector, o.ID}]
			if o.EntryID == "" {
				return s.explain.disconnector(w, x, o)
			}
			entryID = o.EntryID
		} else {
			entry, err := w.entry(entryID)
			if err != nil {
				return err
			}
			if entry == nil {
				return fmt.Errorf("idbridge: explain: no metaverse entry %q: %w", entryID, metaverse.ErrNotFound)
			}
			before = entry.Clone()
			if err := s.recompute(w, entry, nil); err != nil {
				if isFatal(err) {
					return err
				}
				x.Error = err.Error()
			} else if err := s.outbound(w, entry, nil); err != nil {
				if isFatal(err) {
					return err
				}
				x.Error = err.Error()
			}
		}
		entry, err := w.peekEntry(entryID)
		if err != nil {
			return err
		}
		if entry == nil {
			return nil // deleted by the sync
		}
		return s.explain.entry(w, x, before, entry)
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

// explainObject finds the object an ExplainTarget names.
func explainObject(w *work, t ExplainTarget) (*metaverse.CSObject, error) {
	var o *metaverse.CSObject
	var err error
	if t.ObjectID != "" {
		o, err = w.object(t.Connector, t.ObjectID)
	} else {
		o, err = w.objectByAnchor(t.Connector, t.Anchor)
	}
	if err != nil {
		return nil, err
	}
	if o == nil {
		what := "with ID " + strconv.Quote(t.ObjectID)
		if t.Anchor != "" {
			what = "with anchor " + strconv.Quote(string(t.Anchor))
		}
		return nil, fmt.Errorf("idbridge: explain: no object %s in %q: %w", what, t.Connector, metaverse.ErrNotFound)
	}
	return o, nil
}

// explainRec records, during a dry-run sync, how the attributes of each
// entry were decided. The sync calls it only when syncer.explain is set.
type explainRec struct {
	e       *Engine
	rules   *rules.Set                        // the rules of the sync
	flows   map[ruleKey]map[string]rules.Flow // their flows by target
	entries map[string]*entryRec
	joins   map[objKey][]JoinAttempt // by object
}

type ruleKey struct {
	dir        rules.Direction
	conn, rule string
}

// entryRec is what one entry's last recompute and outbound sync decided.
type entryRec struct {
	attrs    map[string][]Contribution
	outbound map[string]*OutboundExplanation
	outAttrs map[string]map[string]*OutboundAttribute // by connector, attribute
}

func newExplainRec(e *Engine, set *rules.Set) *explainRec {
	r := &explainRec{joins: map[objKey][]JoinAttempt{}, e: e, rules: set, flows: map[ruleKey]map[string]rules.Flow{}, entries: map[string]*entryRec{}}
	for _, c := range set.Rules() {
		rule := c.Rule()
		fs := map[string]rules.Flow{}
		for _, f := range rule.Flows {
			fs[f.Target] = f
		}
		r.flows[ruleKey{rule.Direction, rule.Connector, rule.Name}] = fs
	}
	return r
}

// flowText describes the flow of a rule to target as written.
func (r *explainRec) flowText(dir rules.Direction, conn, rule, target string) string {
	f, ok := r.flows[ruleKey{dir, conn, rule}][target]
	switch {
	case !ok:
		return ""
	case f.Expression != "":
		return "expression: " + f.Expression
	case f.Source != "":
		return "source: " + f.Source
	}
	return "constant: " + strconv.Quote(f.Constant)
}

func (r *explainRec) entryRec(id string) *entryRec {
	er := r.entries[id]
	if er == nil {
		er = &entryRec{attrs: map[string][]Contribution{}, outbound: map[string]*OutboundExplanation{}, outAttrs: map[string]map[string]*OutboundAttribute{}}
		r.entries[id] = er
	}
	return er
}

// recomputing starts a new record of the entry's attributes (recompute
// decides them all again).
func (r *explainRec) recomputing(entry *metaverse.Entry) {
	delete(r.entries, entry.ID)
	r.entryRec(entry.ID)
}

// outOfScope records what the flows of rule r would contribute from obj,
// which is not in its scope.
func (r *explainRec) outOfScope(w *work, entry *metaverse.Entry, obj *metaverse.CSObject, c *rules.Compiled, in *rules.Input) {
	er := r.entryRec(entry.ID)
	for _, ct := range r.evaluate(w, obj, c, in, OutcomeOutOfScope, "the object is not in the rule's scope") {
		er.attrs[ct.attr] = append(er.attrs[ct.attr], ct.Contribution)
	}
}

type attrContribution struct {
	attr string
	Contribution
}

// evaluate evaluates rule c's flows on obj for the record (errors are
// left out: only the sync's own evaluation reports them).
func (r *explainRec) evaluate(w *work, obj *metaverse.CSObject, c *rules.Compiled, in *rules.Input, o FlowOutcome, reason string) []attrContribution {
	rule := c.Rule()
	results, _ := c.Flows(w.ctx, in)
	out := make([]attrContribution, 0, len(results))
	for _, fr := range results {
		out = append(out, attrContribution{fr.Target, Contribution{
			Connector: obj.Connector, ObjectID: obj.ID, Rule: rule.Name, Precedence: rule.Precedence,
			Flow: r.flowText(rules.Inbound, rule.Connector, rule.Name, fr.Target), Result: fr.Null.String(),
			Values: slices.Clone(fr.Values), Outcome: o, Reason: reason,
		}})
	}
	return out
}

// decided records one attribute's contributions, sorted by precedence,
// and decide's decision.
func (r *explainRec) decided(entry *metaverse.Entry, cs []contribution, d decision) {
	er := r.entryRec(entry.ID)
	name := cs[0].res.Target
	merging := d.winner >= 0 && cs[d.winner].res.Merge != rules.MergeUpdate && cs[d.winner].res.Null == rules.NotNull
	list := make([]Contribution, 0, len(cs)+len(er.attrs[name]))
	for i, c := range cs {
		ct := Contribution{
			Connector: c.src.Connector, ObjectID: c.obj, Rule: c.src.Rule, Precedence: c.prec,
			Flow: r.flowText(rules.Inbound, c.src.Connector, c.src.Rule, name), Result: c.res.Null.String(), Values: slices.Clone(c.res.Values),
		}
		switch {
		case i == d.winner && d.kept:
			ct.Outcome, ct.Reason = OutcomeKept, "apply-once flow: the attribute has a value already, which stays"
		case i == d.winner && c.res.Null == rules.AuthoritativeNull:
			ct.Outcome, ct.Reason = OutcomeWon, "AuthoritativeNull with the lowest precedence number: clears the attribute"
		case i == d.winner:
			ct.Outcome, ct.Reason = OutcomeWon, "the lowest precedence number with a value"
		case c.res.Null == rules.Null:
			ct.Outcome, ct.Reason = OutcomeNull, "Null: the flow gave no value, so it does not contribute"
		case c.res.Null == rules.IgnoreThisFlow && d.winner < 0 && d.kept:
			ct.Outcome, ct.Reason = OutcomeIgnored, "IgnoreThisFlow: no contribution; no other flow wins, so the current value stays"
		case c.res.Null == rules.IgnoreThisFlow:
			ct.Outcome, ct.Reason = OutcomeIgnored, "IgnoreThisFlow: no contribution"
		case merging && c.res.Merge != rules.MergeUpdate && c.res.Null == rules.NotNull:
			ct.Outcome, ct.Reason = OutcomeMerged, "merge flow: its values are merged with the winner's"
		default:
			w := cs[d.winner]
			ct.Outcome, ct.Reason = OutcomePrecedence, fmt.Sprintf("precedence %d loses to %d (rule %q of %s)", c.prec, w.prec, w.src.Rule, w.src.Connector)
		}
		list = append(list, ct)
	}
	er.attrs[name] = append(list, er.attrs[name]...) // the out-of-scope ones last
}

// joinTried records a join group tried for o and the entries it found.
func (r *explainRec) joinTried(o *metaverse.CSObject, rule *rules.Rule, group int, keys []rules.JoinKey, ids []string) {
	ja := JoinAttempt{Rule: rule.Name, Group: group + 1, Keys: make([]JoinKeyExplanation, len(keys)), Candidates: slices.Clone(ids)}
	for i, k := range keys {
		ja.Keys[i] = JoinKeyExplanation{Attr: k.Attr, Values: slices.Clone(k.Values), CaseInsensitive: k.CaseInsensitive}
	}
	k := objKey{o.Connector, o.ID}
	r.joins[k] = append(r.joins[k], ja)
}

// outboundScope records whether outbound rule c has the entry in scope
// for connName.
func (r *explainRec) outboundScope(entry *metaverse.Entry, connName string, c *rules.Compiled, ok bool) {
	ox := r.outboundRec(entry.ID, connName)
	ox.Rules = append(ox.Rules, RuleScope{Rule: c.Rule().Name, Precedence: c.Rule().Precedence, InScope: ok})
}

func (r *explainRec) outboundRec(entryID, connName string) *OutboundExplanation {
	er := r.entryRec(entryID)
	ox := er.outbound[connName]
	if ox == nil {
		ox = &OutboundExplanation{Connector: connName}
		er.outbound[connName] = ox
		er.outAttrs[connName] = map[string]*OutboundAttribute{}
	}
	return ox
}

// explainOutbound records the outcome of an outbound flow's result, when
// the sync records (syncer.explain); vals are the values it sets (Won) or
// keeps (Kept). It is small enough to be inlined in desired.
func (s *syncer) explainOutbound(entry *metaverse.Entry, connName string, c *rules.Compiled, fr *rules.FlowResult, o FlowOutcome, vals []connector.Value) {
	if s.explain != nil {
		s.explain.outboundFlow(entry, connName, c, fr, o, vals)
	}
}

func (r *explainRec) outboundFlow(entry *metaverse.Entry, connName string, c *rules.Compiled, fr *rules.FlowResult, o FlowOutcome, vals []connector.Value) {
	r.outboundRec(entry.ID, connName)
	attrs := r.entries[entry.ID].outAttrs[connName]
	oa := attrs[fr.Target]
	if oa == nil {
		oa = &OutboundAttribute{Name: fr.Target, Contributions: []Contribution{}}
		attrs[fr.Target] = oa
	}
	rule := c.Rule()
	ct := Contribution{Connector: connName, Rule: rule.Name, Precedence: rule.Precedence,
		Flow: r.flowText(rules.Outbound, rule.Connector, rule.Name, fr.Target), Result: fr.Null.String(), Values: slices.Clone(fr.Values), Outcome: o}
	switch o {
	case OutcomeWon:
		oa.Values, oa.Rule = slices.Clone(vals), rule.Name
		ct.Reason = "the lowest precedence number with a value"
		if fr.Null == rules.AuthoritativeNull {
			ct.Reason = "AuthoritativeNull with the lowest precedence number: clears the attribute"
		}
	case OutcomeKept:
		oa.Rule = rule.Name
		ct.Reason = "apply-once flow: the target has a value already, which stays"
	case OutcomeNull:
		ct.Reason = "Null: no contribution; when no flow wins, the attribute is cleared"
	case OutcomeIgnored:
		ct.Reason = "IgnoreThisFlow: no contribution; when no flow wins, the target's value stays"
	case OutcomePrecedence:
		ct.Reason = "a flow of a rule with a lower precedence number decided the attribute"
		for _, p := range oa.Contributions {
			if p.Outcome == OutcomeWon || p.Outcome == OutcomeKept {
				ct.Reason = fmt.Sprintf("precedence %d loses to %d (rule %q)", rule.Precedence, p.Precedence, p.Rule)
				break
			}
		}
	}
	oa.Contributions = append(oa.Contributions, ct)
}

// disconnector fills x for an object linked to no entry: what each of
// its rules would contribute.
func (r *explainRec) disconnector(w *work, x *Explanation, o *metaverse.CSObject) error {
	if o.Pending == metaverse.ImportDelete {
		return nil
	}
	in := inputOf(o)
	byAttr := map[string][]Contribution{}
	for _, c := range r.rules.Inbound(o.Connector, o.Type) {
		ok, err := c.InScope(w.ctx, in)
		if err != nil {
			continue // the sync reported it (Explanation.Error)
		}
		outcome, reason := OutcomeNotJoined, "the object is linked to no metaverse entry: no join group found exactly one entry (see Joins) and no Provision rule projected it"
		if !ok {
			outcome, reason = OutcomeOutOfScope, "the object is not in the rule's scope"
		}
		for _, ct := range r.evaluate(w, o, c, in, outcome, reason) {
			byAttr[ct.attr] = append(byAttr[ct.attr], ct.Contribution)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byAttr)) {
		x.Attributes = append(x.Attributes, AttributeExplanation{Name: name, Contributions: byAttr[name]})
	}
	return nil
}

// entry fills x from the record of entry (after sync; before is the entry
// before, nil when new).
func (r *explainRec) entry(w *work, x *Explanation, before, entry *metaverse.Entry) error {
	x.EntryID, x.EntryType = entry.ID, entry.Type
	for _, l := range entry.Links {
		el := ExplainedLink{Connector: l.Connector, ObjectID: l.ObjectID, Type: l.Type.String(), Rule: l.Rule, Inbound: l.Inbound}
		o, err := w.peekObject(l.Connector, l.ObjectID)
		if err != nil {
			return err
		}
		if o != nil {
			el.Anchor, el.DN = o.Anchor, o.DN
		}
		x.Links = append(x.Links, el)
	}
	er := r.entryRec(entry.ID)
	names := slices.Collect(maps.Keys(er.attrs))
	for name := range entry.Attrs {
		if _, ok := er.attrs[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		ax := AttributeExplanation{Name: name, Values: entry.Attrs[name], Contributions: er.attrs[name]}
		if ax.Contributions == nil {
			ax.Contributions = []Contribution{}
		}
		if src, ok := entry.Sources[name]; ok {
			ax.Connector, ax.Rule = src.Connector, src.Rule
		}
		x.Attributes = append(x.Attributes, ax)
	}
	// Outbound: every connector a rule was evaluated for, and every
	// target the entry had or has.
	conns := map[string]bool{}
	for c := range er.outbound {
		conns[c] = true
	}
	targets := map[string]metaverse.Link{}
	for _, e := range []*metaverse.Entry{before, entry} {
		if e == nil {
			continue
		}
		for _, l := range e.Links {
			if !l.Inbound {
				conns[l.Connector] = true
				if _, ok := targets[l.Connector]; !ok || e == entry {
					targets[l.Connector] = l
				}
			}
		}
	}
	for _, c := range slices.Sorted(maps.Keys(conns)) {
		ox := er.outbound[c]
		if ox == nil {
			ox = &OutboundExplanation{Connector: c}
		}
		for _, name := range slices.Sorted(maps.Keys(er.outAttrs[c])) {
			ox.Attributes = append(ox.Attributes, *er.outAttrs[c][name])
		}
		if l, ok := targets[c]; ok {
			t, err := w.peekObject(c, l.ObjectID)
			if err != nil {
				return err
			}
			if t != nil {
				ox.ObjectID, ox.DN = t.ID, cmp.Or(t.DN, exportDN(t))
				if t.Export != nil {
					pe, err := pendingExportOf(w, r.e.conns[c], t)
					if err != nil {
						return err
					}
					ox.Export = explainExport(pe, t.Export)
				}
			}
		}
		x.Outbound = append(x.Outbound, *ox)
	}
	return nil
}

func exportDN(t *metaverse.CSObject) string {
	if t.Export != nil {
		return t.Export.DN
	}
	return ""
}

func explainExport(pe PendingExport, x *metaverse.Export) *ExportExplanation {
	ch := pe.Change
	ee := &ExportExplanation{Kind: ch.Kind.String(), State: pe.State.String(), DN: ch.DN, OldDN: ch.OldDN, Attrs: ch.Attrs,
		Attempts: x.Attempts, LastError: x.LastError}
	for _, m := range ch.Mods {
		ee.Mods = append(ee.Mods, ExplainedMod{Name: m.Name, Op: m.Op.String(), Values: m.Values})
	}
	return ee
}
