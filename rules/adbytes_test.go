package rules_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
)

func TestGUIDAndSIDBytes(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want []connector.Value
		err  string
	}{
		{"sidBytes round trip", "sidString(sidBytes('S-1-5-21-1-2-3-1104')) == 'S-1-5-21-1-2-3-1104'", []connector.Value{connector.BoolValue(true)}, ""},
		{"sidBytes of objectSid", "sidBytes(sidString(source.objectSid)) == source.objectSid", []connector.Value{connector.BoolValue(true)}, ""},
		{"sidBytes well-known", "sidBytes('S-1-1-0') == b'\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x00'", []connector.Value{connector.BoolValue(true)}, ""},
		{"guidBytes round trip", "guidBytes(guidString(source.objectGUID)) == source.objectGUID", []connector.Value{connector.BoolValue(true)}, ""},
		{"guidBytes mixed-endian", "guidBytes('00112233-4455-6677-8899-aabbccddeeff') == b'\\x33\\x22\\x11\\x00\\x55\\x44\\x77\\x66\\x88\\x99\\xaa\\xbb\\xcc\\xdd\\xee\\xff'", []connector.Value{connector.BoolValue(true)}, ""},
		{"sidBytes bad", "sidBytes('S-1-x') == b''", nil, "is not a SID"},
		{"sidBytes sub-authority too big", "sidBytes('S-1-5-4294967296') == b''", nil, "is not a SID"},
		{"guidBytes bad", "guidBytes('nope') == b''", nil, "is not a GUID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := evalExpr(t, tt.expr, boo, adUser())
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// FuzzSIDBytes: any text in employeeID either fails or round-trips
// through sidString to the same SID.
func FuzzSIDBytes(f *testing.F) {
	for _, s := range []string{"S-1-5-21-1-2-3-1104", "S-1-1-0", "S-1-5", "S-", "s-255-281474976710655-4294967295"} {
		f.Add(s)
	}
	p, err := compileExpr(f, "sidString(sidBytes(source.employeeID))", str, 0)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, s string) {
		in := adUser()
		in.Attrs["employeeID"] = []connector.Value{connector.StringValue(s)}
		got, _, err := p.Eval(context.Background(), in, nil)
		if err != nil {
			return
		}
		require.Len(t, got, 1)
		in.Attrs["employeeID"] = got
		again, _, err := p.Eval(context.Background(), in, nil)
		require.NoError(t, err)
		assert.Equal(t, got, again)
	})
}
