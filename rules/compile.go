package rules

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// DefaultCostLimit is the cost limit of one evaluation of one expression
// when Options.CostLimit is 0. One unit is roughly one operation; a string
// operation costs one unit per ten bytes.
const DefaultCostLimit = 100_000

// DNTarget is the special flow target of outbound rules that sets the DN of
// provisioned and renamed objects.
const DNTarget = "dn"

// Schemas are the schemas rules are type-checked against.
type Schemas struct {
	Metaverse  *connector.Schema
	Connectors map[string]*connector.Schema // by connector name
}

// Options tune Compile. The zero value is ready to use.
type Options struct {
	// Evaluator compiles expressions; nil means NewCEL().
	Evaluator Evaluator
	// CostLimit bounds the cost of each evaluation of each expression; 0
	// means DefaultCostLimit.
	CostLimit uint64
}

// MaxCostLimit is the largest Options.CostLimit: about a second of
// evaluation for one expression on one object, beyond which a rule file
// could stall a sync run rather than fail with ErrCostLimit.
const MaxCostLimit = 100_000_000

// ErrInvalidOptions: Options that Compile cannot use; Options.Validate
// says which field and why.
var ErrInvalidOptions = errors.New("rules: invalid options")

// Validate reports whether the options are usable: CostLimit at most
// MaxCostLimit, and an Evaluator that is nil (CEL) or not a nil pointer.
// Compile calls it. The errors match ErrInvalidOptions.
func (o Options) Validate() error {
	var errs []error
	if o.CostLimit > MaxCostLimit {
		errs = append(errs, fmt.Errorf("%w: CostLimit %d is above MaxCostLimit (%d)", ErrInvalidOptions, o.CostLimit, MaxCostLimit))
	}
	if o.Evaluator != nil {
		if v := reflect.ValueOf(o.Evaluator); v.Kind() == reflect.Pointer && v.IsNil() {
			errs = append(errs, fmt.Errorf("%w: Evaluator is a nil %T (leave it nil for CEL)", ErrInvalidOptions, o.Evaluator))
		}
	}
	return errors.Join(errs...)
}

// Set is a compiled, type-checked set of rules. It is immutable and safe
// for concurrent use.
type Set struct {
	metaverse  *connector.Schema
	all        []*Compiled
	inbound    map[[2]string][]*Compiled
	outbound   map[string][]*Compiled
	connectors []string
	joinAttrs  []string
}

// Compiled is one compiled rule. It is immutable and safe for concurrent
// use.
type Compiled struct {
	rule   Rule
	scope  Program
	joins  [][]compiledJoin
	flows  []compiledFlow
	deprov []compiledFlow
}

type compiledJoin struct {
	attr            string
	prg             Program
	caseInsensitive bool
}

type flowKind uint8

const (
	flowExpr flowKind = iota
	flowDirect
	flowConst
)

type compiledFlow struct {
	target    string
	kind      flowKind
	prg       Program            // flowExpr
	source    string             // flowDirect
	srcType   connector.AttrType // flowDirect
	constant  []connector.Value  // flowConst
	applyOnce bool
	merge     MergeType
}

// Rule returns the rule. The caller must not modify it.
func (c *Compiled) Rule() *Rule { return &c.rule }

// Rules returns the enabled rules, inbound then outbound, each by
// ascending precedence (file order for equal precedences).
func (s *Set) Rules() []*Compiled { return slices.Clone(s.all) }

// Inbound returns the enabled inbound rules of a connector's object type,
// by ascending precedence. The slice is shared: do not modify it.
func (s *Set) Inbound(connectorName, sourceType string) []*Compiled {
	return s.inbound[[2]string{connectorName, sourceType}]
}

// Outbound returns the enabled outbound rules whose source is the metaverse
// object type mvType, by ascending precedence. The slice is shared: do not
// modify it.
func (s *Set) Outbound(mvType string) []*Compiled { return s.outbound[mvType] }

// Connectors returns the names of the connectors the enabled rules use,
// sorted.
func (s *Set) Connectors() []string { return slices.Clone(s.connectors) }

// Metaverse returns the metaverse schema.
func (s *Set) Metaverse() *connector.Schema { return s.metaverse }

