package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/internal/testenv"
)

// Each scenario runs at a small size in this process, so that the harness
// cannot rot between benchmark runs. The numbers are not checked: this is
// not a timed test.
func TestScenariosRun(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, run(context.Background(), []string{"-child", s.name, "-n", "300"}, &out))
			var r result
			require.NoError(t, json.Unmarshal(out.Bytes(), &r), out.String())
			if r.Skipped != "" {
				// A scenario skips when its server is missing; in CI every
				// server runs, so a skip there is a failure.
				if testenv.InCI() {
					t.Fatalf("skipped under CI=true: %s", r.Skipped)
				}
				t.Skipf("skipped: %s", r.Skipped)
			}
			assert.Greater(t, r.Value, 0.0)
			assert.Greater(t, r.PeakRSS, int64(0))
		})
	}
}

func TestParseSizes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		err  bool
	}{
		{"10000", []int{10000}, false},
		{"10k,100k,1M", []int{10_000, 100_000, 1_000_000}, false},
		{"0", nil, true},
		{"ten", nil, true},
	} {
		got, err := parseSizes(tc.in)
		if tc.err {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got)
	}
}
