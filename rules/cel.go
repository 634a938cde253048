package rules

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"

	"github.com/idbridge/idbridge/connector"
)

// Assumptions of the cost estimate made at Compile: values read from
// objects are at most this large.
const (
	estimatedMaxValues    = 100 // values of a multi-valued attribute
	estimatedMaxValueSize = 256 // bytes of a string or bytes value
)

// NewCEL returns the CEL evaluator, the default one. See the package
// documentation for the variables and functions expressions can use; the
// options add functions (Function) and macros (Macros) to them:
//
//	eval := rules.NewCEL(rules.Function("normalizePhone", normalizePhone))
//	set, err := rules.Compile(f.Rules, schemas, rules.Options{Evaluator: eval})
//
// and for an Engine, idbridge.Options.Evaluator.
func NewCEL(opts ...CELOption) Evaluator {
	cfg := &celConfig{names: map[string]bool{}}
	for _, o := range opts {
		o(cfg)
	}
	for _, f := range cfg.funcs {
		cfg.names[f.name] = true
	}
	return &celEvaluator{envs: map[envKey]*celEnv{}, cfg: cfg}
}

type celEvaluator struct {
	cfg  *celConfig // immutable
	mu   sync.Mutex
	envs map[envKey]*celEnv
}

type envKey struct {
	src, tgt         *connector.ObjectType
	srcName, tgtName string
	maxSize          int // custom functions bound their results by it
}

type celEnv struct {
	env      *cel.Env
	src, tgt *objType
}

func (e *celEvaluator) env(env *Env, maxSize int) (*celEnv, error) {
	key := envKey{env.Source, env.Target, env.SourceName, env.TargetName, maxSize}
	e.mu.Lock()
	defer e.mu.Unlock()
	if ce, ok := e.envs[key]; ok {
		return ce, nil
	}
	prov := &provider{Registry: types.NewEmptyRegistry(), structs: map[string]*objType{}}
	ce := &celEnv{src: prov.add(env.SourceName, env.Source)}
	opts := []cel.EnvOption{
		cel.CustomTypeProvider(prov),
		cel.EnableIdentifierEscapeSyntax(),
		cel.OptionalTypes(),
		ext.Strings(), ext.Lists(), ext.Encoders(),
		identityLibrary(),
		cel.Variable("source", ce.src.celType),
		cel.Variable("dn", cel.StringType),
		cel.Variable("anchor", cel.StringType),
	}
	opts = append(opts, e.cfg.envOptions(maxSize)...)
	if env.Target != nil {
		name := env.TargetName
		if name == env.SourceName {
			name += ".target"
		}
		ce.tgt = prov.add(name, env.Target)
		opts = append(opts, cel.Variable("target", ce.tgt.celType))
	}
	ev, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("rules: building CEL environment: %w", err)
	}
	ce.env = ev
	e.envs[key] = ce
	return ce, nil
}

// Compile implements Evaluator.
func (e *celEvaluator) Compile(expr string, env *Env) (Program, error) {
	maxSize := env.MaxValueSize
	if maxSize <= 0 {
		maxSize = DefaultMaxValueSize
	}
	ce, err := e.env(env, maxSize)
	if err != nil {
		return nil, err
	}
	ast, iss := ce.env.Compile(expr)
	if iss.Err() != nil {
		var errs []error
		for _, ie := range iss.Errors() {
			loc := ie.Location
			errs = append(errs, &ExprError{Line: loc.Line(), Column: loc.Column() + 1, Msg: ie.Message})
		}
		return nil, errors.Join(errs...)
	}
	if !acceptsResult(ast.OutputType(), env.Result, true) {
		return nil, &ExprError{Msg: fmt.Sprintf("result of type %s cannot be assigned to %s", typeString(ast.OutputType()), resultString(env.Result))}
	}
	limit := env.CostLimit
	est, err := ce.env.EstimateCost(ast, sizeEstimator{cfg: e.cfg})
	estimated := err == nil
	if estimated && est.Max > limit {
		return nil, fmt.Errorf("%w: estimated cost %d is over the limit %d (assuming at most %d values per attribute and %d bytes per value)",
			ErrCostLimit, est.Max, limit, estimatedMaxValues, estimatedMaxValueSize)
	}
	p := &celProgram{result: env.Result, src: ce.src, tgt: ce.tgt, maxSize: maxSize}
	bound, err := boundGrowth(ce.env, p.maxSize)
	if err != nil {
		return nil, err
	}
	opts := []cel.ProgramOption{bound, cel.EvalOptions(cel.OptOptimize), cel.InterruptCheckFrequency(interruptCheckFrequency)}
	tracked := append(slices.Clip(opts), cel.CostLimit(limit))
	if len(e.cfg.funcs) > 0 {
		tracked = append(tracked, cel.CostTracking(actualCost{e.cfg}))
	}
	if p.prg, err = ce.env.Program(ast, tracked...); err != nil {
		return nil, &ExprError{Msg: err.Error()}
	}
	if estimated && p.analyze(ast, ce, e.cfg) {
		// Within the estimate's assumptions the cost is at most est.Max,
		// within the limit: runtime cost tracking, which halves the speed
		// of small expressions, would be redundant.
		if p.untracked, err = ce.env.Program(ast, opts...); err != nil {
			return nil, &ExprError{Msg: err.Error()}
		}
	}
	return p, nil
}

