package main

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SIGTERM in the middle of an export stops the daemon cleanly (exit 0, what
// was exported recorded); restarted, it carries on and ends in the target
// state: every person of the directory once in the cloud.
func TestSIGTERMMidRunAndRestart(t *testing.T) {
	const people = 40
	w := newWorld(t)
	w.addPeople(t, people)

	// A write budget of 5 a second makes the export of 40 users last about
	// 8 seconds: the signal arrives while it runs.
	path := w.config(t, configParams{Store: "bolt", WriteBudget: 5})
	logs := &syncBuffer{}
	// The program is this test binary running main (see TestMain).
	cmd := exec.CommandContext(t.Context(), os.Args[0], "run", "-config", path)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	cmd.Stderr = logs
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	require.Eventually(t, func() bool {
		select {
		case err := <-exited:
			exited <- err
			return true
		default:
		}
		return len(w.graph.Users()) >= 5
	}, time.Minute, 20*time.Millisecond, "the export starts")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err := <-exited
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		t.Fatalf("exit status %d after SIGTERM, want 0\n%s", exitErr.ExitCode(), logs)
	}
	require.NoError(t, err, "%s", logs)
	stopped := len(w.graph.Users())
	require.Less(t, stopped, people, "SIGTERM came mid-run")
	t.Logf("stopped after %d of %d users", stopped, people)

	// Restarted (in this process, without the budget), one cycle completes
	// the export.
	d := startDaemon(t, w.config(t, configParams{Store: "bolt"}))
	c := d.nextCycle(t)
	require.NoError(t, c.err, "%s", d.logs)
	users, dups := w.cloud()
	assert.Empty(t, dups, "no user created twice")
	assert.Equal(t, w.directory(t), users)
}
