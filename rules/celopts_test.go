package rules_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/rules"
)

var errNoDigits = errors.New("no digits")

// digits keeps the digits of s.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// customCEL is an evaluator with one custom function of each supported
// shape.
func customCEL() rules.Evaluator {
	return rules.NewCEL(
		rules.Function("normalizePhone", func(s string) (string, error) {
			d := digits(s)
			if d == "" {
				return "", errNoDigits
			}
			return "+" + d, nil
		}),
		rules.Function("twice", func(n int64) int64 { return 2 * n }),
		rules.Function("twice", func(s string) string { return s + s }), // an overload
		rules.Function("not", func(b bool) bool { return !b }),
		rules.Function("size8", func(b []byte) int { return len(b) * 8 }),
		rules.Function("year", func(t time.Time) int64 { return int64(t.Year()) }),
		rules.Function("addDays", func(t time.Time, n int64) time.Time { return t.AddDate(0, 0, int(n)) }),
		rules.Function("smtp", func(addrs []string) []string {
			var out []string
			for _, a := range addrs {
				if rest, ok := strings.CutPrefix(strings.ToLower(a), "smtp:"); ok {
					out = append(out, rest)
				}
			}
			return out
		}),
		rules.Function("contoso.tag", func(s string) string { return "contoso-" + s }),
		rules.Function("joinWith", func(a, b string) string { return a + "|" + b }),
		rules.Function("isEmail", func(s string) bool { return strings.Contains(s, "@") }),
		rules.Function("boom", func(s string) string { panic("boom " + s) }),
		rules.Function("grow", func(n int64) []string { return make([]string, n) }),
		rules.Function("huge", func(n int64) string { return strings.Repeat("x", int(n)) }),
	)
}

func compileCustom(t testing.TB, expr string, result rules.ResultType) (rules.Program, error) {
	t.Helper()
	src, _ := loadSchema(t, "ad.schema.yaml").Type("user")
	return customCEL().Compile(expr, &rules.Env{Source: src, SourceName: "ad.user", Result: result, CostLimit: rules.DefaultCostLimit, MaxValueSize: 1 << 16})
}

