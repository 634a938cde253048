package graphtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBatch is Graph's limit of requests per $batch
// (https://learn.microsoft.com/graph/json-batching#batch-size-limitations).
const maxBatch = 20

type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      json.RawMessage   `json:"body,omitempty"`
	DependsOn []string          `json:"dependsOn,omitempty"`
}

// batch answers POST /$batch (https://learn.microsoft.com/graph/json-batching).
// Sub-requests run sequentially, each after the ones it dependsOn; a
// sub-request whose dependency failed gets 424 Failed Dependency. Each
// sub-request is subject to fault injection and the write budget on its
// own and is logged with InBatch set.
func (s *Server) batch(ctx context.Context, req *apiRequest) apiResponse {
	var payload struct {
		Requests []batchItem `json:"requests"`
	}
	if err := json.Unmarshal(req.body, &payload); err != nil {
		return s.errResponse(req, newError(http.StatusBadRequest, "BadRequest", "Invalid batch payload: %v", err))
	}
	items := payload.Requests
	if len(items) == 0 {
		return s.errResponse(req, newError(http.StatusBadRequest, "BadRequest", "Invalid batch payload: no requests."))
	}
	if len(items) > maxBatch {
		return s.errResponse(req, newError(http.StatusBadRequest, "BadRequest",
			"The number of requests in the batch exceeds the limit of %d.", maxBatch))
	}
	byID := make(map[string]int, len(items))
	for i, it := range items {
		if it.ID == "" || it.Method == "" || it.URL == "" {
			return s.errResponse(req, newError(http.StatusBadRequest, "BadRequest", "Each request needs id, method and url."))
		}
		if _, dup := byID[it.ID]; dup {
			return s.errResponse(req, newError(http.StatusBadRequest, "BadRequest", "Request id '%s' is not unique.", it.ID))
		}
		byID[it.ID] = i
	}
	for _, it := range items {
		for _, d := range it.DependsOn {
			if _, ok := byID[d]; !ok {
				return s.errResponse(req, newError(http.StatusBadRequest, "BadRequest",
					"Request '%s' depends on unknown request '%s'.", it.ID, d))
			}
		}
	}
	const (
		unvisited = iota
		running
		done
	)
	state := make([]int, len(items))
	status := make([]int, len(items))
	responses := make([]any, len(items))
	// lost is an injected fault that loses the whole batch's response.
	var lost *Fault
	var run func(i int) bool
	run = func(i int) bool {
		switch state[i] {
		case done:
			return true
		case running:
			return false // cycle
		}
		state[i] = running
		it := items[i]
		failed := false
		for _, d := range it.DependsOn {
			if !run(byID[d]) {
				return false
			}
			if status[byID[d]] >= 400 {
				failed = true
			}
		}
		sub := s.subRequest(req, it)
		start := time.Now()
		var resp apiResponse
		switch {
		case failed:
			resp = s.errResponse(sub, newError(http.StatusFailedDependency, "FailedDependency",
				"The request could not be run because a request it depends on failed."))
		case ctxDone(ctx):
			resp = s.errResponse(sub, newError(http.StatusServiceUnavailable, "serviceNotAvailable", "The batch was cancelled."))
		default:
			resp = s.runSubFaulty(sub, &lost)
		}
		status[i] = resp.status
		responses[i] = s.subResponse(it.ID, resp)
		logged := resp.status
		if resp.applied != 0 {
			logged = resp.applied
		}
		s.record(Request{Method: sub.method, Path: "/v1.0" + sub.path, Query: sub.rawQuery, Status: logged,
			InBatch: true, Time: start, Fault: resp.fault})
		state[i] = done
		return true
	}
	for i := range items {
		if lost != nil && !lost.After {
			break // the connection broke before the rest was run
		}
		if !run(i) {
			return s.errResponse(req, newError(http.StatusBadRequest, "BadRequest", "The dependsOn graph of the batch has a cycle."))
		}
	}
	out := apiResponse{status: http.StatusOK, body: map[string]any{"responses": compact(responses)}}
	if lost != nil {
		out.lost, out.fault = &lost.Kind, describe(lost)
	}
	return out
}

// subRequest turns a batch item into an apiRequest. URLs are relative to
// /v1.0 ("/users", "users/{id}"); an absolute URL is accepted too.
func (s *Server) subRequest(outer *apiRequest, it batchItem) *apiRequest {
	raw := it.URL
	if !strings.HasPrefix(raw, "http://") && !strings.HasPrefix(raw, "https://") {
		raw = "/" + strings.TrimPrefix(raw, "/")
	}
	sub := &apiRequest{
		method:          strings.ToUpper(it.Method),
		header:          http.Header{},
		inBatch:         true,
		requestID:       outer.requestID,
		clientRequestID: outer.clientRequestID,
		query:           url.Values{},
	}
	for k, v := range it.Headers {
		sub.header.Set(k, v)
	}
	if u, err := url.Parse(raw); err == nil {
		sub.path = strings.TrimPrefix(u.Path, "/v1.0")
		sub.rawQuery = u.RawQuery
		sub.query = u.Query()
	} else {
		sub.path = raw
	}
	sub.body = batchBody(it.Body)
	return sub
}

// batchBody returns the JSON body of a sub-request; a JSON string body is
// base64 content as Graph documents for non-JSON payloads.
func batchBody(b json.RawMessage) []byte {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) == nil {
			if d, err := base64.StdEncoding.DecodeString(s); err == nil {
				return d
			}
			return []byte(s)
		}
	}
	return b
}

// runSubFaulty runs a sub-request under the injected faults: a
// FaultStatus replaces its response (before or after running it); a
// FaultReset or FaultTruncate is recorded in lost, for the whole batch.
func (s *Server) runSubFaulty(sub *apiRequest, lost **Fault) apiResponse {
	f := s.injectedFault(sub.method, sub.path)
	switch {
	case f == nil:
		return s.runSub(sub)
	case f.Kind != FaultStatus:
		*lost = f
		if !f.After {
			resp := s.errResponse(sub, s.faultError(http.StatusGatewayTimeout))
			resp.fault = describe(f)
			return resp
		}
		resp := s.runSub(sub)
		resp.fault = describe(f)
		return resp
	case !f.After:
		resp := s.errResponse(sub, s.faultError(f.Status))
		resp.fault = describe(f)
		return resp
	}
	return s.afterFault(sub, s.runSub(sub), f)
}

// compact drops the responses of requests a lost batch never ran.
func compact(rs []any) []any {
	out := rs[:0:0]
	for _, r := range rs {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) runSub(sub *apiRequest) apiResponse {
	if gerr := s.fault(); gerr != nil {
		return s.errResponse(sub, gerr)
	}
	if sub.path == "/$batch" {
		return s.errResponse(sub, newError(http.StatusBadRequest, "BadRequest", "Nested $batch requests are not supported."))
	}
	return s.route(sub)
}

func (s *Server) subResponse(id string, resp apiResponse) map[string]any {
	h := map[string]string{}
	for k, v := range resp.header {
		h[k] = v
	}
	out := map[string]any{"id": id, "status": resp.status}
	switch {
	case resp.text != nil:
		h["Content-Type"] = "text/plain"
		out["body"] = *resp.text
	case resp.body != nil:
		h["Content-Type"] = "application/json"
		out["body"] = resp.body
	}
	out["headers"] = h
	return out
}