// JoinAttributes returns the metaverse attributes join conditions look up,
// sorted; stores index them.
func (s *Set) JoinAttributes() []string { return slices.Clone(s.joinAttrs) }

// Compile type-checks rules against schemas and compiles their
// expressions. Disabled rules are neither checked nor kept. It returns
// every error found, joined; each is a *CompileError. The rules are
// copied; the schemas are kept and must not be modified afterwards.
func Compile(rules []Rule, schemas Schemas, opts Options) (*Set, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Evaluator == nil {
		opts.Evaluator = NewCEL()
	}
	if opts.CostLimit == 0 {
		opts.CostLimit = DefaultCostLimit
	}
	c := &compiler{opts: opts, schemas: schemas}
	if schemas.Metaverse == nil {
		return nil, fmt.Errorf("%w: no metaverse schema", ErrInvalidRule)
	}
	if err := schemas.Metaverse.Validate(); err != nil {
		return nil, fmt.Errorf("%w: metaverse schema: %w", ErrInvalidRule, err)
	}
	s := &Set{
		metaverse: schemas.Metaverse,
		inbound:   map[[2]string][]*Compiled{},
		outbound:  map[string][]*Compiled{},
	}
	names := map[string]Position{}
	conns := map[string]bool{}
	joins := map[string]bool{}
	for i := range rules {
		r := &rules[i]
		if r.Disabled {
			continue
		}
		if r.Name == "" {
			c.errorf(r, "", "", "rule has no name")
		} else if p, dup := names[r.Name]; dup {
			c.errorf(r, "", "", "rule name already used at %s", p)
		}
		names[r.Name] = r.Pos
		cr := c.rule(r)
		if cr == nil {
			continue
		}
		s.all = append(s.all, cr)
		conns[r.Connector] = true
		for _, g := range cr.joins {
			for _, j := range g {
				joins[j.attr] = true
			}
		}
	}
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	slices.SortStableFunc(s.all, func(a, b *Compiled) int {
		return cmp.Or(cmp.Compare(a.rule.Direction, b.rule.Direction), cmp.Compare(a.rule.Precedence, b.rule.Precedence))
	})
	for _, cr := range s.all {
		if cr.rule.Direction == Inbound {
			k := [2]string{cr.rule.Connector, cr.rule.SourceType}
			s.inbound[k] = append(s.inbound[k], cr)
		} else {
			s.outbound[cr.rule.SourceType] = append(s.outbound[cr.rule.SourceType], cr)
		}
	}
	s.connectors = slices.Sorted(func(yield func(string) bool) {
		for k := range conns {
			if !yield(k) {
				return
			}
		}
	})
	for k := range joins {
		s.joinAttrs = append(s.joinAttrs, k)
	}
	slices.Sort(s.joinAttrs)
	return s, nil
}

type compiler struct {
	opts    Options
	schemas Schemas
	errs    []error
}

func (c *compiler) add(pos Position, r *Rule, where, expr string, err error) {
	c.errs = append(c.errs, &CompileError{Pos: pos, Rule: r.Name, Where: where, Expr: expr, Err: err})
}

func (c *compiler) errorf(r *Rule, where, expr, format string, args ...any) {
	c.add(r.Pos, r, where, expr, fmt.Errorf(format, args...))
}

