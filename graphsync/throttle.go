package graphsync

import "github.com/idbridge/idbridge/connector"

var _ connector.ThrottleReporter = (*Connector)(nil)

// ThrottleStats implements connector.ThrottleReporter: the times Graph
// throttled the connector (each 429, 503 or 504 response, and each $batch
// response with throttled or failed requests in it) and the time the pacer
// paused all workers for them, since Open.
func (c *Connector) ThrottleStats() connector.ThrottleStats {
	c.pacer.mu.Lock()
	defer c.pacer.mu.Unlock()
	return c.pacer.stats
}
