package rules

import (
	"context"

	"github.com/idbridge/idbridge/connector"
)

// Evaluator compiles the expressions of rules: scopes, join conditions and
// flows. CEL (see NewCEL) is the default; another expression language can
// be plugged in through Options.Evaluator.
//
// An Evaluator may be passed to several concurrent Compile calls, which
// call its Compile method; Programs are evaluated concurrently by many
// goroutines. NewCEL's evaluator is safe for both.
type Evaluator interface {
	// Compile parses and type-checks expr for env. Errors should be, or
	// join, *ExprError values so that Compile can report their column.
	Compile(expr string, env *Env) (Program, error)
}

// Program is a compiled expression. It must be safe for concurrent use.
type Program interface {
	// Eval evaluates the expression on in and appends its values,
	// converted to the Env's Result type, to dst. A Null kind other than
	// NotNull appends nothing. Errors are returned as is; the caller adds
	// the rule and target.
	Eval(ctx context.Context, in *Input, dst []connector.Value) ([]connector.Value, NullKind, error)
}

// Env is what an expression sees and must produce.
type Env struct {
	// Source is the type of the object the rule reads, named SourceName
	// (e.g. "ad.user", "metaverse.person").
	Source     *connector.ObjectType
	SourceName string
	// Target is, for outbound flows, the type of the target connector
	// object; nil otherwise.
	Target     *connector.ObjectType
	TargetName string
	// Result is the type the expression must produce.
	Result ResultType
	// CostLimit bounds the cost of one evaluation.
	CostLimit uint64
	// MaxValueSize bounds, in bytes, each string, bytes or reference value
	// (and the DN and anchor) an expression reads, and each value a
	// string-growing function (replace, join, format, concatenation)
	// builds, in bytes or list elements: beyond it evaluation fails with
	// ErrValueTooLarge before allocating. 0 means DefaultMaxValueSize.
	MaxValueSize int
}

// ResultType is the type an expression must produce: one value of Type,
// or, when Multi, one value or a list of them. A scope is a single
// Boolean.
type ResultType struct {
	Type  connector.AttrType
	Multi bool
}
