package admin

import (
	"fmt"
	"slices"
	"time"

	"github.com/idbridge/idbridge"
)

// chart is the run-history chart, drawn on the server as inline SVG: a
// bar per run for its duration (left axis) and a line through the number
// of objects each run changed (right axis), oldest run on the left.
type chart struct {
	Width, Height int
	Left, Right   int // the plot area's x bounds
	Top, Bottom   int // its y bounds
	Bars          []chartBar
	Points        []chartPoint
	Line          string // the points of the count polyline
	MaxDuration   string // the left axis' top label
	MaxCount      int    // the right axis' top label
}

type chartBar struct {
	X, Y, W, H float64
	Failed     bool
	Title      string // the tooltip
}

type chartPoint struct {
	X, Y  float64
	Count int
}

// changeCounts are the counts of a run that are objects changed: by an
// import in the connector space, by a sync in the metaverse and the
// connector spaces, by an export in the connected system.
var changeCounts = []string{"adds", "updates", "deletes", "projections", "joins", "disconnects", "mvUpdates", "mvDeletes",
	"provisions", "exportUpdates", "deprovisions", "exported"}

// changes is the number of objects a run changed.
func changes(r *idbridge.RunRecord) int {
	n := 0
	for _, k := range changeCounts {
		n += r.Counts[k]
	}
	return n
}

// newChart draws runs (newest first, as the store returns them); nil when
// there is no run.
func newChart(runs []idbridge.RunRecord) *chart {
	if len(runs) == 0 {
		return nil
	}
	runs = slices.Clone(runs)
	slices.Reverse(runs)
	c := &chart{Width: 720, Height: 220, Left: 60, Right: 660, Top: 16, Bottom: 190}
	var maxDur time.Duration
	maxCount := 0
	for _, r := range runs {
		maxDur = max(maxDur, r.Ended.Sub(r.Started))
		maxCount = max(maxCount, changes(&r))
	}
	if maxDur <= 0 {
		maxDur = time.Millisecond
	}
	c.MaxDuration = maxDur.Round(time.Millisecond).String()
	c.MaxCount = max(maxCount, 1)
	plotW, plotH := float64(c.Right-c.Left), float64(c.Bottom-c.Top)
	slot := plotW / float64(len(runs))
	for i, r := range runs {
		d := max(r.Ended.Sub(r.Started), 0)
		h := plotH * float64(d) / float64(maxDur)
		x := float64(c.Left) + slot*float64(i)
		n := changes(&r)
		c.Bars = append(c.Bars, chartBar{X: x + slot*0.15, W: slot * 0.7, Y: float64(c.Bottom) - h, H: h,
			Failed: r.Outcome == idbridge.OutcomeFailed || r.Outcome == idbridge.OutcomeErrors,
			Title:  fmt.Sprintf("%s %s %s: %s, %d changes, %d errors", r.Started.UTC().Format(time.DateTime), r.Connector, r.Profile, d.Round(time.Millisecond), n, len(r.Errors))})
		p := chartPoint{X: x + slot/2, Y: float64(c.Bottom) - plotH*float64(n)/float64(c.MaxCount), Count: n}
		c.Points = append(c.Points, p)
		if c.Line != "" {
			c.Line += " "
		}
		c.Line += fmt.Sprintf("%.1f,%.1f", p.X, p.Y)
	}
	return c
}