func (c *compiler) rule(r *Rule) *Compiled {
	nerr := len(c.errs)
	cs, ok := c.schemas.Connectors[r.Connector]
	if !ok || cs == nil {
		c.errorf(r, "", "", "unknown connector %q", r.Connector)
		return nil
	}
	var src, tgt *connector.ObjectType
	var srcName, tgtName string
	var srcOK, tgtOK bool
	switch r.Direction {
	case Inbound:
		src, srcOK = cs.Type(r.SourceType)
		tgt, tgtOK = c.schemas.Metaverse.Type(r.TargetType)
		srcName, tgtName = r.Connector+"."+r.SourceType, "metaverse."+r.TargetType
		if !srcOK {
			c.errorf(r, "", "", "connector %q has no object type %q", r.Connector, r.SourceType)
		}
		if !tgtOK {
			c.errorf(r, "", "", "the metaverse has no object type %q", r.TargetType)
		}
		if r.Deprovision != DeprovisionDelete || len(r.DeprovisionFlows) > 0 {
			c.errorf(r, "", "", "deprovision is for outbound rules only")
		}
	case Outbound:
		src, srcOK = c.schemas.Metaverse.Type(r.SourceType)
		tgt, tgtOK = cs.Type(r.TargetType)
		srcName, tgtName = "metaverse."+r.SourceType, r.Connector+"."+r.TargetType
		if !srcOK {
			c.errorf(r, "", "", "the metaverse has no object type %q", r.SourceType)
		}
		if !tgtOK {
			c.errorf(r, "", "", "connector %q has no object type %q", r.Connector, r.TargetType)
		}
		if len(r.Join) > 0 {
			c.errorf(r, "", "", "join is for inbound rules only")
		}
		if len(r.DeprovisionFlows) > 0 && r.Deprovision != DeprovisionDisable {
			c.errorf(r, "", "", "deprovision flows need deprovision: disable")
		}
	default:
		c.errorf(r, "", "", "invalid direction %v", r.Direction)
		return nil
	}
	if r.LinkType != 0 && !slices.Contains([]metaverse.LinkType{metaverse.Provision, metaverse.Join, metaverse.StickyJoin}, r.LinkType) {
		c.errorf(r, "", "", "invalid link type %v", r.LinkType)
	}
	if !srcOK || !tgtOK {
		return nil
	}
	out := &Compiled{rule: cloneRule(r)}
	env := Env{Source: src, SourceName: srcName, CostLimit: c.opts.CostLimit}
	if r.Scope != "" {
		e := env
		e.Result = ResultType{Type: connector.Boolean}
		out.scope = c.expr(r.scopePos(), r, "scope", r.Scope, &e)
	}
	for gi, g := range r.Join {
		if len(g.Conditions) == 0 {
			c.errorf(r, fmt.Sprintf("join group %d", gi+1), "", "join group has no conditions")
		}
		var cg []compiledJoin
		for ci, jc := range g.Conditions {
			where := fmt.Sprintf("join group %d condition %d", gi+1, ci+1)
			pos := cmp.Or(jc.Pos, r.Pos)
			a, ok := tgt.Attr(jc.Target)
			if !ok {
				c.add(pos, r, where, "", fmt.Errorf("metaverse type %q has no attribute %q", r.TargetType, jc.Target))
				continue
			}
			if jc.Source == "" {
				c.add(pos, r, where, "", errors.New("join condition has no source expression"))
				continue
			}
			e := env
			e.Result = ResultType{Type: a.Type, Multi: true}
			cg = append(cg, compiledJoin{attr: jc.Target, prg: c.expr(pos, r, where, jc.Source, &e), caseInsensitive: jc.CaseInsensitive})
		}
		out.joins = append(out.joins, cg)
	}
	env.Target, env.TargetName = nil, ""
	if r.Direction == Outbound {
		env.Target, env.TargetName = tgt, tgtName
	}
	out.flows = c.flows(r, "flow", r.Flows, src, tgt, &env)
	out.deprov = c.flows(r, "deprovision flow", r.DeprovisionFlows, src, tgt, &env)
	if len(c.errs) > nerr {
		return nil
	}
	return out
}

// cloneRule copies r deeply so that a Compiled does not share slices with
// its caller.
func cloneRule(r *Rule) Rule {
	c := *r
	c.Flows = slices.Clone(r.Flows)
	c.DeprovisionFlows = slices.Clone(r.DeprovisionFlows)
	c.Join = slices.Clone(r.Join)
	for i := range c.Join {
		c.Join[i].Conditions = slices.Clone(c.Join[i].Conditions)
	}
	return c
}

func (c *compiler) expr(pos Position, r *Rule, where, expr string, env *Env) Program {
	p, err := c.opts.Evaluator.Compile(expr, env)
	if err != nil {
		c.add(pos, r, where, expr, err)
		return nil
	}
	return p
}

