package rules_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/rules"
)

func TestFunctions(t *testing.T) {
	tests := []struct {
		name   string
		expr   string
		result rules.ResultType
		want   []connector.Value
		err    string
	}{
		{"guidString", "guidString(source.objectGUID)", str, strVals("00112233-4455-6677-8899-aabbccddeeff"), ""},
		{"guidString bad length", "guidString(b'abc')", str, nil, "3 bytes, want 16"},
		{"sidString", "sidString(source.objectSid)", str, strVals("S-1-5-21-1-2-3-1104"), ""},
		{"sidString well-known", "sidString(b'\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x00')", str, strVals("S-1-1-0"), ""},
		{"sidString bad", "sidString(b'\\x01\\x05')", str, nil, "not a valid SID"},
		{"base64", "base64(source.objectGUID)", str, strVals("MyIRAFVEd2aImaq7zN3u/w=="), ""},
		{"convertToBase64 bytes", "convertToBase64(b'hi')", str, strVals("aGk="), ""},
		{"convertToBase64 string", "convertToBase64('hi')", str, strVals("aGk="), ""},
		{"base64.encode from ext.Encoders", "base64.encode(b'hi')", str, strVals("aGk="), ""},
		{"bitAnd", "bitAnd(source.userAccountControl, 0x200)", num, []connector.Value{connector.IntValue(512)}, ""},
		{"bitOr", "bitOr(source.userAccountControl, 2)", num, []connector.Value{connector.IntValue(514)}, ""},
		{"isBitSet false", "isBitSet(source.userAccountControl, 2)", boo, []connector.Value{connector.BoolValue(false)}, ""},
		{"isBitSet true", "isBitSet(514, 2)", boo, []connector.Value{connector.BoolValue(true)}, ""},
		{"isBitSet all bits of the flag", "isBitSet(15, 4) && !isBitSet(15, 16) && !isBitSet(1, 3)", boo, []connector.Value{connector.BoolValue(true)}, ""},
		{"isBitSet zero flag", "isBitSet(15, 0)", boo, []connector.Value{connector.BoolValue(false)}, ""},
		{"dnComponent 1 unescapes", "dnComponent(dn, 1)", str, strVals("Doe, John"), ""},
		{"dnComponent 2", "dnComponent(dn, 2)", str, strVals("Sales"), ""},
		{"dnComponent out of range", "dnComponent(dn, 9)", str, nil, ""},
		{"dnComponent hex escape", `dnComponent("CN=a\\2Cb,DC=x", 1)`, str, strVals("a,b"), ""},
		{"dnComponentRev", "dnComponentRev(dn, 1)", str, strVals("com"), ""},
		{"dnParent", "dnParent(dn)", str, strVals("OU=Sales,DC=contoso,DC=com"), ""},
		{"dnParent of one RDN", "dnParent('DC=com')", str, nil, ""},
		{"fileTimeToTime", "fileTimeToTime(133000000000000000)", tim, []connector.Value{connector.TimeValue(time.Date(2022, 6, 18, 4, 26, 40, 0, time.UTC))}, ""},
		{"fileTimeToTime never", "fileTimeToTime(9223372036854775807) == fileTimeToTime(0)", boo, []connector.Value{connector.BoolValue(true)}, ""},
		{"coalesce", "coalesce([source.displayName, source.givenName])", str, strVals("John"), ""},
		{"coalesce none is null", "coalesce([source.displayName])", str, nil, ""},
		{"ternary as iif", "source.sn == 'Doe' ? 'yes' : 'no'", str, strVals("yes"), ""},
		{"ext.Strings", "source.mail.lowerAscii().split('@')[1]", str, strVals("contoso.com"), ""},
		{"ext.Lists", "source.proxyAddresses.sortBy(p, p)[0]", str, strVals("SMTP:John.Doe@contoso.com"), ""},
		{"optional", "source.?displayName.orValue(source.sn)", str, strVals("Doe"), ""},
		{"list result", "source.proxyAddresses.map(p, p.lowerAscii())", strs, strVals("smtp:john.doe@contoso.com", "smtp:jd@contoso.com"), ""},
		{"single value to multi", "source.mail", strs, strVals("John.Doe@contoso.com"), ""},
		{"reference read as anchor", "source.manager", str, strVals("mgr-anchor"), ""},
		{"reference from anchor", "'abc'", ref, []connector.Value{connector.RefValue("abc", "")}, ""},
		{"reference from dn", "'dn:CN=X,DC=com'", ref, []connector.Value{connector.RefValue("", "CN=X,DC=com")}, ""},
		{"references", "[source.manager, 'dn:cn=y']", refs, []connector.Value{connector.RefValue("mgr-anchor", ""), connector.RefValue("", "cn=y")}, ""},
		{"bytes result", "base64.decode('aGk=')", byt, []connector.Value{connector.BytesValue([]byte("hi"))}, ""},
		{"int list", "[1, 2].map(x, x * 2)", nums, []connector.Value{connector.IntValue(2), connector.IntValue(4)}, ""},
		{"anchor variable", "anchor", str, strVals("00112233-4455-6677-8899-aabbccddeeff"), ""},
		{"runtime error", "source.proxyAddresses[5]", strs, nil, "evaluation failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, kind, err := evalExpr(t, tt.expr, tt.result, adUser())
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			if tt.want == nil {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, rules.NotNull, kind)
			assert.Equal(t, tt.want, got)
		})
	}
}
