package rules_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/rules"
)

func TestNullKinds(t *testing.T) {
	user := adUser()
	tests := []struct {
		name   string
		expr   string
		result rules.ResultType
		kind   rules.NullKind
		values []connector.Value
	}{
		{"value", "source.sn", str, rules.NotNull, strVals("Doe")},
		{"empty string is no value", "source.displayName", str, rules.NotNull, nil},
		{"empty list is no value", "source.proxyAddresses.filter(p, false)", strs, rules.NotNull, nil},
		// Flows turn these into Null: see TestNoValueIsNull.
		{"null literal", "null", str, rules.Null, nil},
		{"Null()", "has(source.displayName) ? source.displayName : Null()", str, rules.Null, nil},
		{"optional none", "source.?displayName", str, rules.Null, nil},
		{"optional value", "source.?sn", str, rules.NotNull, strVals("Doe")},
		{"AuthoritativeNull", "source.sn == 'Doe' ? AuthoritativeNull() : source.sn", str, rules.AuthoritativeNull, nil},
		{"IgnoreThisFlow", "IgnoreThisFlow()", num, rules.IgnoreThisFlow, nil},
		{"special in multi", "source.sn == '' ? source.proxyAddresses : IgnoreThisFlow()", strs, rules.IgnoreThisFlow, nil},
		{"nulls inside a list are skipped", "[source.sn, null, '']", strs, rules.NotNull, strVals("Doe")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, kind, err := evalExpr(t, tt.expr, tt.result, user)
			require.NoError(t, err)
			assert.Equal(t, tt.kind, kind)
			assert.Equal(t, tt.values, got)
		})
	}
}

func TestNoValueIsNull(t *testing.T) {
	f, err := rules.Parse("n.yaml", []byte(`
metaverse:
  types:
    - name: person
      attributes:
        - {name: displayName, type: string}
        - {name: mail, type: string}
        - {name: company, type: string}
        - {name: proxyAddresses, type: string, multi: true}
rules:
  - name: R
    direction: inbound
    connector: ad
    source: user
    target: person
    flows:
      - {target: displayName, expression: source.displayName}
      - {target: mail, source: mail}
      - {target: company, constant: ""}
      - {target: proxyAddresses, expression: 'source.proxyAddresses.filter(p, false)'}
`))
	require.NoError(t, err)
	set, err := rules.Compile(f.Rules, testSchemas(t, f), rules.Options{})
	require.NoError(t, err)
	res, err := set.Inbound("ad", "user")[0].Flows(context.Background(), &rules.Input{Attrs: connector.Attributes{}})
	require.NoError(t, err)
	require.Len(t, res, 4)
	for _, fr := range res {
		assert.Equal(t, rules.Null, fr.Null, fr.Target)
		assert.Nil(t, fr.Values, fr.Target)
	}
}

