package addir

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
)

// New builds a directory of shape s under a random name for t, and
// removes it when t ends (IDBRIDGE_AD_KEEP=1 keeps it for a look). For
// tests that change the directory.
func New(t testing.TB, s Shape) *Directory {
	t.Helper()
	srv := FromEnv(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	d, err := Build(context.Background(), srv, "addir-"+hex.EncodeToString(b), s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if os.Getenv("IDBRIDGE_AD_KEEP") == "" {
			if err := d.Remove(context.Background()); err != nil {
				t.Error(err)
			}
		}
	})
	return d
}

// Shared builds, or reuses, the directory name of shape s and keeps it:
// for read-only tests, which then share one build per domain controller.
// A test must not change a shared directory.
func Shared(t testing.TB, name string, s Shape) *Directory {
	t.Helper()
	d, err := Build(context.Background(), FromEnv(t), name, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
