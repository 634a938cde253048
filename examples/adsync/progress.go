package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/idbridge/idbridge"
)

// progressLine shows the run in progress on one terminal line, rewritten
// at each report (idbridge.Hooks.Progress), and ends it with the run's
// last report. It is for terminals only: a log gets the engine's run
// summaries instead.
type progressLine struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *progressLine) report(pr idbridge.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf("%s %s: %d objects", pr.Connector, pr.Profile, pr.Done)
	if pr.Total > 0 {
		line = fmt.Sprintf("%s %s: %d/%d objects (%d%%)", pr.Connector, pr.Profile, pr.Done, pr.Total, 100*pr.Done/pr.Total)
	}
	line += fmt.Sprintf(", %.0f/s", pr.Rate)
	if pr.Errors > 0 {
		line += fmt.Sprintf(", %d errors", pr.Errors)
	}
	if pr.ETA > 0 && !pr.Final {
		line += ", " + pr.ETA.Round(time.Second).String() + " left"
	}
	end := ""
	if pr.Final {
		line += ", " + pr.Elapsed.Round(time.Millisecond).String()
		end = "\n"
	}
	// \r returns to the line's start, \x1b[K clears what the last report
	// left beyond this one.
	fmt.Fprintf(p.w, "\r\x1b[K%s%s", line, end)
}

// withProgress sets opts' progress hook when stderr is a terminal.
func (c *cli) withProgress(opts *idbridge.Options) {
	if !c.terminal {
		return
	}
	p := &progressLine{w: c.stderr}
	opts.Hooks.Progress = p.report
	opts.ProgressInterval = time.Second
}
