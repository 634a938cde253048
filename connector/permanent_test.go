package connector_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idbridge/idbridge/connector"
)

func TestIsPermanent(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"marked", connector.Permanent(errors.New("quota")), true},
		{"marked unavailable", connector.Permanent(connector.ErrUnavailable), true},
		{"constraint", connector.ErrConstraint, true},
		{"duplicate value in an object error", &connector.ObjectError{Op: "add", Err: connector.ErrDuplicateValue}, true},
		{"invalid object", fmt.Errorf("bad value: %w", connector.ErrInvalidObject), true},
		{"unsupported", connector.ErrUnsupported, true},
		{"unavailable", connector.ErrUnavailable, false},
		{"constraint while unavailable", fmt.Errorf("%w: %w", connector.ErrConstraint, connector.ErrUnavailable), false},
		{"no such object", connector.ErrNoSuchObject, false},
		{"already exists", connector.ErrAlreadyExists, false},
		{"access denied", connector.ErrAccessDenied, false},
		{"unknown", errors.New("boom"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, connector.IsPermanent(tc.err))
		})
	}
}
