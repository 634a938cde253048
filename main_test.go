package idbridge_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: Run's
// watchers and the engine's own goroutines must all stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
