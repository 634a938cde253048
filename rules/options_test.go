package rules_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/rules"
)

type nilEvaluator struct{ rules.Evaluator }

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts rules.Options
		want string // "" when valid
	}{
		{"zero value", rules.Options{}, ""},
		{"cost limit", rules.Options{CostLimit: 5000}, ""},
		{"maximum cost limit", rules.Options{CostLimit: rules.MaxCostLimit}, ""},
		{"cost limit too high", rules.Options{CostLimit: rules.MaxCostLimit + 1}, "CostLimit"},
		{"CEL", rules.Options{Evaluator: rules.NewCEL()}, ""},
		{"nil pointer evaluator", rules.Options{Evaluator: (*nilEvaluator)(nil)}, "Evaluator is a nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, rules.ErrInvalidOptions)
			assert.ErrorContains(t, err, tt.want)
			_, cerr := rules.Compile(nil, rules.Schemas{Metaverse: &connector.Schema{}}, tt.opts)
			assert.ErrorIs(t, cerr, rules.ErrInvalidOptions, "Compile validates")
		})
	}
}
