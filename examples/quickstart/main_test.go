package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuickstart: the README's promise. The first run exports the sample
// to the emulated cloud; the second finds nothing new; an edit of one user
// in the source exports exactly that change.
func TestQuickstart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	runOnce := func() string {
		var out bytes.Buffer
		require.NoError(t, run(ctx, []string{"-state", dir}, &out))
		return out.String()
	}
	first := runOnce()
	assert.Contains(t, first, "the cloud (Entra ID, emulated) holds 293 users and 20 groups")
	assert.Regexp(t, regexp.MustCompile(`\d+ changes exported to the cloud`), first)

	second := runOnce()
	assert.Contains(t, second, "nothing new since the last run")
	assert.Contains(t, second, "holds 293 users and 20 groups", "the tenant was kept")

	src := filepath.Join(dir, "contoso-ad.ldif")
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	edited := strings.Replace(string(b), "title: Chief Executive Officer", "title: Chief Quickstart Officer", 1)
	require.NotEqual(t, string(b), edited)
	require.NoError(t, os.WriteFile(src, []byte(edited), 0o644))
	third := runOnce()
	assert.Contains(t, third, "1 changes exported to the cloud")
}
