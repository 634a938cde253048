package connector_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
)

func TestValueAccessorsAndEquality(t *testing.T) {
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))
	tests := []struct {
		name string
		v    connector.Value
		typ  connector.AttrType
		str  string
	}{
		{"string", connector.StringValue("Ada"), connector.String, "Ada"},
		{"bytes", connector.BytesValue([]byte{0, 1, 2}), connector.Bytes, "AAEC"},
		{"int", connector.IntValue(-42), connector.Integer, "-42"},
		{"bool", connector.BoolValue(true), connector.Boolean, "true"},
		{"time", connector.TimeValue(ts), connector.Time, "2024-05-06T06:08:09.123456789Z"},
		{"ref dn", connector.RefValue("", "CN=A,DC=x"), connector.Reference, "CN=A,DC=x"},
		{"ref anchor", connector.RefValue("g1", ""), connector.Reference, "<g1>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.typ, tt.v.Type())
			assert.Equal(t, tt.str, tt.v.String())
			assert.False(t, tt.v.IsZero())
			assert.Equal(t, 0, tt.v.Compare(tt.v))
		})
	}
	assert.True(t, connector.Value{}.IsZero())
	assert.Equal(t, ts.UTC(), connector.TimeValue(ts).Time())
	assert.Equal(t, []byte{0, 1, 2}, connector.BytesValue([]byte{0, 1, 2}).Octets())
	assert.NotEqual(t, connector.StringValue("1"), connector.IntValue(1), "types differ")
	assert.Equal(t, "", connector.IntValue(1).Str(), "wrong-type accessors give zero values")
}

func TestSameReference(t *testing.T) {
	tests := []struct {
		a, b connector.Value
		want bool
	}{
		{connector.RefValue("g1", "CN=A"), connector.RefValue("g1", "CN=Other"), true},
		{connector.RefValue("g1", ""), connector.RefValue("g2", ""), false},
		{connector.RefValue("", "CN=A, DC=X"), connector.RefValue("", "cn=a,dc=x"), true},
		{connector.RefValue("", "CN=A"), connector.StringValue("CN=A"), false},
	}
	for i, tt := range tests {
		assert.Equal(t, tt.want, connector.SameReference(tt.a, tt.b), "case %d", i)
	}
}

func TestFoldDN(t *testing.T) {
	tests := map[string]string{
		"CN=Ada Lovelace, OU=Users,DC=Contoso,DC=com": "cn=ada lovelace,ou=users,dc=contoso,dc=com",
		`CN=Doe\, John,OU=X`:                          `cn=doe\, john,ou=x`,
		" cn = a , dc = b ":                           "cn=a,dc=b",
		"":                                            "",
	}
	for in, want := range tests {
		assert.Equal(t, want, connector.FoldDN(in), in)
	}
}

func TestAttributesApplyAndDiff(t *testing.T) {
	a := connector.Attributes{"mail": {connector.StringValue("a@x")}, "member": {connector.StringValue("1"), connector.StringValue("2")}}
	b := a.Clone()
	b.Apply([]connector.Mod{
		{Name: "member", Op: connector.ModAdd, Values: []connector.Value{connector.StringValue("3"), connector.StringValue("1")}},
		{Name: "member", Op: connector.ModRemove, Values: []connector.Value{connector.StringValue("2")}},
		{Name: "mail", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue("b@x")}},
		{Name: "title", Op: connector.ModAdd, Values: []connector.Value{connector.StringValue("Dr")}},
	})
	assert.Equal(t, []connector.Value{connector.StringValue("1"), connector.StringValue("3")}, b["member"])
	assert.Equal(t, "a@x", a["mail"][0].Str(), "Clone is deep")
	assert.False(t, a.Equal(b))

	mods := connector.Diff(a, b, nil, func(n string) bool { return n == "member" })
	assert.Equal(t, []connector.Mod{
		{Name: "mail", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue("b@x")}},
		{Name: "member", Op: connector.ModAdd, Values: []connector.Value{connector.StringValue("3")}},
		{Name: "member", Op: connector.ModRemove, Values: []connector.Value{connector.StringValue("2")}},
		{Name: "title", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue("Dr")}},
	}, mods)
	c := a.Clone()
	c.Apply(mods)
	assert.True(t, c.Equal(b), "applying the diff gives the target")

	b.Apply([]connector.Mod{{Name: "title", Op: connector.ModRemove}})
	assert.NotContains(t, b, "title")
	assert.True(t, connector.Attributes{"x": nil}.Equal(connector.Attributes{}), "no values is no attribute")
}

func TestSchemaValidate(t *testing.T) {
	good := &connector.Schema{Types: []connector.ObjectType{{Name: "user", Anchor: "id", Attributes: []connector.Attribute{{Name: "id", Type: connector.String}}}}}
	require.NoError(t, good.Validate())
	ut, ok := good.Type("user")
	require.True(t, ok)
	_, ok = ut.Attr("id")
	assert.True(t, ok)

	bad := &connector.Schema{Types: []connector.ObjectType{
		{Name: "user", Anchor: "missing", Attributes: []connector.Attribute{{Name: "a", Type: connector.String}, {Name: "a", Type: connector.String}, {Name: "b"}}},
		{Name: "user"},
	}}
	err := bad.Validate()
	require.Error(t, err)
	for _, want := range []string{`"user" declared twice`, `attribute "a" declared twice`, `"b" has invalid type`, `anchor attribute "missing"`} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestAttrTypeText(t *testing.T) {
	for _, typ := range []connector.AttrType{connector.String, connector.Bytes, connector.Integer, connector.Boolean, connector.Time, connector.Reference} {
		b, err := typ.MarshalText()
		require.NoError(t, err)
		var back connector.AttrType
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, typ, back)
	}
	_, err := connector.ParseAttrType("float")
	assert.ErrorContains(t, err, `"float"`)
}

func TestErrors(t *testing.T) {
	err := &connector.ObjectError{DN: "CN=A", Op: "add", Err: fmt.Errorf("server said no: %w", connector.ErrAlreadyExists)}
	assert.ErrorIs(t, err, connector.ErrAlreadyExists)
	assert.Equal(t, "connector: add CN=A: server said no: connector: object already exists", err.Error())

	assert.ErrorIs(t, connector.ErrDuplicateValue, connector.ErrConstraint, "a duplicate value is a constraint violation")
	assert.False(t, errors.Is(connector.ErrConstraint, connector.ErrDuplicateValue))

	busy := &connector.ObjectError{Op: "update", Err: connector.ErrUnavailable}
	assert.True(t, connector.IsRetryable(busy))
	assert.False(t, connector.IsRetryable(connector.Permanent(busy)))
	assert.ErrorIs(t, connector.Permanent(busy), connector.ErrUnavailable)
	assert.False(t, connector.IsRetryable(nil))
	assert.False(t, connector.IsRetryable(err))
}

func TestSecretNeverPrints(t *testing.T) {
	pw := connector.NewSecret("hunter2")
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("set", "password", pw)
	js, err := json.Marshal(struct{ P connector.Secret }{pw})
	require.NoError(t, err)
	for _, out := range []string{fmt.Sprint(pw), fmt.Sprintf("%v %+v %#v %s", pw, pw, pw, pw), logged.String(), string(js), fmt.Errorf("bind: %v", pw).Error()} {
		assert.NotContains(t, out, "hunter2")
		assert.Contains(t, out, "[redacted]")
	}
	assert.Equal(t, "hunter2", pw.Reveal())
}
