package idbridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// ErrExportParked matches the object error of a change that the connected
// system refused for good (connector.IsPermanent) and that is parked: not
// sent again until sync changes what the export wants or RetryExports is
// called. Every export run reports each parked change again, in
// RunResult.Errors, until then.
var ErrExportParked = errors.New("idbridge: export parked")

// parkedError is a parked change's refusal. It matches ErrExportParked and
// unwraps to the refusal.
type parkedError struct{ err error }

func (e *parkedError) Error() string {
	return e.err.Error() + " (parked: not sent again until the object changes or RetryExports)"
}
func (e *parkedError) Unwrap() error        { return e.err }
func (e *parkedError) Is(target error) bool { return target == ErrExportParked }

// Defaults of Options.ExportRetryBackoff and ExportRetryMaxBackoff.
const (
	DefaultExportRetryBackoff    = time.Minute
	DefaultExportRetryMaxBackoff = 4 * time.Hour
)

// exportHold is why an export run does not send an object's pending
// change, or holdNone when it sends it.
type exportHold uint8

const (
	holdNone        exportHold = iota
	holdUnconfirmed            // sent and accepted, awaiting an import
	holdParked                 // refused for good
	holdDeferred               // failed recently: waits for its retry backoff
)

// hold says whether an export run at now sends the change x.
func (e *Engine) hold(x *metaverse.Export, now time.Time) exportHold {
	switch x.State {
	case metaverse.ExportUnconfirmed:
		return holdUnconfirmed
	case metaverse.ExportParked:
		return holdParked
	case metaverse.ExportFailed:
		if now.Before(x.Updated.Add(e.retryBackoff(x.Attempts))) {
			return holdDeferred
		}
	}
	return holdNone
}

// retryBackoff is how long after its last failure a change that failed
// attempts times waits: Options.ExportRetryBackoff doubled per further
// failure, at most Options.ExportRetryMaxBackoff.
func (e *Engine) retryBackoff(attempts int) time.Duration {
	d, most := e.opts.ExportRetryBackoff, e.opts.ExportRetryMaxBackoff
	if d == 0 {
		d = DefaultExportRetryBackoff
	}
	if most <= 0 {
		most = DefaultExportRetryMaxBackoff
	}
	if d < 0 || attempts <= 0 {
		return 0
	}
	for i := 1; i < attempts && d < most; i++ {
		d *= 2
	}
	return min(d, most)
}

// refused records the connected system's refusal of an object's change:
// parked when it is for good, otherwise failed, to be retried after its
// backoff. It returns the error to report.
func refused(x *metaverse.Export, err error, now time.Time) error {
	x.Attempts++
	x.LastError = err.Error()
	x.Updated = now
	if connector.IsPermanent(err) {
		x.State = metaverse.ExportParked
		return &parkedError{err}
	}
	x.State = metaverse.ExportFailed
	return err
}

// parkedObjectError reports a change parked at an earlier export.
func parkedObjectError(connName string, o *metaverse.CSObject) *ObjectError {
	return &ObjectError{Connector: connName, ObjectID: o.ID, Anchor: o.Anchor, DN: cmpOr(o.Export.DN, o.DN),
		Step: "export " + o.Export.Kind.String(), Err: &parkedError{errors.New(o.Export.LastError)}}
}

// RetryExports makes parked and failed exports of a connector pending
// again, with no attempt counted, so that the next export sends them at
// once: those of the connector-space objects with the given IDs
// (PendingExport.ObjectID), or all of them when no ID is given. Call it
// after fixing what made the connected system refuse them (a duplicate
// value held by another object, a missing permission). It returns how many
// exports it changed; IDs of objects with no parked or failed export are
// ignored. It does not wait for a run in progress.
func (e *Engine) RetryExports(ctx context.Context, connectorName string, ids ...string) (int, error) {
	if _, err := e.conn(connectorName); err != nil {
		return 0, err
	}
	// page returns the next objects to look at, and "" when there are none.
	page := func(tx metaverse.Tx, after string) ([]*metaverse.CSObject, string, error) {
		if len(ids) == 0 {
			objs, err := tx.PendingExports(ctx, connectorName, after, 500)
			if err != nil || len(objs) == 0 {
				return nil, "", err
			}
			return objs, objs[len(objs)-1].ID, nil
		}
		if after != "" {
			return nil, "", nil
		}
		var objs []*metaverse.CSObject
		for _, id := range ids {
			o, err := tx.Object(ctx, connectorName, id)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return nil, "", err
			}
			objs = append(objs, o)
		}
		return objs, "ids", nil
	}
	total := 0
	for after := ""; ; {
		n, next := 0, ""
		err := e.store.Update(ctx, func(tx metaverse.Tx) error {
			objs, last, err := page(tx, after)
			n, next = 0, last
			if err != nil {
				return err
			}
			for _, o := range objs {
				if o.Export == nil || (o.Export.State != metaverse.ExportParked && o.Export.State != metaverse.ExportFailed) {
					continue
				}
				o.Export.State, o.Export.Attempts, o.Export.Updated = metaverse.ExportPending, 0, e.opts.Now()
				if err := tx.PutObject(ctx, o); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("idbridge: retrying exports of %q: %w", connectorName, err)
		}
		total += n
		if next == "" {
			return total, nil
		}
		after = next
	}
}
