package graphsync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/idbridge/idbridge/connector"
)

// maxBatch is Graph's limit of requests in one JSON batch
// (https://learn.microsoft.com/graph/json-batching).
const maxBatch = 20

// op is one Graph request of an export, sent inside a $batch.
type op struct {
	method string
	path   string // relative to the version: /users/{id}
	body   map[string]any
	// then handles the response: it returns the next chain of the task
	// (nil when the task is done or failed).
	then     func(status int, body map[string]any) []*op
	attempts int
	task     *task
	// free ops depend on nothing before them (member additions of a large
	// group): each goes alone, in whatever batch has room, in parallel.
	free bool
	// recover, set on creates (always the last op of their chain), is
	// what follows a failure that may have been applied (ambiguous): a
	// lookup deciding whether to send the create again.
	recover func() []*op
}

// splitFree cuts a chain into the chain of its dependent ops and one
// chain per free op.
func splitFree(chain []*op) [][]*op {
	var out [][]*op
	var dep []*op
	for _, o := range chain {
		if o.free {
			out = append(out, []*op{o})
		} else {
			dep = append(dep, o)
		}
	}
	if len(dep) > 0 {
		out = append([][]*op{dep}, out...)
	}
	return out
}

func (o *op) write() bool { return o.method != http.MethodGet }

// response is what a batch worker hands back for one op.
type response struct {
	op         *op
	status     int
	body       map[string]any
	retryAfter string
	err        error // the whole $batch failed
}

// sendBatch sends ops (whole chains, at most 20) as one $batch, each op
// depending on the one before it in its chain so that Graph runs them in
// order (https://learn.microsoft.com/graph/json-batching#sequencing-requests-with-the-dependson-property).
func (c *Connector) sendBatch(ctx context.Context, chains [][]*op) [][]response {
	var all []*op
	batch := msgraphcore.NewBatchRequest(c.adapter)
	var items []msgraphcore.BatchItem
	for _, chain := range chains {
		for i, o := range chain {
			id := strconv.Itoa(len(all) + 1)
			all = append(all, o)
			it := msgraphcore.NewBatchItem()
			method, path := o.method, o.path
			it.SetId(&id)
			it.SetMethod(&method)
			it.SetUrl(&path)
			if o.body != nil {
				it.SetBody(o.body)
				it.SetHeaders(msgraphcore.RequestHeader{"Content-Type": "application/json"})
			}
			if i > 0 {
				it.SetDependsOn([]string{strconv.Itoa(len(all) - 1)})
			}
			items = append(items, it)
		}
	}
	batch.SetRequests(items)
	out := make([]response, len(all))
	for i, o := range all {
		out[i].op = o
	}
	// What batch.Send does, with Graph's error mapping so that a refused
	// batch says why.
	ri := abstractions.NewRequestInformation()
	ri.Method = abstractions.POST
	ri.UrlTemplate = "{+baseurl}/$batch"
	ri.PathParameters["baseurl"] = c.adapter.GetBaseUrl()
	ri.Headers.Add("Accept", "application/json")
	var resp msgraphcore.BatchResponse
	err := ri.SetContentFromParsable(ctx, c.adapter, "application/json", batch)
	if err == nil {
		var p serialization.Parsable
		p, err = c.adapter.Send(ctx, ri, msgraphcore.CreateBatchResponseDiscriminator, errorMapping)
		resp, _ = p.(msgraphcore.BatchResponse)
		if err == nil && resp == nil {
			err = fmt.Errorf("graph: an empty $batch response: %w", connector.ErrUnavailable)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		} else {
			err = fromSDK("POST", "/$batch", err)
		}
		for i := range out {
			out[i].err = err
		}
		return split(out, chains)
	}
	for i := range out {
		it := resp.GetResponseById(strconv.Itoa(i + 1))
		if it == nil || it.GetStatus() == nil {
			out[i].err = fmt.Errorf("graph: $batch response without request %d: %w", i+1, connector.ErrUnavailable)
			continue
		}
		out[i].status = int(*it.GetStatus())
		if b := it.GetBody(); b != nil {
			out[i].body = plain(map[string]any(b)).(map[string]any)
		}
		for k, v := range it.GetHeaders() {
			if http.CanonicalHeaderKey(k) == "Retry-After" {
				out[i].retryAfter = v
			}
		}
	}
	return split(out, chains)
}

// responseError is the error of a failed response.
func responseError(r response) error {
	if r.err != nil {
		return r.err
	}
	return errorFromBody(r.op.method, r.op.path, r.status, r.body)
}

