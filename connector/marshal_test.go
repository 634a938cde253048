package connector_test

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
)

func TestValueMarshalling(t *testing.T) {
	ts := time.Date(2026, 12, 3, 16, 46, 37, 500, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		v    connector.Value
		text string
		json string
	}{
		{"string", connector.StringValue("Ada Lovelace"), "string:Ada Lovelace", `{"type":"string","value":"Ada Lovelace"}`},
		{"empty string", connector.StringValue(""), "string:", `{"type":"string","value":""}`},
		{"string with colon", connector.StringValue("a:b"), "string:a:b", `{"type":"string","value":"a:b"}`},
		{"bytes", connector.BytesValue([]byte{0xde, 0xad, 0xbe, 0xef}), "bytes:3q2+7w==", `{"type":"bytes","value":"3q2+7w=="}`},
		{"integer", connector.IntValue(-1 << 62), "integer:-4611686018427387904", `{"type":"integer","value":-4611686018427387904}`},
		{"zero integer", connector.IntValue(0), "integer:0", `{"type":"integer","value":0}`},
		{"false", connector.BoolValue(false), "boolean:false", `{"type":"boolean","value":false}`},
		{"time in UTC", connector.TimeValue(ts), "time:2026-12-03T15:46:37.0000005Z", `{"type":"time","value":"2026-12-03T15:46:37.0000005Z"}`},
		{"reference", connector.RefValue("4f1c", "CN=Ada,OU=Staff"), `reference:"4f1c" CN=Ada,OU=Staff`, `{"type":"reference","anchor":"4f1c","dn":"CN=Ada,OU=Staff"}`},
		{"reference by DN", connector.RefValue("", "CN=Ada, OU=Staff"), `reference:"" CN=Ada, OU=Staff`, `{"type":"reference","dn":"CN=Ada, OU=Staff"}`},
		{"reference by anchor", connector.RefValue(`a "quoted" anchor`, ""), `reference:"a \"quoted\" anchor"`, `{"type":"reference","anchor":"a \"quoted\" anchor"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, err := tt.v.MarshalText()
			require.NoError(t, err)
			assert.Equal(t, tt.text, string(text))
			var back connector.Value
			require.NoError(t, back.UnmarshalText(text))
			assert.Equal(t, tt.v, back, "text round trip")

			j, err := json.Marshal(tt.v)
			require.NoError(t, err)
			assert.JSONEq(t, tt.json, string(j))
			back = connector.Value{}
			require.NoError(t, json.Unmarshal(j, &back))
			assert.Equal(t, tt.v, back, "JSON round trip")
		})
	}
}

// TestAttributesJSON: json.Marshal of Attributes gave {} for every value
// before Value had a JSON form.
func TestAttributesJSON(t *testing.T) {
	attrs := connector.Attributes{
		"cn":         {connector.StringValue("Ada")},
		"objectGUID": {connector.BytesValue([]byte{1, 2, 3})},
		"member":     {connector.RefValue("g1", "CN=A"), connector.RefValue("", "CN=B")},
		"enabled":    {connector.BoolValue(true)},
	}
	b, err := json.Marshal(attrs)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "{}")
	var back connector.Attributes
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, attrs, back)
	assert.True(t, attrs.Equal(back))
}

func TestValueUnmarshalErrors(t *testing.T) {
	texts := []string{
		"", "Ada", "str:Ada", "integer:12x", "integer:", "boolean:maybe", "bytes:!!", "time:yesterday",
		`reference:4f1c`, `reference:"4f1c"CN=A`, `reference:"4f1c" `, `reference:"unterminated`,
	}
	for _, s := range texts {
		t.Run("text "+s, func(t *testing.T) {
			var v connector.Value
			assert.ErrorIs(t, v.UnmarshalText([]byte(s)), connector.ErrBadValue)
			assert.True(t, v.IsZero(), "a failed unmarshal leaves the value alone")
		})
	}
	jsons := []string{
		`{}`, `[]`, `"string:Ada"`, `{"type":"strange","value":"x"}`, `{"type":"string"}`,
		`{"type":"integer","value":"12"}`, `{"type":"integer","value":1.5}`, `{"type":"boolean","value":1}`,
		`{"type":"time","value":"yesterday"}`, `{"type":"bytes","value":"!!"}`,
	}
	for _, s := range jsons {
		t.Run("json "+s, func(t *testing.T) {
			var v connector.Value
			assert.ErrorIs(t, json.Unmarshal([]byte(s), &v), connector.ErrBadValue)
		})
	}
	_, err := connector.Value{}.MarshalText()
	assert.ErrorIs(t, err, connector.ErrBadValue)
	_, err = json.Marshal(connector.Value{})
	assert.ErrorIs(t, err, connector.ErrBadValue)
}

// FuzzValueText: whatever UnmarshalText accepts marshals back to a text
// that parses to the same value.
func FuzzValueText(f *testing.F) {
	for _, s := range []string{"string:Ada", "bytes:3q2+7w==", "integer:-5", "boolean:true", "time:2026-12-03T15:46:37Z", `reference:"a" CN=B`, `reference:""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v connector.Value
		if v.UnmarshalText([]byte(s)) != nil {
			return
		}
		text, err := v.MarshalText()
		require.NoError(t, err)
		var w connector.Value
		require.NoError(t, w.UnmarshalText(text), "%q", text)
		assert.Equal(t, v, w)
		j, err := json.Marshal(v)
		if a, dn := v.Ref(); !utf8.ValidString(v.Str()) || !utf8.ValidString(string(a)) || !utf8.ValidString(dn) {
			assert.ErrorIs(t, err, connector.ErrBadValue, "text that is not UTF-8 has no JSON form")
			return
		}
		require.NoError(t, err)
		w = connector.Value{}
		require.NoError(t, json.Unmarshal(j, &w), "%s", j)
		assert.Equal(t, v, w)
	})
}
