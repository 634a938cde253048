package rules

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// A CELOption configures the CEL evaluator: see NewCEL, Function and
// Macros.
type CELOption func(*celConfig)

// celConfig is what NewCEL's options add to every CEL environment.
type celConfig struct {
	funcs  []*customFunc
	names  map[string]bool // of funcs
	macros []cel.Macro
}

// customFunc is one overload of a function added with Function.
type customFunc struct {
	name, id string
	args     []goType
	result   goType
	hasErr   bool // the Go function returns (T, error)
	fn       reflect.Value
	// direct calls the common signatures without reflection (nil: use fn).
	direct func(args []ref.Val) (ref.Val, error)
}

// goType is a Go type a custom function may take or return.
type goType uint8

const (
	goString goType = iota + 1
	goInt
	goBool
	goBytes
	goTime
	goStrings
)

var (
	tString  = reflect.TypeFor[string]()
	tInt64   = reflect.TypeFor[int64]()
	tInt     = reflect.TypeFor[int]()
	tBool    = reflect.TypeFor[bool]()
	tBytes   = reflect.TypeFor[[]byte]()
	tTime    = reflect.TypeFor[time.Time]()
	tStrings = reflect.TypeFor[[]string]()
	tError   = reflect.TypeFor[error]()
)

// goTypeOf maps a Go parameter or result type to the types custom
// functions support: string, int64 (or int), bool, []byte, time.Time and
// []string.
func goTypeOf(t reflect.Type) (goType, bool) {
	switch t {
	case tString:
		return goString, true
	case tInt64, tInt:
		return goInt, true
	case tBool:
		return goBool, true
	case tBytes:
		return goBytes, true
	case tTime:
		return goTime, true
	case tStrings:
		return goStrings, true
	}
	return 0, false
}

func (g goType) cel() *cel.Type {
	switch g {
	case goString:
		return cel.StringType
	case goInt:
		return cel.IntType
	case goBool:
		return cel.BoolType
	case goBytes:
		return cel.BytesType
	case goTime:
		return cel.TimestampType
	case goStrings:
		return cel.ListType(cel.StringType)
	}
	return cel.DynType
}

func (g goType) String() string {
	return [...]string{"?", "string", "int", "bool", "bytes", "timestamp", "list_string"}[g]
}

// functionName is a CEL function name: an identifier, or identifiers
// joined by dots (a namespace, "contoso.normalizePhone").
var functionName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// Function adds a function to the expressions of rules, implemented by the
// Go function impl. The function's parameters and results declare its
// CEL signature; they may be string, int64 (or int), bool, []byte,
// time.Time (a CEL timestamp) and []string (list(string)), and impl may
// return an error as a second result. For example
//
//	rules.NewCEL(rules.Function("normalizePhone", func(s string) string { … }))
//
// lets a rule write normalizePhone(source.telephoneNumber). Calling
// Function again with the same name and other parameter types adds an
// overload. The signature is checked when rules are compiled: a call with
// arguments of other types is refused by Compile, with the position of
// the expression in its rule file.
//
// impl is called by concurrent evaluations and must be safe for
// concurrent use; it should be quick, as it runs inside the evaluation of
// every object in a rule's scope. Its cost is counted as that of a string
// function: one unit, plus one per ten bytes (or list elements) of its
// arguments and result; an expression calling a custom function is always
// evaluated with runtime cost tracking, and a result larger than
// Env.MaxValueSize fails the evaluation with ErrValueTooLarge. An error
// returned by impl, or a panic, fails the evaluation with ErrEval (and
// wraps the returned error).
//
// Function panics, as text/template's Funcs does, when name is not a CEL
// function name or impl is not a function of supported types: both are
// mistakes in the program, not in its input. A name or signature that
// collides with a function the evaluator already has (see the package
// documentation) is reported by Compile.
func Function(name string, impl any) CELOption {
	if !functionName.MatchString(name) {
		panic(fmt.Sprintf("rules.Function: %q is not a function name", name))
	}
	fv := reflect.ValueOf(impl)
	if impl == nil || fv.Kind() != reflect.Func || fv.IsNil() {
		panic(fmt.Sprintf("rules.Function(%q): %T is not a function", name, impl))
	}
	ft := fv.Type()
	if ft.IsVariadic() {
		panic(fmt.Sprintf("rules.Function(%q): variadic functions are not supported", name))
	}
	f := &customFunc{name: name, fn: fv}
	ids := []string{"rules_custom", strings.ReplaceAll(name, ".", "_")}
	for i := range ft.NumIn() {
		g, ok := goTypeOf(ft.In(i))
		if !ok {
			panic(fmt.Sprintf("rules.Function(%q): parameter %d has unsupported type %v (want string, int64, int, bool, []byte, time.Time or []string)", name, i+1, ft.In(i)))
		}
		f.args = append(f.args, g)
		ids = append(ids, g.String())
	}
	switch {
	case ft.NumOut() == 2 && ft.Out(1) == tError:
		f.hasErr = true
	case ft.NumOut() != 1:
		panic(fmt.Sprintf("rules.Function(%q): a function must return one value, or a value and an error", name))
	}
	g, ok := goTypeOf(ft.Out(0))
	if !ok {
		panic(fmt.Sprintf("rules.Function(%q): result has unsupported type %v", name, ft.Out(0)))
	}
	f.result = g
	f.id = strings.Join(ids, "_")
	f.direct = directCall(impl)
	return func(c *celConfig) { c.funcs = append(c.funcs, f) }
}