// analyze records what the expression reads, and reports whether that is
// all through attributes (source.x, source.?x, has(source.x)), dn and
// anchor, whose sizes bounded checks at evaluation, and whether it calls
// no custom function (whose result sizes the estimate only assumes).
func (p *celProgram) analyze(a *cel.Ast, ce *celEnv, cfg *celConfig) bool {
	handled := map[int64]bool{}
	ok := true
	record := func(obj string, field string) {
		var t *objType
		var dst *[]string
		if obj == "source" {
			t, dst = ce.src, &p.srcReads
		} else {
			t, dst = ce.tgt, &p.tgtReads
		}
		if t == nil {
			ok = false
			return
		}
		name, found := t.realName[field]
		if !found {
			ok = false
			return
		}
		if !slices.Contains(*dst, name) {
			*dst = append(*dst, name)
		}
	}
	isObj := func(e celast.Expr) bool {
		return e.Kind() == celast.IdentKind && (e.AsIdent() == "source" || e.AsIdent() == "target")
	}
	celast.PreOrderVisit(a.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		switch e.Kind() {
		case celast.SelectKind:
			sel := e.AsSelect()
			if isObj(sel.Operand()) {
				handled[sel.Operand().ID()] = true
				record(sel.Operand().AsIdent(), sel.FieldName())
			}
		case celast.CallKind:
			call := e.AsCall()
			if cfg.isCustom(call.FunctionName()) {
				ok = false
			}
			if args := call.Args(); call.FunctionName() == "_?._" && len(args) == 2 && isObj(args[0]) && args[1].Kind() == celast.LiteralKind {
				if f, isStr := args[1].AsLiteral().(types.String); isStr {
					handled[args[0].ID()] = true
					record(args[0].AsIdent(), string(f))
				}
			}
		case celast.IdentKind:
			switch e.AsIdent() {
			case "source", "target":
				if !handled[e.ID()] {
					ok = false
				}
			case "dn":
				p.readsDN = true
			case "anchor":
				p.readsAnchor = true
			}
		}
	}))
	return ok
}

// bounded reports whether what the expression reads of in is within the
// assumptions of the cost estimate.
func (p *celProgram) bounded(in *Input) bool {
	if p.readsDN && len(in.DN) > estimatedMaxValueSize || p.readsAnchor && len(in.Anchor) > estimatedMaxValueSize {
		return false
	}
	return boundedAttrs(in.Attrs, p.srcReads) && boundedAttrs(in.Target, p.tgtReads)
}

func boundedAttrs(attrs connector.Attributes, names []string) bool {
	for _, n := range names {
		vs := attrs[n]
		if len(vs) > estimatedMaxValues {
			return false
		}
		for _, v := range vs {
			switch v.Type() {
			case connector.String, connector.Bytes, connector.Reference:
				if len(v.Key()) > estimatedMaxValueSize {
					return false
				}
			}
		}
	}
	return true
}

func resultString(r ResultType) string {
	t := celElemType(r.Type)
	if r.Multi {
		return fmt.Sprintf("%s or list(%s)", typeString(t), typeString(t))
	}
	return typeString(t)
}

func typeString(t *types.Type) string {
	if t == nil {
		return "?"
	}
	return t.String()
}