func (c *compiler) flows(r *Rule, what string, flows []Flow, src, tgt *connector.ObjectType, env *Env) []compiledFlow {
	var out []compiledFlow
	seen := map[string]bool{}
	for _, f := range flows {
		where := what + " " + f.Target
		pos := cmp.Or(f.Pos, r.Pos)
		fail := func(format string, args ...any) {
			c.add(pos, r, where, f.Expression, fmt.Errorf(format, args...))
		}
		if f.Target == "" {
			fail("flow has no target")
			continue
		}
		if seen[f.Target] {
			fail("target %q set twice in this rule", f.Target)
			continue
		}
		seen[f.Target] = true
		var ta connector.Attribute
		if f.Target == DNTarget && r.Direction == Outbound {
			ta = connector.Attribute{Name: DNTarget, Type: connector.String}
		} else if a, ok := tgt.Attr(f.Target); ok {
			ta = *a
		} else {
			fail("target type %q has no attribute %q", r.TargetType, f.Target)
			continue
		}
		if ta.ReadOnly {
			fail("attribute %q is read-only", f.Target)
		}
		if f.Merge != MergeUpdate && !ta.Multi {
			fail("merge %v needs a multi-valued target", f.Merge)
		}
		if f.Merge == MergeCaseInsensitive && ta.Type != connector.String {
			fail("merge %v needs a string target", f.Merge)
		}
		n := 0
		for _, set := range []bool{f.Expression != "", f.Source != "", f.HasConstant} {
			if set {
				n++
			}
		}
		if n != 1 {
			fail("a flow needs exactly one of expression, source and constant")
			continue
		}
		cf := compiledFlow{target: f.Target, applyOnce: f.ApplyOnce, merge: f.Merge}
		switch {
		case f.Expression != "":
			e := *env
			e.Result = ResultType{Type: ta.Type, Multi: ta.Multi}
			cf.kind = flowExpr
			if cf.prg = c.expr(pos, r, where, f.Expression, &e); cf.prg == nil {
				continue
			}
		case f.Source != "":
			sa, ok := src.Attr(f.Source)
			if !ok {
				fail("source type %q has no attribute %q", r.SourceType, f.Source)
				continue
			}
			if sa.Type != ta.Type {
				fail("source attribute %q is a %s, target %q a %s: use an expression to convert", f.Source, sa.Type, f.Target, ta.Type)
				continue
			}
			if sa.Multi && !ta.Multi {
				fail("source attribute %q is multi-valued, target %q is not: use an expression", f.Source, f.Target)
				continue
			}
			cf.kind, cf.source, cf.srcType = flowDirect, f.Source, sa.Type
		default:
			v, err := parseConstant(f.Constant, ta.Type)
			if err != nil {
				fail("constant %q: %v", f.Constant, err)
				continue
			}
			cf.kind = flowConst
			if !v.IsZero() {
				cf.constant = []connector.Value{v}
			}
		}
		out = append(out, cf)
	}
	return out
}

// parseConstant converts a constant to a value of type t; "" is no value
// for strings and bytes.
func parseConstant(s string, t connector.AttrType) (connector.Value, error) {
	switch t {
	case connector.String:
		if s == "" {
			return connector.Value{}, nil
		}
		return connector.StringValue(s), nil
	case connector.Reference:
		if s == "" {
			return connector.Value{}, nil
		}
		return toValue(s, t), nil
	case connector.Bytes:
		b, err := base64Decode(s)
		if err != nil || len(b) == 0 {
			return connector.Value{}, err
		}
		return connector.BytesValue(b), nil
	case connector.Integer:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 0, 64)
		if err != nil {
			return connector.Value{}, errors.New("not an integer")
		}
		return connector.IntValue(n), nil
	case connector.Boolean:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return connector.Value{}, errors.New("not a boolean")
		}
		return connector.BoolValue(b), nil
	case connector.Time:
		tm, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
		if err != nil {
			return connector.Value{}, errors.New("not an RFC 3339 time")
		}
		return connector.TimeValue(tm), nil
	}
	return connector.Value{}, fmt.Errorf("invalid type %v", t)
}