func TestCustomFunctions(t *testing.T) {
	in := adUser()
	in.Attrs["whenChanged"] = []connector.Value{connector.TimeValue(time.Date(2024, 2, 28, 12, 0, 0, 0, time.UTC))}
	in.Attrs["sAMAccountName"] = []connector.Value{connector.StringValue("(555) 010-2030")}
	for _, tc := range []struct {
		expr   string
		result rules.ResultType
		want   []connector.Value
	}{
		{`normalizePhone(source.sAMAccountName)`, str, strVals("+5550102030")},
		{`twice(21)`, num, []connector.Value{connector.IntValue(42)}},
		{`twice(source.sn)`, str, strVals("DoeDoe")},
		{`not(isBitSet(source.userAccountControl, 2))`, boo, []connector.Value{connector.BoolValue(true)}},
		{`size8(source.objectGUID)`, num, []connector.Value{connector.IntValue(128)}},
		{`year(source.whenChanged)`, num, []connector.Value{connector.IntValue(2024)}},
		{`addDays(source.whenChanged, 2)`, tim, []connector.Value{connector.TimeValue(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))}},
		{`smtp(source.proxyAddresses)`, strs, strVals("john.doe@contoso.com", "jd@contoso.com")},
		{`source.proxyAddresses.map(p, twice(p)).size() == 2`, boo, []connector.Value{connector.BoolValue(true)}},
		{`contoso.tag(source.employeeID)`, str, strVals("contoso-E123")},
		{`joinWith(source.givenName, source.sn)`, str, strVals("John|Doe")},
		{`isEmail(source.mail) && !isEmail(source.sn)`, boo, []connector.Value{connector.BoolValue(true)}},
		{`has(source.displayName) ? "x" : twice("y")`, str, strVals("yy")},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			p, err := compileCustom(t, tc.expr, tc.result)
			require.NoError(t, err)
			got, kind, err := p.Eval(context.Background(), in, nil)
			require.NoError(t, err)
			assert.Equal(t, rules.NotNull, kind)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestCustomFunctionErrors(t *testing.T) {
	in := adUser()
	for _, tc := range []struct {
		name, expr string
		result     rules.ResultType
		is         []error
		msg        string
	}{
		{"returned error", `normalizePhone(source.sn)`, str, []error{rules.ErrEval, errNoDigits}, "normalizePhone: no digits"},
		{"panic", `boom(source.sn)`, str, []error{rules.ErrEval}, "boom: panic: boom Doe"},
		{"result over the size limit", `huge(100000)`, str, []error{rules.ErrEval, rules.ErrValueTooLarge}, "huge would build a value of size 100000"},
		// The estimate assumes a list result of at most 100 elements; the
		// runtime cost tracking of custom calls catches a larger one.
		{"runtime cost", `grow(60000).map(x, grow(60000).size()).size() > 0`, boo, []error{rules.ErrCostLimit}, "cost limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := compileCustom(t, tc.expr, tc.result)
			require.NoError(t, err)
			_, _, err = p.Eval(context.Background(), in, nil)
			require.Error(t, err)
			for _, target := range tc.is {
				assert.ErrorIs(t, err, target)
			}
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestCustomFunctionTypeChecked(t *testing.T) {
	for _, tc := range []struct {
		name, expr string
		result     rules.ResultType
		msg        string
	}{
		{"wrong argument type", `normalizePhone(source.userAccountControl)`, str, "column 15: found no matching overload for 'normalizePhone' applied to '(int)'"},
		{"wrong arity", `normalizePhone(source.sn, 1)`, str, "found no matching overload for 'normalizePhone'"},
		{"wrong result type", `twice(source.userAccountControl)`, str, "result of type int cannot be assigned to string"},
		{"unknown function", `normalisePhone(source.sn)`, str, "undeclared reference to 'normalisePhone'"},
		{"estimated cost", `smtp(source.proxyAddresses).all(a, smtp(source.proxyAddresses).all(b, source.proxyAddresses.all(c, a + b + c != "")))`, boo, "estimated cost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compileCustom(t, tc.expr, tc.result)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

// A custom function called with a wrong argument in a rule file is refused
// by Compile, at the flow's file:line:col and the expression's column.
func TestCustomFunctionInRuleFile(t *testing.T) {
	const file = `metaverse:
  types:
    - name: person
      attributes:
        - {name: displayName, type: string}
        - {name: telephoneNumber, type: string}
rules:
  - name: In from AD
    direction: inbound
    connector: ad
    source: user
    target: person
    flows:
      - {target: displayName, expression: 'normalizePhone(source.sn)'}
      - {target: telephoneNumber, expression: 'normalizePhone(source.userAccountControl)'}
`
	f, err := rules.Parse("phone.yaml", []byte(file))
	require.NoError(t, err)
	_, err = rules.Compile(f.Rules, testSchemas(t, f), rules.Options{Evaluator: customCEL()})
	require.ErrorIs(t, err, rules.ErrInvalidRule)
	assert.EqualError(t, err, "phone.yaml:15:9: rule \"In from AD\": flow telephoneNumber: `normalizePhone(source.userAccountControl)`: "+
		"column 15: found no matching overload for 'normalizePhone' applied to '(int)'")
	var ce *rules.CompileError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, rules.Position{File: "phone.yaml", Line: 15, Column: 9}, ce.Pos)

	// Without the function, the name is unknown.
	_, err = rules.Compile(f.Rules, testSchemas(t, f), rules.Options{})
	require.ErrorIs(t, err, rules.ErrInvalidRule)
	assert.Contains(t, err.Error(), "undeclared reference to 'normalizePhone'")
}

func TestFunctionPanicsOnBadDeclaration(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   string
		impl any
		msg  string
	}{
		{"not a function", "f", 42, "is not a function"},
		{"nil", "f", nil, "is not a function"},
		{"nil func", "f", (func(string) string)(nil), "is not a function"},
		{"bad name", "f-x", func(string) string { return "" }, "is not a function name"},
		{"unsupported parameter", "f", func(float64) string { return "" }, "parameter 1 has unsupported type float64"},
		{"unsupported result", "f", func(string) map[string]string { return nil }, "result has unsupported type"},
		{"no result", "f", func(string) {}, "must return one value"},
		{"two results not error", "f", func(string) (string, string) { return "", "" }, "must return one value"},
		{"variadic", "f", func(...string) string { return "" }, "variadic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				require.NotNil(t, r)
				assert.Contains(t, r, tc.msg)
			}()
			rules.Function(tc.fn, tc.impl)
		})
	}
}

// A function that collides with a built-in one is reported by Compile.
func TestFunctionCollision(t *testing.T) {
	src, _ := loadSchema(t, "ad.schema.yaml").Type("user")
	ev := rules.NewCEL(rules.Function("guidString", func(b []byte) string { return "" }))
	_, err := ev.Compile(`source.sn`, &rules.Env{Source: src, SourceName: "ad.user", Result: str, CostLimit: rules.DefaultCostLimit})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "guidString")
}

// Programs calling custom functions are evaluated by concurrent
// goroutines (run with -race).
func TestCustomFunctionConcurrent(t *testing.T) {
	p, err := compileCustom(t, `normalizePhone(source.sAMAccountName) + twice(source.sn)`, str)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := adUser()
			in.Attrs["sAMAccountName"] = []connector.Value{connector.StringValue("tel " + string(rune('0'+i)))}
			for range 100 {
				got, _, err := p.Eval(context.Background(), in, nil)
				assert.NoError(t, err)
				assert.Equal(t, strVals("+"+string(rune('0'+i))+"DoeDoe"), got)
			}
		}()
	}
	wg.Wait()
}

