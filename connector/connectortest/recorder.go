package connectortest

import (
	"context"

	"github.com/idbridge/idbridge/connector"
)

// Recorder is a connector.ImportSink that keeps what an import reports, in
// order. Connector tests use it to run an import without an engine. It is
// not safe for concurrent use, as no ImportSink need be.
type Recorder struct {
	Changes     []connector.Change
	Errors      []*connector.ObjectError
	Checkpoints [][]byte
	// Events lists the kinds of calls in order: "object", "error",
	// "checkpoint".
	Events []string
}

var _ connector.ImportSink = (*Recorder)(nil)

// Object implements connector.ImportSink. It returns ctx's error once ctx
// is done, as the engine's sink does.
func (r *Recorder) Object(ctx context.Context, c connector.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Attrs = c.Attrs.Clone()
	r.Changes = append(r.Changes, c)
	r.Events = append(r.Events, "object")
	return nil
}

// Error implements connector.ImportSink.
func (r *Recorder) Error(ctx context.Context, err *connector.ObjectError) error {
	if e := ctx.Err(); e != nil {
		return e
	}
	r.Errors = append(r.Errors, err)
	r.Events = append(r.Events, "error")
	return nil
}

// Checkpoint implements connector.ImportSink.
func (r *Recorder) Checkpoint(ctx context.Context, watermark []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.Checkpoints = append(r.Checkpoints, append([]byte(nil), watermark...))
	r.Events = append(r.Events, "checkpoint")
	return nil
}

// Watermark returns the last checkpoint's watermark (nil when none).
func (r *Recorder) Watermark() []byte {
	if len(r.Checkpoints) == 0 {
		return nil
	}
	return r.Checkpoints[len(r.Checkpoints)-1]
}

// Objects returns the objects of the Add changes, in order.
func (r *Recorder) Objects() []connector.Object {
	var out []connector.Object
	for i := range r.Changes {
		if r.Changes[i].Kind == connector.Add {
			out = append(out, r.Changes[i].Object())
		}
	}
	return out
}
