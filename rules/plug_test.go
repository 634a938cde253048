package rules_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/rules"
)

// attrLang is a toy expression language: an expression is an attribute
// name whose values are copied, or "!name" for "absent".
type attrLang struct{ compiled []string }

func (l *attrLang) Compile(expr string, env *rules.Env) (rules.Program, error) {
	name, absent := strings.CutPrefix(expr, "!")
	a, ok := env.Source.Attr(name)
	if !ok {
		return nil, &rules.ExprError{Line: 1, Column: 1, Msg: "no attribute " + name}
	}
	if absent {
		if env.Result.Type != connector.Boolean {
			return nil, errors.New("! gives a boolean")
		}
	} else if a.Type != env.Result.Type {
		return nil, errors.New("type mismatch")
	}
	l.compiled = append(l.compiled, expr)
	return attrProgram{name, absent}, nil
}

type attrProgram struct {
	name   string
	absent bool
}

func (p attrProgram) Eval(_ context.Context, in *rules.Input, dst []connector.Value) ([]connector.Value, rules.NullKind, error) {
	if p.absent {
		return append(dst, connector.BoolValue(len(in.Attrs[p.name]) == 0)), rules.NotNull, nil
	}
	if len(in.Attrs[p.name]) == 0 {
		return dst, rules.Null, nil
	}
	return append(dst, in.Attrs[p.name]...), rules.NotNull, nil
}

func TestPluggedEvaluator(t *testing.T) {
	f, err := rules.Parse("plug.yaml", []byte(`
metaverse:
  types:
    - name: person
      attributes:
        - {name: displayName, type: string}
        - {name: mail, type: string}
        - {name: proxyAddresses, type: string, multi: true}
        - {name: aliases, type: string, multi: true}
rules:
  - name: R
    direction: inbound
    connector: ad
    source: user
    target: person
    scope: '!displayName'
    flows:
      - {target: displayName, expression: sn}
      - {target: mail, expression: mail, applyOnce: true}
      - {target: proxyAddresses, expression: proxyAddresses, merge: merge}
      - {target: aliases, expression: proxyAddresses, merge: mergeCaseInsensitive}
`))
	require.NoError(t, err)
	lang := &attrLang{}
	set, err := rules.Compile(f.Rules, testSchemas(t, f), rules.Options{Evaluator: lang})
	require.NoError(t, err)
	assert.Equal(t, []string{"!displayName", "sn", "mail", "proxyAddresses", "proxyAddresses"}, lang.compiled)

	r := set.Inbound("ad", "user")[0]
	ok, err := r.InScope(context.Background(), adUser())
	require.NoError(t, err)
	assert.True(t, ok)
	res, err := r.Flows(context.Background(), adUser())
	require.NoError(t, err)
	assert.Equal(t, []rules.FlowResult{
		{Target: "displayName", Values: strVals("Doe")},
		{Target: "mail", Values: strVals("John.Doe@contoso.com"), ApplyOnce: true},
		{Target: "proxyAddresses", Values: strVals("SMTP:John.Doe@contoso.com", "smtp:jd@contoso.com"), Merge: rules.Merge},
		{Target: "aliases", Values: strVals("SMTP:John.Doe@contoso.com", "smtp:jd@contoso.com"), Merge: rules.MergeCaseInsensitive},
	}, res)

	// Errors of the plugged language carry the rule and its positions.
	f.Rules[0].Flows[0].Expression = "nope"
	_, err = rules.Compile(f.Rules, testSchemas(t, f), rules.Options{Evaluator: &attrLang{}})
	require.Error(t, err)
	assert.Equal(t, "plug.yaml:18:9: rule \"R\": flow displayName: `nope`: column 1: no attribute nope", err.Error())
}

// Results of one Flows call share a backing array; appending to one must
// not clobber another.
func TestFlowResultsAreIndependent(t *testing.T) {
	r := goodSet(t).Inbound("ad", "user")[0]
	res, err := r.Flows(context.Background(), adUser())
	require.NoError(t, err)
	before := res[1].Values[0]
	_ = append(res[0].Values, connector.StringValue("extra"))
	assert.Equal(t, before, res[1].Values[0])
}
