package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunFromOwnDirectory runs the example as `go run .` in this directory
// does (go test runs here): it finds the sample and writes its changes
// where it is told.
func TestRunFromOwnDirectory(t *testing.T) {
	out := filepath.Join(t.TempDir(), "people-changes.ldif")
	require.NoError(t, run(context.Background(), findSample(), out))
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, 284, bytes.Count(b, []byte("changetype: add")), "one add per provisioned person")
}

// TestReadmeShowsThisCode: the README's embedding snippet is this
// program's code, line for line, so that it compiles and runs as shown.
func TestReadmeShowsThisCode(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "## Embedding")
	require.True(t, ok, "README has no Embedding section")
	_, block, ok := strings.Cut(section, "```go\n")
	require.True(t, ok, "the Embedding section has no Go block")
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)

	want := trimmedLines(block)
	require.NotEmpty(t, want)
	got := trimmedLines(string(src))
	for i := range got {
		if i+len(want) <= len(got) && slices.Equal(got[i:i+len(want)], want) {
			return
		}
	}
	t.Fatalf("the README's embedding snippet is not a run of lines of main.go; update one from the other:\n%s", block)
}

func trimmedLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
