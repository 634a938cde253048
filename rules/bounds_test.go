package rules_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/rules"
)

func userWith(attr string, vs ...connector.Value) *rules.Input {
	in := adUser()
	in.Attrs[attr] = vs
	return in
}

func TestEvalBoundsValueSizes(t *testing.T) {
	big := strings.Repeat("a", 10<<20)    // over DefaultMaxValueSize
	half := strings.Repeat("a", 600<<10)  // under it, but two make more
	small := strings.Repeat("a", 200<<10) // under it; squared far over
	tests := []struct {
		name, expr string
		result     rules.ResultType
		in         *rules.Input
		mention    string
		costLimit  uint64 // 0: the default
	}{
		{"InputValue", `source.mail.replace("a", source.mail)`, str, userWith("mail", connector.StringValue(big)), "attribute mail has a value of 10485760 bytes", 0},
		{"InputInList", `source.proxyAddresses.map(p, p.size())`, nums, userWith("proxyAddresses", connector.StringValue("x"), connector.StringValue(big)), "attribute proxyAddresses", 0},
		{"InputBytes", `base64(source.objectGUID)`, str, userWith("objectGUID", connector.BytesValue([]byte(big))), "attribute objectGUID", 0},
		{"Replace", `source.mail.replace("a", source.mail)`, str, userWith("mail", connector.StringValue(small)), "replace would build", 0},
		{"ReplaceN", `source.mail.replace("a", source.mail, 1000)`, str, userWith("mail", connector.StringValue(small)), "replace would build", 0},
		{"ReplaceEmpty", `source.mail.replace("", source.mail)`, str, userWith("mail", connector.StringValue(small)), "replace would build", 0},
		{"Concatenation", `source.mail + source.mail`, str, userWith("mail", connector.StringValue(half)), "_+_ would build", math.MaxUint64},
		{"BytesConcatenation", `source.objectGUID + source.objectGUID`, byt, userWith("objectGUID", connector.BytesValue([]byte(half))), "_+_ would build", math.MaxUint64},
		{"Join", `[source.mail, source.mail].join(",")`, str, userWith("mail", connector.StringValue(half)), "join would build", 0},
		{"Format", `"%s%s".format([source.mail, source.mail])`, str, userWith("mail", connector.StringValue(half)), "format would build", 0},
		{"DN", `dnParent(dn)`, str, func() *rules.Input { in := adUser(); in.DN = "CN=" + big; return in }(), "DN or anchor of", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := compileExpr(t, tt.expr, tt.result, tt.costLimit)
			require.NoError(t, err, "the estimate assumes small values: the expression compiles")
			_, _, err = p.Eval(context.Background(), tt.in, nil)
			require.ErrorIs(t, err, rules.ErrValueTooLarge)
			assert.ErrorIs(t, err, rules.ErrEval)
			assert.ErrorContains(t, err, tt.mention)
		})
	}
}

func TestEvalBoundsLeaveOrdinaryValues(t *testing.T) {
	in := userWith("mail", connector.StringValue(strings.Repeat("ab", 1000)))
	got, _, err := evalExpr(t, `source.mail.replace("a", "xy") + "@" + [source.sn, "x"].join(",")`, str, in)
	require.NoError(t, err)
	assert.Equal(t, strVals(strings.Repeat("xyb", 1000)+"@Doe,x"), got)

	// Env.MaxValueSize raises the limit.
	src, _ := loadSchema(t, "ad.schema.yaml").Type("user")
	p, err := rules.NewCEL().Compile(`source.mail + source.mail`, &rules.Env{Source: src, SourceName: "ad.user", Result: str, CostLimit: math.MaxUint64, MaxValueSize: 4 << 20})
	require.NoError(t, err)
	got, _, err = p.Eval(context.Background(), userWith("mail", connector.StringValue(strings.Repeat("a", 1<<20+1))), nil)
	require.NoError(t, err)
	assert.Len(t, got[0].Str(), 2<<20+2)
}

// doneButNotYet is a cancelled context whose Err reports the
// cancellation only from its second call: Eval's check before it starts
// passes, so only a check during the evaluation can stop it.
type doneButNotYet struct {
	context.Context
	calls int
}

func (c *doneButNotYet) Err() error {
	c.calls++
	if c.calls == 1 {
		return nil
	}
	return c.Context.Err()
}

func TestEvalHonoursContext(t *testing.T) {
	vals := make([]connector.Value, 5000)
	for i := range vals {
		vals[i] = connector.StringValue(strings.Repeat("p", i%50+1))
	}
	in := userWith("proxyAddresses", vals...)
	// 25 million iterations, allowed by an unlimited cost.
	p, err := compileExpr(t, `source.proxyAddresses.all(x, source.proxyAddresses.all(y, x != "" && y != ""))`, boo, math.MaxUint64)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = p.Eval(&doneButNotYet{Context: ctx}, in, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, rules.ErrEval)
}
