package admin

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idbridge/idbridge"
)

func TestRunRowsShowFirstErrors(t *testing.T) {
	errs := []string{"e1", "e2", "e3", "e4", "e5"}
	tests := []struct {
		name  string
		rec   idbridge.RunRecord
		first []string
		more  int
	}{
		{"none", idbridge.RunRecord{}, []string{}, 0},
		{"few", idbridge.RunRecord{Errors: errs[:2], Counts: map[string]int{"errors": 2}}, errs[:2], 0},
		{"many", idbridge.RunRecord{Errors: errs, Counts: map[string]int{"errors": 5}}, errs[:3], 2},
		{"more counted than kept", idbridge.RunRecord{Errors: errs, Counts: map[string]int{"errors": 1500}}, errs[:3], 1497},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := runRows([]idbridge.RunRecord{tt.rec})[0]
			assert.Equal(t, tt.first, append([]string{}, row.FirstError...))
			assert.Equal(t, tt.more, row.MoreErrors)
		})
	}
}