// acceptsResult reports whether an expression of type t can produce r.
func acceptsResult(t *types.Type, r ResultType, top bool) bool {
	switch t.Kind() {
	case types.DynKind, types.TypeParamKind, types.AnyKind:
		return true
	case types.NullTypeKind:
		return top && r.Type != connector.Boolean || top && r.Multi
	case types.OpaqueKind:
		if t.TypeName() == "optional_type" && len(t.Parameters()) == 1 && top {
			return acceptsResult(t.Parameters()[0], r, true)
		}
		return false
	case types.ListKind:
		if !r.Multi || !top {
			return false
		}
		return acceptsResult(t.Parameters()[0], r, false)
	}
	return t.IsExactType(celElemType(r.Type))
}

func celElemType(t connector.AttrType) *types.Type {
	switch t {
	case connector.String, connector.Reference:
		return types.StringType
	case connector.Bytes:
		return types.BytesType
	case connector.Integer:
		return types.IntType
	case connector.Boolean:
		return types.BoolType
	case connector.Time:
		return types.TimestampType
	}
	return types.DynType
}

// sizeEstimator bounds the sizes of values read from objects so that cost
// estimates are finite.
type sizeEstimator struct{ cfg *celConfig }

func (sizeEstimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if len(n.Path()) == 0 {
		return nil
	}
	switch n.Type().Kind() {
	case types.ListKind, types.MapKind:
		return &cost.SizeEstimate{Min: 0, Max: estimatedMaxValues}
	case types.StringKind, types.BytesKind:
		return &cost.SizeEstimate{Min: 0, Max: estimatedMaxValueSize}
	}
	return nil
}

// EstimateCallCost bounds the results of the escaping functions (at most
// three bytes per byte of the value: escapeRDN writes \00 for a NUL) and
// estimates the calls of custom functions (customFunc.estimateCall).
func (e sizeEstimator) EstimateCallCost(function, overloadID string, target *cost.AstNode, args []cost.AstNode) *cost.CallEstimate {
	if f := e.cfg.byID(overloadID); f != nil {
		return f.estimateCall(args, func(a cost.AstNode) *cost.SizeEstimate {
			if sz := a.ComputedSize(); sz != nil {
				return sz
			}
			return e.EstimateSize(a)
		})
	}
	switch overloadID {
	case "escapeRDN_string", "rdn_string_string":
		var sz cost.SizeEstimate
		for _, a := range args {
			asz := a.ComputedSize()
			if asz == nil {
				asz = e.EstimateSize(a)
			}
			if asz == nil {
				return nil
			}
			sz = sz.Add(*asz)
		}
		out := sz.Multiply(cost.FixedSizeEstimate(3)).Add(cost.FixedSizeEstimate(1))
		return cost.NewCallEstimate(sz.MultiplyByCostFactor(0.1), &out)
	}
	return nil
}

// provider adds the object types of a rule's source and target to a CEL
// type registry, as struct types whose fields are the attributes.
type provider struct {
	*types.Registry
	structs map[string]*objType
}

type objType struct {
	name     string
	celType  *types.Type
	fields   map[string]*types.FieldType // by attribute name and by mangled name
	realName map[string]string           // attribute name by field name
	names    []string
}

// mangle returns the identifier form of an attribute name: '-' becomes '_'.
func mangle(name string) string { return strings.ReplaceAll(name, "-", "_") }

func (p *provider) add(name string, ot *connector.ObjectType) *objType {
	o := &objType{name: name, celType: types.NewObjectType(name), fields: map[string]*types.FieldType{}, realName: map[string]string{}}
	for i := range ot.Attributes {
		a := ot.Attributes[i]
		o.names = append(o.names, a.Name)
		o.fields[a.Name] = fieldType(a)
		o.realName[a.Name] = a.Name
	}
	for _, a := range ot.Attributes {
		if m := mangle(a.Name); m != a.Name {
			if _, taken := o.fields[m]; !taken {
				o.fields[m] = o.fields[a.Name]
				o.realName[m] = a.Name
			}
		}
	}
	p.structs[name] = o
	return o
}

func fieldType(a connector.Attribute) *types.FieldType {
	name, typ := a.Name, a.Type
	ft := &types.FieldType{
		IsSet: func(obj any) bool {
			o, ok := obj.(*object)
			return ok && len(o.attrs[name]) > 0
		},
	}
	if a.Multi {
		ft.Type = types.NewListType(celElemType(typ))
		ft.GetFrom = func(obj any) (any, error) {
			o, ok := obj.(*object)
			if !ok {
				return nil, fmt.Errorf("not an object: %T", obj)
			}
			vs := o.attrs[name]
			elems := make([]ref.Val, len(vs))
			for i, v := range vs {
				e, err := toCEL(v, typ, name, o.max)
				if err != nil {
					return nil, err
				}
				elems[i] = e
			}
			return types.NewRefValList(types.DefaultTypeAdapter, elems), nil
		}
		return ft
	}
	ft.Type = celElemType(typ)
	ft.GetFrom = func(obj any) (any, error) {
		o, ok := obj.(*object)
		if !ok {
			return nil, fmt.Errorf("not an object: %T", obj)
		}
		vs := o.attrs[name]
		if len(vs) == 0 {
			return zeroCEL(typ), nil
		}
		return toCEL(vs[0], typ, name, o.max)
	}
	return ft
}