// Macros adds CEL macros, expanded when expressions are parsed.
//
// Macros is an advanced escape hatch: a cel.Macro (cel.NewGlobalMacro,
// cel.NewReceiverMacro) is a type of cel-go, whose API this package
// otherwise keeps out of its callers' code, and a macro rewrites
// expressions before they are type-checked, so a mistake in one shows up
// as a confusing error in every rule that uses it. Prefer Function.
// Expressions that a macro expands are type-checked and cost-bounded like
// any other.
func Macros(macros ...cel.Macro) CELOption {
	return func(c *celConfig) { c.macros = append(c.macros, macros...) }
}

// envOptions returns the CEL declarations of the configured functions and
// macros; limit is the environment's MaxValueSize.
func (c *celConfig) envOptions(limit int) []cel.EnvOption {
	var opts []cel.EnvOption
	byName := map[string][]cel.FunctionOpt{}
	var names []string
	for _, f := range c.funcs {
		if _, ok := byName[f.name]; !ok {
			names = append(names, f.name)
		}
		args := make([]*cel.Type, len(f.args))
		for i, a := range f.args {
			args[i] = a.cel()
		}
		byName[f.name] = append(byName[f.name], cel.Overload(f.id, args, f.result.cel(), cel.FunctionBinding(f.binding(limit))))
	}
	for _, n := range names {
		opts = append(opts, cel.Function(n, byName[n]...))
	}
	if len(c.macros) > 0 {
		opts = append(opts, cel.Macros(c.macros...))
	}
	return opts
}

// isCustom reports whether function was added with Function.
func (c *celConfig) isCustom(function string) bool { return c.names[function] }

func (c *celConfig) byID(id string) *customFunc {
	for _, f := range c.funcs {
		if f.id == id {
			return f
		}
	}
	return nil
}

// binding adapts the Go function to CEL: it converts the arguments,
// calls it (a panic becomes an error) and converts and bounds the result.
func (f *customFunc) binding(limit int) func(args ...ref.Val) ref.Val {
	return func(args ...ref.Val) (out ref.Val) {
		if len(args) != len(f.args) {
			return types.NewErr("%s: %d arguments, want %d", f.name, len(args), len(f.args))
		}
		defer func() {
			if r := recover(); r != nil {
				out = types.NewErr("%s: panic: %v", f.name, r)
			}
		}()
		if f.direct != nil {
			res, err := f.direct(args)
			if err != nil {
				return types.WrapErr(fmt.Errorf("%s: %w", f.name, err))
			}
			if n := size(res); n > limit {
				return tooLarge(f.name, n, limit)
			}
			return res
		}
		in := make([]reflect.Value, len(args))
		for i, a := range args {
			v, err := fromCELArg(a, f.args[i], f.fn.Type().In(i))
			if err != nil {
				return types.NewErr("%s: argument %d: %v", f.name, i+1, err)
			}
			in[i] = v
		}
		res := f.fn.Call(in)
		if f.hasErr && !res[1].IsNil() {
			return types.WrapErr(fmt.Errorf("%s: %w", f.name, res[1].Interface().(error)))
		}
		out = toCELResult(res[0], f.result)
		if n := size(out); n > limit {
			return tooLarge(f.name, n, limit)
		}
		return out
	}
}

func fromCELArg(a ref.Val, g goType, t reflect.Type) (reflect.Value, error) {
	switch g {
	case goString:
		if s, ok := a.(types.String); ok {
			return reflect.ValueOf(string(s)), nil
		}
	case goInt:
		if n, ok := a.(types.Int); ok {
			return reflect.ValueOf(int64(n)).Convert(t), nil
		}
	case goBool:
		if b, ok := a.(types.Bool); ok {
			return reflect.ValueOf(bool(b)), nil
		}
	case goBytes:
		if b, ok := a.(types.Bytes); ok {
			return reflect.ValueOf([]byte(b)), nil
		}
	case goTime:
		if ts, ok := a.(types.Timestamp); ok {
			return reflect.ValueOf(ts.Time), nil
		}
	case goStrings:
		if l, ok := a.(traits.Lister); ok {
			var out []string
			it := l.Iterator()
			for it.HasNext() == types.True {
				s, ok := it.Next().(types.String)
				if !ok {
					return reflect.Value{}, errors.New("a list element is not a string")
				}
				out = append(out, string(s))
			}
			return reflect.ValueOf(out), nil
		}
	}
	return reflect.Value{}, fmt.Errorf("%s is not a %s", a.Type().TypeName(), g)
}