// Macros adds a cel-go macro: present(x) expands to has(x) && x != "".
func TestMacros(t *testing.T) {
	present := cel.GlobalMacro("present", 1, func(eh cel.MacroExprFactory, _ celast.Expr, args []celast.Expr) (celast.Expr, *cel.Error) {
		sel := args[0]
		if sel.Kind() != celast.SelectKind {
			return nil, eh.NewError(sel.ID(), "present needs a field selection")
		}
		return eh.NewCall(operators.LogicalAnd,
			eh.NewPresenceTest(eh.Copy(sel.AsSelect().Operand()), sel.AsSelect().FieldName()),
			eh.NewCall(operators.NotEquals, eh.Copy(sel), eh.NewLiteral(types.String("")))), nil
	})
	src, _ := loadSchema(t, "ad.schema.yaml").Type("user")
	ev := rules.NewCEL(rules.Macros(present))
	env := &rules.Env{Source: src, SourceName: "ad.user", Result: boo, CostLimit: rules.DefaultCostLimit}
	for expr, want := range map[string]bool{`present(source.mail)`: true, `present(source.displayName)`: false} {
		p, err := ev.Compile(expr, env)
		require.NoError(t, err, expr)
		got, _, err := p.Eval(context.Background(), adUser(), nil)
		require.NoError(t, err)
		assert.Equal(t, []connector.Value{connector.BoolValue(want)}, got, expr)
	}
	_, err := ev.Compile(`present("x")`, env)
	require.ErrorContains(t, err, "present needs a field selection")
}

// BenchmarkCustomFunction compares a call of a custom function with the
// same work done by built-in functions: the reflective call, the
// conversions and the runtime cost tracking of custom calls are the
// difference.
func BenchmarkCustomFunction(b *testing.B) {
	in := adUser()
	ctx := context.Background()
	for name, expr := range map[string]string{
		"custom":  `twice(source.sn)`,
		"builtin": `source.sn + source.sn`,
	} {
		b.Run(name, func(b *testing.B) {
			p, err := compileCustom(b, expr, str)
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := p.Eval(ctx, in, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