// split cuts the flat responses back into the chains sent.
func split(out []response, chains [][]*op) [][]response {
	res := make([][]response, len(chains))
	k := 0
	for i, ch := range chains {
		res[i] = out[k : k+len(ch)]
		k += len(ch)
	}
	return res
}

// run sends the tasks' ops until every task is done: chains are packed
// into $batch requests of at most 20, sent by up to Concurrency workers
// under the pacer; a throttled request (429/503/504, in the batch or of
// the batch) goes back in the queue after Graph's Retry-After, up to
// MaxAttempts; every other response is handed to its op's handler, which
// may queue the task's next chain.
func (c *Connector) run(ctx context.Context, tasks []*task) error {
	var queue [][]*op
	for _, t := range tasks {
		queue = append(queue, splitFree(t.start())...)
	}
	results := make(chan [][]response, c.cfg.Concurrency+1)
	inflight := 0
	for len(queue) > 0 || inflight > 0 {
		if len(queue) > 0 {
			if len(queue[0]) > maxBatch { // cannot happen: chains are cut in turns
				queue = append([][]*op{queue[0][:maxBatch], queue[0][maxBatch:]}, queue[1:]...)
			}
			var take [][]*op
			n, writes := 0, 0
			for len(queue) > 0 && n+len(queue[0]) <= maxBatch {
				for _, o := range queue[0] {
					if o.write() {
						writes++
					}
				}
				n += len(queue[0])
				take = append(take, queue[0])
				queue = queue[1:]
			}
			if err := c.acquireOrDrain(ctx, writes, results, &inflight, &queue); err != nil {
				return err
			}
			inflight++
			go func() {
				rs := c.sendBatch(ctx, take)
				// Throttled requests inside the batch pause everyone until
				// their Retry-After; the batch counts as throttled (for
				// the concurrency limit) when most of it was.
				n, hit, wait := 0, 0, time.Duration(0)
				for _, chain := range rs {
					for _, r := range chain {
						n++
						if isThrottle(r.status) || r.err != nil {
							hit++
							wait = max(wait, retryAfter(r.retryAfter))
						}
					}
				}
				switch {
				case 2*hit > n:
					c.pacer.throttled(wait)
				case hit > 0:
					c.pacer.pause(wait)
				}
				c.pacer.release(2*hit > n)
				results <- rs
			}()
			continue
		}
		rs := <-results
		inflight--
		queue = append(queue, c.handle(rs)...)
	}
	return ctx.Err()
}

// acquireOrDrain waits for the pacer, handling results that arrive in the
// meantime (a worker's result may be what frees a slot).
func (c *Connector) acquireOrDrain(ctx context.Context, writes int, results chan [][]response, inflight *int, queue *[][]*op) error {
	for {
		actx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- c.pacer.acquire(actx, writes) }()
		select {
		case err := <-done:
			cancel()
			return err
		case rs := <-results:
			cancel()
			acquired := <-done == nil // it may have won the race with cancel
			*inflight--
			*queue = append(*queue, c.handle(rs)...)
			if acquired {
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
}

// handle dispatches one batch's responses, chain by chain, and returns
// the chains to send next.
func (c *Connector) handle(chains [][]response) [][]*op {
	var next [][]*op
	for _, chain := range chains {
		for i, r := range chain {
			o := r.op
			t := o.task
			if t.failed != nil {
				break
			}
			if r.err != nil && !errors.Is(r.err, connector.ErrUnavailable) {
				t.fail(o, r.err)
				break
			}
			if o.recover != nil && ambiguous(r) {
				// The create may have been applied: look before sending
				// it again.
				o.attempts++
				if o.attempts >= c.cfg.MaxAttempts {
					t.fail(o, fmt.Errorf("gave up after %d attempts: %w", o.attempts, responseError(r)))
					break
				}
				next = append(next, splitFree(o.recover())...)
				break
			}
			if r.err != nil || isThrottle(r.status) || r.status == http.StatusFailedDependency {
				// Not applied: send it again, with the rest of its chain.
				o.attempts++
				if o.attempts >= c.cfg.MaxAttempts {
					t.fail(o, fmt.Errorf("gave up after %d attempts: %w", o.attempts, responseError(r)))
					break
				}
				var again []*op
				for _, x := range chain[i:] {
					again = append(again, x.op)
				}
				next = append(next, again)
				break
			}
			if follow := o.then(r.status, r.body); len(follow) > 0 {
				for _, x := range follow {
					x.task = t
				}
				next = append(next, splitFree(follow)...)
			}
			if t.failed != nil {
				break
			}
		}
	}
	return next
}