func toCELResult(v reflect.Value, g goType) ref.Val {
	switch g {
	case goString:
		return types.String(v.String())
	case goInt:
		return types.Int(v.Int())
	case goBool:
		return types.Bool(v.Bool())
	case goBytes:
		return types.Bytes(v.Bytes())
	case goTime:
		return types.Timestamp{Time: v.Interface().(time.Time)}
	case goStrings:
		return types.NewStringList(types.DefaultTypeAdapter, v.Interface().([]string))
	}
	return types.NewErr("unsupported result type")
}

// estimateCall is the estimated cost and result size of a call of a custom
// function: one unit plus one per ten bytes or elements of the arguments;
// a string or bytes result is assumed at most as large as the arguments
// plus estimatedMaxValueSize, a list at most estimatedMaxValues elements.
// Expressions that call custom functions are tracked at run time too (see
// celProgram.analyze), so that the assumption cannot be used to exceed the
// cost limit.
func (f *customFunc) estimateCall(args []cost.AstNode, sizeOf func(cost.AstNode) *cost.SizeEstimate) *cost.CallEstimate {
	var sz cost.SizeEstimate
	for _, a := range args {
		asz := sizeOf(a)
		if asz == nil {
			asz = &cost.SizeEstimate{Min: 1, Max: 1}
		}
		sz = sz.Add(*asz)
	}
	c := sz.MultiplyByCostFactor(0.1).Add(cost.FixedCostEstimate(1))
	var out *cost.SizeEstimate
	switch f.result {
	case goString, goBytes:
		o := sz.Add(cost.FixedSizeEstimate(estimatedMaxValueSize))
		out = &o
	case goStrings:
		o := cost.SizeEstimate{Min: 0, Max: estimatedMaxValues}
		out = &o
	}
	return &cost.CallEstimate{CostEstimate: c, ResultSize: out}
}

// actualCost is the cost charged at run time for a call of a custom
// function: one unit plus one per ten bytes or elements of its arguments
// and result.
type actualCost struct{ cfg *celConfig }

func (a actualCost) CallCost(function, overloadID string, args []ref.Val, result ref.Val) *uint64 {
	if !a.cfg.isCustom(function) {
		return nil
	}
	n := dataSize(result)
	for _, v := range args {
		n += dataSize(v)
	}
	c := 1 + uint64(n)/10
	return &c
}

// dataSize is the size of a string or bytes value in bytes, of a list in
// elements; 0 for anything else.
func dataSize(v ref.Val) int {
	switch v.(type) {
	case types.String, types.Bytes, traits.Lister:
		return size(v)
	}
	return 0
}

// directCall returns a call without reflection for the commonest
// signatures of custom functions (string in, string or bool out), nil for
// the others. The arguments are of the declared types: the type checker
// saw to it.
func directCall(impl any) func(args []ref.Val) (ref.Val, error) {
	str := func(v ref.Val) (string, error) {
		s, ok := v.(types.String)
		if !ok {
			return "", fmt.Errorf("%s is not a string", v.Type().TypeName())
		}
		return string(s), nil
	}
	switch fn := impl.(type) {
	case func(string) string:
		return func(args []ref.Val) (ref.Val, error) {
			s, err := str(args[0])
			if err != nil {
				return nil, err
			}
			return types.String(fn(s)), nil
		}
	case func(string) (string, error):
		return func(args []ref.Val) (ref.Val, error) {
			s, err := str(args[0])
			if err != nil {
				return nil, err
			}
			r, err := fn(s)
			if err != nil {
				return nil, err
			}
			return types.String(r), nil
		}
	case func(string, string) string:
		return func(args []ref.Val) (ref.Val, error) {
			a, err := str(args[0])
			if err != nil {
				return nil, err
			}
			b, err := str(args[1])
			if err != nil {
				return nil, err
			}
			return types.String(fn(a, b)), nil
		}
	case func(string) bool:
		return func(args []ref.Val) (ref.Val, error) {
			s, err := str(args[0])
			if err != nil {
				return nil, err
			}
			return types.Bool(fn(s)), nil
		}
	}
	return nil
}
