package admin

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
)

func TestNewChart(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	run := func(start, secs int, counts map[string]int, err string) idbridge.RunRecord {
		s := t0.Add(time.Duration(start) * time.Minute)
		r := idbridge.RunRecord{Connector: "hr", Profile: "DeltaSync", Started: s, Ended: s.Add(time.Duration(secs) * time.Second), Counts: counts, Err: err, Outcome: idbridge.OutcomeSuccess}
		if err != "" {
			r.Outcome = idbridge.OutcomeFailed
		}
		return r
	}
	tests := []struct {
		name     string
		runs     []idbridge.RunRecord // newest first, as the store gives them
		heights  []float64            // bar heights, oldest first
		counts   []int
		failed   []bool
		maxLabel string
	}{
		{"no run", nil, nil, nil, nil, ""},
		{"one run", []idbridge.RunRecord{run(0, 2, map[string]int{"adds": 3}, "")}, []float64{174}, []int{3}, []bool{false}, "2s"},
		{
			"oldest on the left, heights by duration, observations not counted",
			[]idbridge.RunRecord{
				run(2, 1, map[string]int{"unchanged": 100, "updates": 2, "errors": 7}, ""),
				run(1, 4, nil, "boom"),
				run(0, 2, map[string]int{"adds": 5, "read": 5}, ""),
			},
			[]float64{87, 174, 43.5}, []int{5, 0, 2}, []bool{false, true, false}, "4s",
		},
		{"a zero-length run", []idbridge.RunRecord{run(0, 0, nil, "")}, []float64{0}, []int{0}, []bool{false}, "1ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChart(tt.runs)
			if tt.heights == nil {
				assert.Nil(t, c)
				return
			}
			require.NotNil(t, c)
			require.Len(t, c.Bars, len(tt.heights))
			require.Len(t, c.Points, len(tt.heights))
			for i, b := range c.Bars {
				assert.InDelta(t, tt.heights[i], b.H, 0.01, "bar %d", i)
				assert.InDelta(t, float64(c.Bottom), b.Y+b.H, 0.01, "bar %d stands on the axis", i)
				assert.Equal(t, tt.failed[i], b.Failed, "bar %d", i)
				assert.Equal(t, tt.counts[i], c.Points[i].Count, "point %d", i)
				assert.GreaterOrEqual(t, c.Points[i].Y, float64(c.Top))
				if i > 0 {
					assert.Greater(t, b.X, c.Bars[i-1].X)
				}
			}
			assert.Equal(t, tt.maxLabel, c.MaxDuration)
		})
	}
}