var zeroTime = types.Timestamp{Time: time.Unix(0, 0).UTC()}

func zeroCEL(t connector.AttrType) ref.Val {
	switch t {
	case connector.Bytes:
		return types.Bytes(nil)
	case connector.Integer:
		return types.IntZero
	case connector.Boolean:
		return types.False
	case connector.Time:
		return zeroTime
	}
	return types.String("")
}

// toCEL converts a value of the attribute name to CEL; a string, bytes or
// reference value of more than max bytes is refused with ErrValueTooLarge.
func toCEL(v connector.Value, t connector.AttrType, name string, max int) (ref.Val, error) {
	if v.Type() != t {
		return nil, fmt.Errorf("attribute %s holds a %s value, the schema says %s", name, v.Type(), t)
	}
	switch t {
	case connector.String, connector.Bytes, connector.Reference:
		if n := len(v.Key()); n > max {
			return nil, fmt.Errorf("%w: attribute %s has a value of %d bytes, over the limit of %d", ErrValueTooLarge, name, n, max)
		}
	}
	switch t {
	case connector.String:
		return types.String(v.Str()), nil
	case connector.Bytes:
		return types.Bytes(v.Octets()), nil
	case connector.Integer:
		return types.Int(v.Int()), nil
	case connector.Boolean:
		return types.Bool(v.Bool()), nil
	case connector.Time:
		return types.Timestamp{Time: v.Time()}, nil
	case connector.Reference:
		return types.String(v.Key()), nil
	}
	return nil, fmt.Errorf("attribute %s has invalid type %s", name, t)
}

// FindStructType implements types.Provider.
func (p *provider) FindStructType(name string) (*types.Type, bool) {
	if o, ok := p.structs[name]; ok {
		return types.NewTypeTypeWithParam(o.celType), true
	}
	return p.Registry.FindStructType(name)
}

// FindStructFieldNames implements types.Provider.
func (p *provider) FindStructFieldNames(name string) ([]string, bool) {
	if o, ok := p.structs[name]; ok {
		return o.names, true
	}
	return p.Registry.FindStructFieldNames(name)
}

// FindStructFieldType implements types.Provider.
func (p *provider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	if o, ok := p.structs[name]; ok {
		ft, ok := o.fields[field]
		return ft, ok
	}
	return p.Registry.FindStructFieldType(name, field)
}

// NewValue implements types.Provider: objects cannot be built in
// expressions.
func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.structs[name]; ok {
		return types.NewErr("cannot create a %s in an expression", name)
	}
	return p.Registry.NewValue(name, fields)
}

// object is the CEL value of "source" and "target": a view of Attributes
// that converts only the attributes an expression reads.
type object struct {
	t     *objType
	attrs connector.Attributes
	max   int // MaxValueSize
}

func (o *object) ConvertToNative(typeDesc reflect.Type) (any, error) {
	return nil, fmt.Errorf("cannot convert %s to %v", o.t.name, typeDesc)
}

func (o *object) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return o.t.celType
	}
	return types.NewErr("cannot convert %s to %s", o.t.name, t.TypeName())
}

func (o *object) Equal(other ref.Val) ref.Val { return types.Bool(other == ref.Val(o)) }
func (o *object) Type() ref.Type              { return o.t.celType }
func (o *object) Value() any                  { return o }

