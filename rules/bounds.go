package rules

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/functions"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/interpreter"
)

// DefaultMaxValueSize is the size limit, in bytes, of each string, bytes
// or reference value given to an expression and of each string, bytes or
// list (in elements) that a growing function produces, when Env.MaxValueSize
// is 0.
const DefaultMaxValueSize = 1 << 20

// ErrValueTooLarge is returned (wrapped, with ErrEval) when a value given
// to an expression, or one that a function of the expression would build,
// is over the size limit (Env.MaxValueSize). The error names the attribute
// or the function.
var ErrValueTooLarge = errors.New("rules: value over the size limit")

// interruptCheckFrequency is how many comprehension iterations run between
// two checks of the evaluation's context.
const interruptCheckFrequency = 100

// growth predicts the size of the result of a call from its arguments:
// bytes for strings and bytes, elements for lists. The prediction is made
// before the call allocates anything.
type growth func(args []ref.Val) int

// growing lists the overloads whose result can be much larger than their
// arguments or that build values of a size an argument chooses: each
// multiplication of sizes (replace) and each concatenation is checked
// before it allocates.
var growing = map[string]growth{
	"string_replace_string_string":     func(a []ref.Val) int { return replacedSize(a[0], a[1], a[2], types.Int(-1)) },
	"string_replace_string_string_int": func(a []ref.Val) int { return replacedSize(a[0], a[1], a[2], a[3]) },
	"list_join":                        func(a []ref.Val) int { return joinedSize(a[0], nil) },
	"list_join_string":                 func(a []ref.Val) int { return joinedSize(a[0], a[1]) },
	"add_string":                       concatenated,
	"add_bytes":                        concatenated,
	"add_list":                         concatenated,
	// The standard library binds _+_ once for all its overloads.
	"_+_":                 concatenated,
	"string_format":       func(a []ref.Val) int { return size(a[0]) + joinedSize(a[1], nil) },
	"lists_range":         func(a []ref.Val) int { return size(a[0]) },
	"base64_encode_bytes": func(a []ref.Val) int { return (size(a[0]) + 2) / 3 * 4 },
}

func concatenated(a []ref.Val) int {
	switch a[0].(type) {
	case types.String, types.Bytes, traits.Lister:
		return size(a[0]) + size(a[1])
	}
	return 0
}

// size is the size of a string or bytes value in bytes, of a list in
// elements, and an int's value (for lists.range); 0 for anything else.
func size(v ref.Val) int {
	switch x := v.(type) {
	case types.String:
		return len(x)
	case types.Bytes:
		return len(x)
	case types.Int:
		if x < 0 {
			return 0
		}
		if int64(x) > int64(^uint(0)>>2) {
			return int(^uint(0) >> 2)
		}
		return int(x)
	case traits.Lister:
		if n, ok := x.Size().(types.Int); ok {
			return int(n)
		}
	}
	return 0
}

func replacedSize(s, old, repl, n ref.Val) int {
	str, o, r := string(s.(types.String)), string(old.(types.String)), string(repl.(types.String))
	count := 0
	if o == "" {
		count = utf8.RuneCountInString(str) + 1
	} else {
		count = strings.Count(str, o)
	}
	if max, ok := n.(types.Int); ok && max >= 0 && int(max) < count {
		count = int(max)
	}
	return len(str) + count*(len(r)-len(o))
}

// joinedSize is the size of the elements of a list (strings, or for
// format anything) joined by sep.
func joinedSize(list, sep ref.Val) int {
	l, ok := list.(traits.Lister)
	if !ok {
		return 0
	}
	total, n := 0, 0
	it := l.Iterator()
	for it.HasNext() == types.True {
		e := it.Next()
		if s := size(e); s > 0 {
			total += s
		} else if _, isList := e.(traits.Lister); !isList {
			total += 24 // a number, bool or timestamp printed
		}
		n++
	}
	if n > 1 && sep != nil {
		total += (n - 1) * size(sep)
	}
	return total
}

// boundGrowth returns the decorator that replaces each call of a growing
// overload by one that refuses, with ErrValueTooLarge, a result predicted
// to be over limit (and checks the result too).
func boundGrowth(env *cel.Env, limit int) (cel.ProgramOption, error) {
	impls := map[string]functions.FunctionOp{}
	for _, fn := range env.Functions() {
		bindings, err := fn.Bindings()
		if err != nil {
			return nil, err
		}
		for _, b := range bindings {
			if _, ok := growing[b.Operator]; !ok {
				continue
			}
			if op := asFunctionOp(b); op != nil {
				impls[b.Operator] = op
			}
		}
	}
	return cel.CustomDecorator(func(i interpreter.Interpretable) (interpreter.Interpretable, error) {
		call, ok := i.(interpreter.InterpretableCall)
		if !ok {
			return i, nil
		}
		id, overload := call.OverloadID(), call.OverloadID()
		impl, ok := impls[id]
		if !ok {
			if id, impl = call.Function(), impls[call.Function()]; impl == nil {
				return i, nil
			}
		}
		predict, fn := growing[id], call.Function()
		return interpreter.NewCall(call.ID(), fn, overload, call.Args(), func(args ...ref.Val) ref.Val {
			for _, a := range args {
				if types.IsUnknownOrError(a) {
					return impl(args...)
				}
			}
			if n := predict(args); n > limit {
				return tooLarge(fn, n, limit)
			}
			out := impl(args...)
			if n := size(out); n > limit {
				return tooLarge(fn, n, limit)
			}
			return out
		}), nil
	}), nil
}

func tooLarge(function string, n, limit int) ref.Val {
	return types.WrapErr(fmt.Errorf("%w: %s would build a value of size %d, over the limit of %d", ErrValueTooLarge, function, n, limit))
}

func asFunctionOp(o *functions.Overload) functions.FunctionOp {
	switch {
	case o.Function != nil:
		return o.Function
	case o.Binary != nil:
		return func(args ...ref.Val) ref.Val { return o.Binary(args[0], args[1]) }
	case o.Unary != nil:
		return func(args ...ref.Val) ref.Val { return o.Unary(args[0]) }
	}
	return nil
}