func TestMissingAttributesAndDashedNames(t *testing.T) {
	in := &rules.Input{Attrs: connector.Attributes{
		"ms-DS-ConsistencyGuid": {connector.BytesValue(guid)},
	}}
	tests := []struct {
		expr   string
		result rules.ResultType
		want   []connector.Value
	}{
		{"has(source.mail)", boo, []connector.Value{connector.BoolValue(false)}},
		{"source.mail == ''", boo, []connector.Value{connector.BoolValue(true)}},
		{"source.userAccountControl == 0", boo, []connector.Value{connector.BoolValue(true)}},
		{"source.whenChanged == timestamp(0)", boo, []connector.Value{connector.BoolValue(true)}},
		{"size(source.objectGUID) == 0 && size(source.proxyAddresses) == 0", boo, []connector.Value{connector.BoolValue(true)}},
		{"has(source.ms_DS_ConsistencyGuid) && has(source.`ms-DS-ConsistencyGuid`)", boo, []connector.Value{connector.BoolValue(true)}},
		{"base64(source.`ms-DS-ConsistencyGuid`)", str, strVals("MyIRAFVEd2aImaq7zN3u/w==")},
		{"guidString(source.ms_DS_ConsistencyGuid)", str, strVals("00112233-4455-6677-8899-aabbccddeeff")},
		{"source.?ms_DS_ConsistencyGuid.hasValue()", boo, []connector.Value{connector.BoolValue(true)}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, kind, err := evalExpr(t, tt.expr, tt.result, in)
			require.NoError(t, err)
			assert.Equal(t, rules.NotNull, kind)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestValueOfWrongTypeInData(t *testing.T) {
	in := &rules.Input{Attrs: connector.Attributes{"sn": {connector.IntValue(3)}}}
	_, _, err := evalExpr(t, "source.sn", str, in)
	require.ErrorIs(t, err, rules.ErrEval)
	assert.Contains(t, err.Error(), "attribute sn holds a integer value, the schema says string")
}

func TestInboundRule(t *testing.T) {
	ctx := context.Background()
	r := goodSet(t).Inbound("ad", "user")[0]

	ok, err := r.InScope(ctx, adUser())
	require.NoError(t, err)
	assert.True(t, ok)
	disabled := adUser()
	disabled.Attrs["userAccountControl"] = []connector.Value{connector.IntValue(514)}
	ok, err = r.InScope(ctx, disabled)
	require.NoError(t, err)
	assert.False(t, ok)

	res, err := r.Flows(ctx, adUser())
	require.NoError(t, err)
	byTarget := map[string]rules.FlowResult{}
	for _, fr := range res {
		byTarget[fr.Target] = fr
	}
	assert.Len(t, res, 12)
	assert.Equal(t, strVals("John Doe"), byTarget["displayName"].Values)
	assert.Equal(t, strVals("Contoso"), byTarget["company"].Values)
	assert.Equal(t, rules.FlowResult{Target: "cloudSourceAnchor", Values: strVals("MyIRAFVEd2aImaq7zN3u/w=="), ApplyOnce: true}, byTarget["cloudSourceAnchor"])
	assert.Equal(t, rules.Merge, byTarget["proxyAddresses"].Merge)
	assert.Len(t, byTarget["proxyAddresses"].Values, 2)
	// A direct reference flow keeps the value as the connector gave it.
	assert.Equal(t, []connector.Value{connector.RefValue("mgr-anchor", "CN=Boss,OU=Sales,DC=contoso,DC=com")}, byTarget["manager"].Values)
	assert.Equal(t, rules.Null, byTarget["accountExpires"].Null)
	assert.Equal(t, strVals("Sales"), byTarget["department"].Values)

	// An absent source of a direct flow is Null; AuthoritativeNull when the
	// expression says so.
	sparse := &rules.Input{Attrs: connector.Attributes{"objectGUID": {connector.BytesValue(guid)}, "accountExpires": {connector.IntValue(133000000000000000)}}}
	res, err = r.Flows(ctx, sparse)
	require.NoError(t, err)
	byTarget = map[string]rules.FlowResult{}
	for _, fr := range res {
		byTarget[fr.Target] = fr
	}
	assert.Equal(t, rules.Null, byTarget["mail"].Null)
	assert.Nil(t, byTarget["mail"].Values)
	assert.Equal(t, rules.AuthoritativeNull, byTarget["objectSidString"].Null)
	assert.Equal(t, []connector.Value{connector.TimeValue(time.Date(2022, 6, 18, 4, 26, 40, 0, time.UTC))}, byTarget["accountExpires"].Values)
	// " " is a value: only empty strings are no value.
	assert.Equal(t, strVals(" "), byTarget["displayName"].Values)
}

func TestJoinKeys(t *testing.T) {
	ctx := context.Background()
	r := goodSet(t).Inbound("ad", "user")[0]
	keys, err := r.JoinKeys(ctx, adUser(), 0)
	require.NoError(t, err)
	assert.Equal(t, []rules.JoinKey{{Attr: "employeeID", Values: strVals("E123")}}, keys)
	keys, err = r.JoinKeys(ctx, adUser(), 1)
	require.NoError(t, err)
	assert.Equal(t, []rules.JoinKey{{Attr: "mail", Values: strVals("John.Doe@contoso.com"), CaseInsensitive: true}}, keys)

	// No employeeID: the key has no values, the group cannot join.
	keys, err = r.JoinKeys(ctx, &rules.Input{Attrs: connector.Attributes{}}, 0)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.Empty(t, keys[0].Values)

	_, err = r.JoinKeys(ctx, adUser(), 2)
	require.Error(t, err)
}

func TestOutboundRule(t *testing.T) {
	ctx := context.Background()
	r := goodSet(t).Outbound("person")[0]
	entry := &rules.Input{Type: "person", Attrs: connector.Attributes{
		"displayName":       strVals("John Doe"),
		"sn":                strVals("Doe"),
		"mail":              strVals("John.Doe@Contoso.com"),
		"cloudSourceAnchor": strVals("MyIRAFVEd2aImaq7zN3u/w=="),
		"accountEnabled":    {connector.BoolValue(true)},
		"proxyAddresses":    strVals("SMTP:John.Doe@contoso.com", "X500:/o=x", "smtp:jd@contoso.com"),
		"manager":           {connector.RefValue("entry-7", "")},
	}}
	ok, err := r.InScope(ctx, entry)
	require.NoError(t, err)
	assert.True(t, ok)

	get := func(in *rules.Input) map[string]rules.FlowResult {
		res, err := r.Flows(ctx, in)
		require.NoError(t, err)
		m := map[string]rules.FlowResult{}
		for _, fr := range res {
			m[fr.Target] = fr
		}
		return m
	}
	// Provisioning: no target object yet.
	m := get(entry)
	assert.Equal(t, strVals("MyIRAFVEd2aImaq7zN3u/w=="), m["dn"].Values)
	assert.Equal(t, strVals("john.doe@contoso.com"), m["userPrincipalName"].Values)
	assert.Equal(t, strVals("SMTP:John.Doe@contoso.com", "smtp:jd@contoso.com"), m["proxyAddresses"].Values)
	assert.Equal(t, []connector.Value{connector.RefValue("entry-7", "")}, m["manager"].Values)

	// Update: the target's current UPN is kept.
	entry.Target = connector.Attributes{"userPrincipalName": strVals("jd@contoso.onmicrosoft.com")}
	m = get(entry)
	assert.Equal(t, strVals("jd@contoso.onmicrosoft.com"), m["userPrincipalName"].Values)

	// No mail: IgnoreThisFlow.
	delete(entry.Attrs, "mail")
	assert.Equal(t, rules.IgnoreThisFlow, get(entry)["mail"].Null)

	res, err := r.DeprovisionFlows(ctx, entry)
	require.NoError(t, err)
	assert.Equal(t, []rules.FlowResult{{Target: "accountEnabled", Values: []connector.Value{connector.BoolValue(false)}}}, res)
	assert.Equal(t, rules.DeprovisionDisable, r.Rule().Deprovision)
}

func TestEvalErrorsArePartial(t *testing.T) {
	f, err := rules.Parse("e.yaml", []byte(`
metaverse:
  types:
    - name: person
      attributes:
        - {name: displayName, type: string}
        - {name: employeeID, type: string}
rules:
  - name: R
    direction: inbound
    connector: ad
    source: user
    target: person
    scope: 'source.proxyAddresses[3] != ""'
    flows:
      - {target: displayName, expression: 'source.proxyAddresses[3]'}
      - {target: employeeID, source: employeeID}
`))
	require.NoError(t, err)
	set, err := rules.Compile(f.Rules, testSchemas(t, f), rules.Options{})
	require.NoError(t, err)
	r := set.Inbound("ad", "user")[0]

	res, err := r.Flows(context.Background(), adUser())
	require.Error(t, err)
	var ee *rules.EvalError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "R", ee.Rule)
	assert.Equal(t, "displayName", ee.Target)
	assert.ErrorIs(t, err, rules.ErrEval)
	assert.Contains(t, err.Error(), `rules: rule "R": displayName: rules: evaluation failed: index out of bounds: 3`)
	assert.Equal(t, []rules.FlowResult{{Target: "employeeID", Values: strVals("E123")}}, res)

	_, err = r.InScope(context.Background(), adUser())
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "scope", ee.Target)
}

func TestCostLimitAtEval(t *testing.T) {
	// Within the estimate's assumptions (100 values) the expression is
	// cheap enough; 5,000 values exceed the limit at evaluation.
	p, err := compileExpr(t, "source.proxyAddresses.exists(p, p.endsWith('@fabrikam.com'))", boo, 20_000)
	require.NoError(t, err)
	small := &rules.Input{Attrs: connector.Attributes{"proxyAddresses": strVals("smtp:a@contoso.com", "smtp:b@fabrikam.com")}}
	got, _, err := p.Eval(context.Background(), small, nil)
	require.NoError(t, err)
	assert.Equal(t, []connector.Value{connector.BoolValue(true)}, got)

	var many []connector.Value
	for i := range 5000 {
		many = append(many, connector.StringValue(fmt.Sprintf("smtp:user%d@contoso.com", i)))
	}
	big := &rules.Input{Attrs: connector.Attributes{"proxyAddresses": many}}
	_, _, err = p.Eval(context.Background(), big, nil)
	require.ErrorIs(t, err, rules.ErrCostLimit)
	assert.Contains(t, err.Error(), "actual cost limit exceeded")

	// Long strings are outside the assumptions too: tracked, within limit.
	long := &rules.Input{Attrs: connector.Attributes{"proxyAddresses": strVals(strings.Repeat("x", 10_000) + "@fabrikam.com")}}
	got, _, err = p.Eval(context.Background(), long, nil)
	require.NoError(t, err)
	assert.Equal(t, []connector.Value{connector.BoolValue(true)}, got)
}

func TestCanceledContext(t *testing.T) {
	r := goodSet(t).Inbound("ad", "user")[0]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.Flows(ctx, adUser())
	require.ErrorIs(t, err, context.Canceled)
	_, err = r.InScope(ctx, adUser())
	require.ErrorIs(t, err, context.Canceled)
}

// TestConcurrentEvaluation evaluates one Set from many goroutines; run
// with -race.
func TestConcurrentEvaluation(t *testing.T) {
	set := goodSet(t)
	in := set.Inbound("ad", "user")[0]
	out := set.Outbound("person")[0]
	want, err := in.Flows(context.Background(), adUser())
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				u := adUser()
				u.Attrs["sn"] = strVals(fmt.Sprintf("Doe%d-%d", g, i))
				ok, err := in.InScope(context.Background(), u)
				if err != nil || !ok {
					errs <- fmt.Errorf("scope: %v %v", ok, err)
					return
				}
				res, err := in.Flows(context.Background(), u)
				if err != nil {
					errs <- err
					return
				}
				if got, exp := res[0].Values[0].Str(), fmt.Sprintf("John Doe%d-%d", g, i); got != exp {
					errs <- fmt.Errorf("displayName %q, want %q", got, exp)
					return
				}
				if len(res) != len(want) {
					errs <- errors.New("wrong number of results")
					return
				}
				if _, err := in.JoinKeys(context.Background(), u, 0); err != nil {
					errs <- err
					return
				}
				entry := &rules.Input{Attrs: connector.Attributes{"cloudSourceAnchor": strVals("x"), "mail": strVals(fmt.Sprintf("u%d@x.com", i))}}
				res, err = out.Flows(context.Background(), entry)
				if err != nil {
					errs <- err
					return
				}
				for _, fr := range res {
					if fr.Target == "userPrincipalName" && fr.Values[0].Str() != fmt.Sprintf("u%d@x.com", i) {
						errs <- fmt.Errorf("upn %v", fr.Values)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