// InScope reports whether the object is in the rule's scope.
func (c *Compiled) InScope(ctx context.Context, in *Input) (bool, error) {
	if c.scope == nil {
		return true, nil
	}
	var buf [1]connector.Value
	vs, kind, err := c.scope.Eval(ctx, in, buf[:0])
	if err != nil {
		return false, &EvalError{Rule: c.rule.Name, Target: "scope", Err: err}
	}
	if kind != NotNull || len(vs) != 1 {
		return false, &EvalError{Rule: c.rule.Name, Target: "scope", Err: fmt.Errorf("%w: scope gave no boolean (%v)", ErrEval, kind)}
	}
	return vs[0].Bool(), nil
}

// JoinKeys evaluates the conditions of join group group (0-based) on the
// object, one JoinKey per condition. A key with no Values (the expression
// gave null, an empty string or an empty list) means the object cannot
// join with this group.
func (c *Compiled) JoinKeys(ctx context.Context, in *Input, group int) ([]JoinKey, error) {
	if group < 0 || group >= len(c.joins) {
		return nil, fmt.Errorf("rules: rule %q has no join group %d", c.rule.Name, group)
	}
	g := c.joins[group]
	keys := make([]JoinKey, len(g))
	for i, j := range g {
		vs, _, err := j.prg.Eval(ctx, in, nil)
		if err != nil {
			return nil, &EvalError{Rule: c.rule.Name, Target: "join " + j.attr, Err: err}
		}
		keys[i] = JoinKey{Attr: j.attr, Values: vs, CaseInsensitive: j.caseInsensitive}
	}
	return keys, nil
}

// Flows evaluates the rule's flows on the object, in rule order. When
// some flows fail, Flows returns the results of the others together with
// the errors, joined, each an *EvalError naming the rule and the target;
// a caller that cannot use partial results must treat any error as
// failure of the whole object.
//
// Results share one backing array; their Values may be kept but not
// appended to in place beyond their length (their capacity is capped).
func (c *Compiled) Flows(ctx context.Context, in *Input) ([]FlowResult, error) {
	return c.eval(ctx, in, c.flows)
}

// DeprovisionFlows evaluates the rule's deprovision flows (with
// DeprovisionDisable) on the entry in in.Attrs and the target object in
// in.Target, like Flows.
func (c *Compiled) DeprovisionFlows(ctx context.Context, in *Input) ([]FlowResult, error) {
	return c.eval(ctx, in, c.deprov)
}

func (c *Compiled) eval(ctx context.Context, in *Input, flows []compiledFlow) ([]FlowResult, error) {
	if len(flows) == 0 {
		return nil, nil
	}
	res := make([]FlowResult, 0, len(flows))
	buf := make([]connector.Value, 0, len(flows)+2)
	var errs []error
	for i := range flows {
		f := &flows[i]
		start := len(buf)
		kind := NotNull
		var err error
		switch f.kind {
		case flowExpr:
			buf, kind, err = f.prg.Eval(ctx, in, buf)
		case flowDirect:
			vs := in.Attrs[f.source]
			if len(vs) == 0 {
				kind = Null
				break
			}
			for _, v := range vs {
				if v.Type() != f.srcType {
					err = fmt.Errorf("%w: attribute %s holds a %s value, the schema says %s", ErrEval, f.source, v.Type(), f.srcType)
					break
				}
			}
			if err != nil {
				break
			}
			// Values are immutable: the result shares the source's list
			// (a group's members) rather than copying it; its capacity
			// is cut so that an append to it copies.
			res = append(res, FlowResult{Target: f.target, ApplyOnce: f.applyOnce, Merge: f.merge, Values: vs[:len(vs):len(vs)]})
			continue
		case flowConst:
			buf = append(buf, f.constant...)
		}
		if err != nil {
			buf = buf[:start]
			errs = append(errs, &EvalError{Rule: c.rule.Name, Target: f.target, Err: err})
			continue
		}
		if kind == NotNull && len(buf) == start {
			kind = Null // no value is no contribution, as in Entra Connect
		}
		fr := FlowResult{Target: f.target, Null: kind, ApplyOnce: f.applyOnce, Merge: f.merge}
		if kind == NotNull {
			fr.Values = buf[start:len(buf):len(buf)]
		}
		res = append(res, fr)
	}
	return res, errors.Join(errs...)
}
