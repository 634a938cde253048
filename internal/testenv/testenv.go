// Package testenv gives tests access to the real servers that `make test`
// starts (slapd, Samba AD, PostgreSQL), found through environment variables.
//
// When a variable is missing a test is skipped on a developer's machine, but
// fails when CI=true: in CI every integration test must run.
package testenv

import (
	"os"
	"testing"
)

// Get returns the value of the environment variable name, which describes a
// server the test needs (what, for the message). When it is unset the test is
// skipped, or fails under CI=true.
func Get(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	msg := what + " is not available: " + name + " is not set (run the tests with `make test`, which starts it)"
	if InCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// InCI reports whether the tests run in CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }
