package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
)

// command runs an operator command in this process and returns its output.
func command(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut}
	err := c.run(t.Context(), args)
	return out.String() + errOut.String(), err
}

// Staging → confirm: a daemon in staging mode imports and syncs but
// exports nothing; with the daemon stopped, the operator commands show the
// state, the pending exports, and export them once confirmed.
func TestOperatorCommands(t *testing.T) {
	w := newWorld(t)
	w.addPeople(t, 6)
	path := w.config(t, configParams{Store: "bolt", Staging: true})
	d := startDaemon(t, path)
	c := d.nextCycle(t)
	require.NoError(t, c.err, "%s", d.logs)
	d.stop(t)
	require.Empty(t, w.graph.Users(), "staging mode exports nothing")

	out, err := command(t, "", "status", "-config", path)
	require.NoError(t, err, out)
	assert.Contains(t, out, "mode: staging")
	assert.Regexp(t, `(?m)^entra\s+6\s+0\s+6\s`, out, "six objects provisioned to entra, their exports pending")
	assert.Regexp(t, `(?m)^dir\s+\d+\s+0\s+0\s+\w+ .* success`, out)

	out, err = command(t, "", "history", "-config", path, "-connector", "dir")
	require.NoError(t, err, out)
	assert.Contains(t, out, "FullImport")
	assert.Contains(t, out, "adds=")

	out, err = command(t, "", "search", "-config", path, "-connector", "dir", "p0003")
	require.NoError(t, err, out)
	assert.Contains(t, out, "uid=p0003,"+w.ou)

	var anchor string
	for uuid := range w.directory(t) {
		anchor = uuid
		break
	}
	out, err = command(t, "", "preview", "-config", path, "-connector", "dir", "-anchor", anchor)
	require.NoError(t, err, out)
	assert.Contains(t, out, "metaverse entry")
	assert.Contains(t, out, "sourceAnchor: ["+anchor+"]")

	out, err = command(t, "", "pending", "-config", path)
	require.NoError(t, err, out)
	assert.Contains(t, out, "6 pending exports add=6")

	out, err = command(t, "", "errors", "-config", path)
	require.NoError(t, err, out)
	assert.Contains(t, out, "0 errors")

	out, err = command(t, "n\n", "export", "-config", path)
	require.NoError(t, err, out)
	assert.Contains(t, out, "export these changes? [y/N]")
	assert.Contains(t, out, "nothing exported")
	require.Empty(t, w.graph.Users())

	out, err = command(t, "y\n", "export", "-config", path)
	require.NoError(t, err, out)
	assert.Contains(t, out, "exported=6")
	users, dups := w.cloud()
	assert.Empty(t, dups)
	assert.Equal(t, w.directory(t), users)

	_, err = command(t, "", "history", "-config", path, "-connector", "nope")
	require.ErrorIs(t, err, idbridge.ErrUnknownConnector)
	_, err = command(t, "", "frobnicate")
	require.ErrorIs(t, err, errUsage)
}
