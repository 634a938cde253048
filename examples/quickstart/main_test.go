package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuickstart: the README's promise. The first run is an initial cycle
// that exports the sample to the emulated cloud through Entra Connect's
// default rules (3 distribution groups stay on-premises: Graph cannot
// create them) and explains its counts;
// the second finds nothing new; an edit of an exported attribute of one
// user in the source exports exactly that change, telephoneNumber
// included.
func TestQuickstart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	runOnce := func() string {
		var out bytes.Buffer
		require.NoError(t, run(ctx, []string{"-state", dir}, &out))
		return out.String()
	}
	first := runOnce()
	assert.Contains(t, first, "initial cycle:")
	assert.Regexp(t, regexp.MustCompile(`(?m)^ad +FullImport +adds=319 errors=4; delete pass skipped: an object that could not be read`), first)
	assert.Regexp(t, regexp.MustCompile(`(?m)^ad +FullSync +projections=313 provisions=310$`), first)
	assert.Contains(t, first, "the AD connector space holds 299 users and 20 groups; 6 users are out of scope")
	assert.Contains(t, first, "metaverse: 293 people (15 disabled), 20 groups.")
	assert.Contains(t, first, "604 changes exported to the cloud: 310 objects created, then 294 updates")
	assert.Contains(t, first, "businessPhones", "the exported attributes are listed")
	assert.Contains(t, first, "manager", "managers are exported")
	assert.Contains(t, first, "the cloud (Entra ID, emulated) holds 293 users and 17 groups")

	second := runOnce()
	assert.Contains(t, second, "delta cycle:")
	assert.Contains(t, second, "nothing new since the last run")
	assert.Contains(t, second, "holds 293 users and 17 groups", "the tenant was kept")

	src := filepath.Join(dir, "contoso-ad.ldif")
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	for _, edit := range [][2]string{
		{"title: Chief Executive Officer", "title: Chief Quickstart Officer"},
		{"telephoneNumber: +1 425 555 0100", "telephoneNumber: +1 425 555 0199"},
	} {
		edited := strings.Replace(string(b), edit[0], edit[1], 1)
		require.NotEqual(t, string(b), edited)
		require.NoError(t, os.WriteFile(src, []byte(edited), 0o644))
		b = []byte(edited)
		assert.Contains(t, runOnce(), "\n1 change exported to the cloud.", edit[1])
	}
}

// TestHelp: -h prints the usage with every flag and is not an error of
// the program (main exits 0).
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-h"}, &out)
	assert.ErrorIs(t, err, flag.ErrHelp)
	for _, f := range []string{"-state", "-source", "-reset", "-v", "copied sample"} {
		assert.Contains(t, out.String(), f)
	}
}