// activation resolves the variables of one evaluation; pooled.
type activation struct {
	src, tgt   object
	hasTgt     bool
	dn, anchor string
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "source":
		return &a.src, true
	case "target":
		if a.hasTgt {
			return &a.tgt, true
		}
	case "dn":
		return types.String(a.dn), true
	case "anchor":
		return types.String(a.anchor), true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

var activations = sync.Pool{New: func() any { return new(activation) }}

type celProgram struct {
	prg       cel.Program // with runtime cost tracking
	untracked cel.Program // without; nil when the expression's reads cannot be bounded
	result    ResultType
	src, tgt  *objType
	maxSize   int // Env.MaxValueSize or its default

	srcReads, tgtReads   []string // attributes read
	readsDN, readsAnchor bool
}

// Eval implements Program.
func (p *celProgram) Eval(ctx context.Context, in *Input, dst []connector.Value) ([]connector.Value, NullKind, error) {
	if err := ctx.Err(); err != nil {
		return dst, NotNull, err
	}
	if len(in.DN) > p.maxSize || len(in.Anchor) > p.maxSize {
		return dst, NotNull, fmt.Errorf("%w: %w: a DN or anchor of %d bytes, over the limit of %d", ErrEval, ErrValueTooLarge, max(len(in.DN), len(in.Anchor)), p.maxSize)
	}
	a := activations.Get().(*activation)
	a.src = object{t: p.src, attrs: in.Attrs, max: p.maxSize}
	a.dn, a.anchor = in.DN, string(in.Anchor)
	if p.tgt != nil {
		a.tgt, a.hasTgt = object{t: p.tgt, attrs: in.Target, max: p.maxSize}, true
	}
	prg := p.prg
	if p.untracked != nil && p.bounded(in) {
		prg = p.untracked
	}
	out, _, err := prg.ContextEval(ctx, a)
	*a = activation{}
	activations.Put(a)
	if err != nil {
		var ce interpreter.EvalCancelledError
		switch {
		case errors.As(err, &ce) && ce.Cause == interpreter.CostLimitExceeded:
			return dst, NotNull, fmt.Errorf("%w: %v", ErrCostLimit, err)
		case ctx.Err() != nil:
			return dst, NotNull, fmt.Errorf("rules: evaluation stopped: %w", context.Cause(ctx))
		}
		return dst, NotNull, fmt.Errorf("%w: %w", ErrEval, err)
	}
	return appendResult(dst, out, p.result, true)
}

// appendResult converts an expression's result to values of r.
func appendResult(dst []connector.Value, out ref.Val, r ResultType, top bool) ([]connector.Value, NullKind, error) {
	switch v := out.(type) {
	case special:
		if top {
			return dst, v.kind, nil
		}
	case types.Null:
		if top {
			return dst, Null, nil
		}
		return dst, NotNull, nil // a null in a list is skipped
	case *types.Optional:
		if !v.HasValue() {
			return dst, Null, nil
		}
		return appendResult(dst, v.GetValue(), r, top)
	case traits.Lister:
		if !r.Multi || !top {
			break
		}
		it := v.Iterator()
		for it.HasNext() == types.True {
			var err error
			if dst, _, err = appendResult(dst, it.Next(), r, false); err != nil {
				return dst, NotNull, err
			}
		}
		return dst, NotNull, nil
	}
	switch r.Type {
	case connector.String, connector.Reference:
		if s, ok := out.(types.String); ok {
			if s == "" {
				return dst, NotNull, nil
			}
			return append(dst, toValue(string(s), r.Type)), NotNull, nil
		}
	case connector.Bytes:
		if b, ok := out.(types.Bytes); ok {
			if len(b) == 0 {
				return dst, NotNull, nil
			}
			return append(dst, connector.BytesValue(b)), NotNull, nil
		}
	case connector.Integer:
		switch n := out.(type) {
		case types.Int:
			return append(dst, connector.IntValue(int64(n))), NotNull, nil
		case types.Uint:
			if int64(n) >= 0 {
				return append(dst, connector.IntValue(int64(n))), NotNull, nil
			}
		}
	case connector.Boolean:
		if b, ok := out.(types.Bool); ok {
			return append(dst, connector.BoolValue(bool(b))), NotNull, nil
		}
	case connector.Time:
		if t, ok := out.(types.Timestamp); ok {
			return append(dst, connector.TimeValue(t.Time)), NotNull, nil
		}
	}
	return dst, NotNull, fmt.Errorf("%w: result %s of type %s cannot be converted to %s", ErrEval, out, out.Type().TypeName(), r.Type)
}

// toValue converts a string to a String value or, for references, to a
// Reference: "dn:<dn>" is a reference by DN, anything else an anchor.
func toValue(s string, t connector.AttrType) connector.Value {
	if t == connector.Reference {
		if dn, ok := strings.CutPrefix(s, "dn:"); ok {
			return connector.RefValue("", dn)
		}
		return connector.RefValue(connector.Anchor(s), "")
	}
	return connector.StringValue(s)
}
