package connector

import (
	"errors"
	"time"
)

// ErrAuth: the connected system refused the connector's credentials (a
// failed bind, a token that could not be obtained, an expired password or
// client secret). Unlike ErrAccessDenied, which may concern one object, it
// fails every operation until an operator fixes the credentials: the
// engine puts a connector whose run fails with it in quarantine at once.
// It is not permanent (connector.IsPermanent): changes refused with it are
// retried, never parked.
var ErrAuth = errors.New("connector: authentication failed")

// ThrottleReporter is implemented by connectors that pace their requests
// to the connected system and wait when it throttles them (Graph's HTTP
// 429 responses): the engine reports the counts in its metrics
// (idbridge.export.throttled and idbridge.export.throttle_wait).
type ThrottleReporter interface {
	// ThrottleStats returns the totals since the connector was made. It
	// is called from any goroutine.
	ThrottleStats() ThrottleStats
}

// ThrottleStats counts throttling since a connector was made.
type ThrottleStats struct {
	// Throttled counts the times the connected system throttled the
	// connector: a throttled response, or a batch of requests some of
	// which were throttled.
	Throttled int64
	// Waited is the total time the connector paused for them.
	Waited time.Duration
}
