package rules

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrSyntax: a rule file is not valid YAML or not a valid rule file.
	ErrSyntax = errors.New("rules: invalid rule file")
	// ErrInvalidRule: a rule refers to something that does not exist, or
	// an expression does not type-check.
	ErrInvalidRule = errors.New("rules: invalid rule")
	// ErrCostLimit: an expression exceeded, or would exceed, its cost
	// limit.
	ErrCostLimit = errors.New("rules: expression cost limit exceeded")
	// ErrEval: an expression failed at run time (no such overload, division
	// by zero, a value that cannot be converted to the target's type).
	ErrEval = errors.New("rules: evaluation failed")
)

// ParseError is an error in a rule file, at a position.
type ParseError struct {
	Pos Position
	Msg string
}

func (e *ParseError) Error() string { return e.Pos.String() + ": " + e.Msg }

// Is reports whether target is ErrSyntax.
func (e *ParseError) Is(target error) bool { return target == ErrSyntax }

// CompileError is an error in one rule, found by Compile.
type CompileError struct {
	Pos  Position // of the rule, flow or join condition
	Rule string   // rule name
	// Where says what part of the rule: "scope", "flow mail",
	// "deprovision flow accountEnabled", "join 1 condition 2", or "" for
	// the rule itself.
	Where string
	Expr  string // the expression, when the error is in one
	Err   error  // what is wrong; may be or wrap an *ExprError
}

func (e *CompileError) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString("rule " + strconv.Quote(e.Rule))
	if e.Where != "" {
		b.WriteString(": " + e.Where)
	}
	if e.Expr != "" {
		b.WriteString(": `" + e.Expr + "`")
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *CompileError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidRule.
func (e *CompileError) Is(target error) bool { return target == ErrInvalidRule }

// ExprError is an error at a place in an expression (an Evaluator's
// compile error).
type ExprError struct {
	Line, Column int // 1-based, within the expression
	Msg          string
}

func (e *ExprError) Error() string {
	if e.Column <= 0 {
		return e.Msg
	}
	if e.Line > 1 {
		return "line " + strconv.Itoa(e.Line) + " column " + strconv.Itoa(e.Column) + ": " + e.Msg
	}
	return "column " + strconv.Itoa(e.Column) + ": " + e.Msg
}

// EvalError is a failure to evaluate one part of a rule on an object.
type EvalError struct {
	Rule   string
	Target string // the flow target, "scope" or "join"
	Err    error
}

func (e *EvalError) Error() string {
	return "rules: rule " + strconv.Quote(e.Rule) + ": " + e.Target + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *EvalError) Unwrap() error { return e.Err }
