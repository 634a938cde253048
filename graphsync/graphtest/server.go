package graphtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a [Server]. The zero value is usable.
type Options struct {
	// Domains are the verified domains in addition to InitialDomain.
	// Default {"example.com"}.
	Domains []string
	// InitialDomain is the tenant's *.onmicrosoft.com domain, always
	// verified. Default "contoso.onmicrosoft.com".
	InitialDomain string
	// Token is the bearer token required in Authorization. Empty accepts
	// any bearer token; a missing header is always 401.
	Token string
	// PageSize is the default page size of lists and delta pages.
	// Default 100. $top (1..999) overrides it for lists.
	PageSize int
	// Latency is added to every HTTP request.
	Latency time.Duration
	// ThrottleRate is the fraction (0..1) of requests, and of each
	// $batch sub-request, answered 429 with Retry-After. Deterministic
	// for a given Seed and request order.
	ThrottleRate float64
	// UnavailableRate is the fraction answered 503 with Retry-After.
	UnavailableRate float64
	// RetryAfter is the Retry-After of injected 429/503 faults, written
	// as whole seconds rounded up (minimum 1). Default 1s.
	RetryAfter time.Duration
	// WriteBudget is the number of writes (POST/PATCH/DELETE, each
	// $batch sub-request counted) admitted per WriteWindow; 0 means
	// unlimited. Over budget the write is answered 429 with Retry-After
	// = seconds until the window resets (rounded up, minimum 1).
	WriteBudget int
	// WriteWindow is the fixed budget window, aligned on the server's
	// start time. Default 1s when WriteBudget > 0.
	WriteWindow time.Duration
	// Seed makes generated ids and fault injection deterministic.
	Seed int64
	// Logger receives one debug record per request. Default discards.
	Logger *slog.Logger
}

// Request is one entry of the request log: an HTTP request, or a $batch
// sub-request (InBatch). Path includes the /v1.0 prefix, also for
// sub-requests; Query is the raw query string.
type Request struct {
	Method  string
	Path    string
	Query   string
	Status  int
	InBatch bool
	Time    time.Time
	// Fault describes the injected fault the request met ("504 after",
	// "reset before"; see [Fault]); empty when none. Status is then what
	// the emulator did: the applied request's status for a fault After,
	// the injected status for one before.
	Fault string
}

// Server is an in-process Microsoft Graph v1.0 emulator listening on a
// loopback TLS port. It is safe for concurrent use.
type Server struct {
	opts   Options
	logger *slog.Logger
	ts     *httptest.Server
	secret []byte
	start  time.Time

	mu    sync.Mutex // guards st and epoch
	st    *store
	epoch uint64 // delta tokens of an older epoch are expired

	ctl         sync.Mutex // guards the fields below
	rng         *mrand.Rand
	throttle    float64
	unavailable float64
	window      int64 // index of the current budget window
	windowUsed  int
	faults      []*injected

	logMu  sync.Mutex
	reqs   []Request
	logGen uint64 // bumped by ResetLog, invalidating reserved slots

	writes atomic.Int64
	reqSeq atomic.Uint64
}

// Validate reports options out of range: negative durations or sizes,
// rates outside 0..1, PageSize above 999.
func (o Options) Validate() error {
	switch {
	case o.PageSize < 0 || o.PageSize > 999:
		return fmt.Errorf("graphtest: PageSize %d not in 0..999", o.PageSize)
	case o.ThrottleRate < 0 || o.UnavailableRate < 0 || o.ThrottleRate+o.UnavailableRate > 1:
		return fmt.Errorf("graphtest: fault rates %v+%v not in 0..1", o.ThrottleRate, o.UnavailableRate)
	case o.Latency < 0 || o.RetryAfter < 0 || o.WriteWindow < 0 || o.WriteBudget < 0:
		return fmt.Errorf("graphtest: negative Latency, RetryAfter, WriteWindow or WriteBudget")
	}
	return nil
}

// NewServer starts an emulator with opts. Call Close when done. It panics
// if opts.Validate fails (a programming error in the test).
func NewServer(opts Options) *Server {
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	if len(opts.Domains) == 0 {
		opts.Domains = []string{"example.com"}
	}
	if opts.InitialDomain == "" {
		opts.InitialDomain = "contoso.onmicrosoft.com"
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	if opts.WriteBudget > 0 && opts.WriteWindow <= 0 {
		opts.WriteWindow = time.Second
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:        opts,
		logger:      logger,
		secret:      make([]byte, 32),
		start:       time.Now(),
		st:          newStore(opts.Domains, opts.InitialDomain, opts.Seed),
		rng:         mrand.New(mrand.NewPCG(uint64(opts.Seed), 0x6661756c7473)),
		throttle:    opts.ThrottleRate,
		unavailable: opts.UnavailableRate,
	}
	_, _ = rand.Read(s.secret)
	// Global Administrator is always activated in a tenant.
	s.st.role("Global Administrator")
	s.ts = httptest.NewUnstartedServer(s)
	s.ts.EnableHTTP2 = true
	s.ts.StartTLS()
	return s
}

// URL returns the base URL, https://127.0.0.1:port, without /v1.0.
func (s *Server) URL() string { return s.ts.URL }

// Certificate returns the server's TLS certificate, for a client in
// another process (its PEM encoding in a file) to trust.
func (s *Server) Certificate() *x509.Certificate { return s.ts.Certificate() }

// Client returns an HTTP client trusting the server's certificate.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close shuts the server down, waiting for outstanding requests.
func (s *Server) Close() { s.ts.Close() }

// SetFaults changes ThrottleRate and UnavailableRate at run time.
func (s *Server) SetFaults(throttleRate, unavailableRate float64) {
	s.ctl.Lock()
	s.throttle, s.unavailable = throttleRate, unavailableRate
	s.ctl.Unlock()
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// ResetLog empties the request log.
func (s *Server) ResetLog() {
	s.logMu.Lock()
	s.reqs = nil
	s.logGen++
	s.logMu.Unlock()
}

// Writes returns the number of successful writes made through the HTTP
// API (each $batch sub-request counted). Direct-state methods are not
// counted.
func (s *Server) Writes() int { return int(s.writes.Load()) }

func (s *Server) record(r Request) {
	s.logMu.Lock()
	s.reqs = append(s.reqs, r)
	s.logMu.Unlock()
}

// reserve appends a log entry for a request that is starting, so that the
// log is in arrival order; complete fills in its status.
func (s *Server) reserve(r Request) (idx int, gen uint64) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.reqs = append(s.reqs, r)
	return len(s.reqs) - 1, s.logGen
}

func (s *Server) complete(idx int, gen uint64, r Request) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if gen == s.logGen && idx < len(s.reqs) {
		s.reqs[idx] = r
		return
	}
	s.reqs = append(s.reqs, r)
}

// apiRequest is a request after transport concerns (auth, faults, gzip)
// are handled; $batch sub-requests use the same type.
type apiRequest struct {
	method          string
	path            string // without the /v1.0 prefix
	rawQuery        string
	query           url.Values
	header          http.Header
	body            []byte
	inBatch         bool
	requestID       string
	clientRequestID string
}

// apiResponse is a response before encoding. body is a JSON value; text
// is used instead for text/plain answers.
type apiResponse struct {
	status int
	header map[string]string
	body   any
	text   *string
	// lost, when set, says how the response is lost (an injected
	// FaultReset or FaultTruncate); fault describes it for the log.
	lost  *FaultKind
	fault string
	// applied is the status of the request that was run when an
	// injected fault After replaced its response; 0 otherwise.
	applied int
}

func (s *Server) errResponse(req *apiRequest, e *graphError) apiResponse {
	return apiResponse{
		status: e.status,
		header: e.header,
		body:   e.body(time.Now().UTC().Format("2006-01-02T15:04:05"), req.requestID, req.clientRequestID),
	}
}

func (s *Server) newRequestID() string {
	n := s.reqSeq.Add(1)
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(s.opts.Seed), n)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req := &apiRequest{
		method:          r.Method,
		rawQuery:        r.URL.RawQuery,
		query:           r.URL.Query(),
		header:          r.Header,
		requestID:       s.newRequestID(),
		clientRequestID: r.Header.Get("client-request-id"),
	}
	if req.clientRequestID == "" {
		req.clientRequestID = req.requestID
	}
	entry := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Time: start}
	idx, gen := s.reserve(entry)
	resp := s.serveFaulty(r, req)
	entry.Status, entry.Fault = resp.status, resp.fault
	if resp.applied != 0 {
		entry.Status = resp.applied
	}
	h := w.Header()
	h.Set("request-id", req.requestID)
	h.Set("client-request-id", req.clientRequestID)
	for k, v := range resp.header {
		h.Set(k, v)
	}
	if resp.lost != nil {
		s.complete(idx, gen, entry)
		s.loseResponse(w, resp)
	}
	switch {
	case resp.text != nil:
		h.Set("Content-Type", "text/plain")
		w.WriteHeader(resp.status)
		_, _ = io.WriteString(w, *resp.text)
	case resp.body != nil:
		h.Set("Content-Type", jsonContentType)
		w.WriteHeader(resp.status)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(resp.body)
	default:
		w.WriteHeader(resp.status)
	}
	s.complete(idx, gen, entry)
	s.logger.Debug("graphtest request", "method", r.Method, "path", r.URL.Path, "status", resp.status,
		"duration", time.Since(start))
}

const jsonContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// serveFaulty serves a request under the injected faults that match it.
func (s *Server) serveFaulty(r *http.Request, req *apiRequest) apiResponse {
	f := s.injectedFault(r.Method, strings.TrimPrefix(r.URL.Path, "/v1.0"))
	if f == nil {
		return s.serveHTTP(r, req)
	}
	if !f.After {
		resp := s.errResponse(req, s.faultError(f.Status))
		if f.Kind != FaultStatus {
			resp = apiResponse{status: resp.status, lost: &f.Kind}
		}
		resp.fault = describe(f)
		return resp
	}
	return s.afterFault(req, s.serveHTTP(r, req), f)
}

// afterFault loses the response of a request that was applied.
func (s *Server) afterFault(req *apiRequest, resp apiResponse, f *Fault) apiResponse {
	if f.Kind == FaultStatus {
		applied := resp.status
		resp = s.errResponse(req, s.faultError(f.Status))
		resp.applied, resp.fault = applied, describe(f)
		return resp
	}
	resp.lost, resp.fault = &f.Kind, describe(f)
	return resp
}

func describe(f *Fault) string {
	what := f.Kind.String()
	if f.Kind == FaultStatus {
		what = strconv.Itoa(f.Status)
	}
	if f.After {
		return what + " after"
	}
	return what + " before"
}

// loseResponse aborts the response (a reset), or sends half of it first
// (a truncated body). It does not return: the server recovers
// http.ErrAbortHandler and closes the connection or stream without
// logging.
func (s *Server) loseResponse(w http.ResponseWriter, resp apiResponse) {
	if *resp.lost == FaultTruncate {
		b, _ := json.Marshal(resp.body)
		if len(b) == 0 {
			b = []byte(`{"error":{}}`)
		}
		w.Header().Set("Content-Type", jsonContentType)
		w.WriteHeader(resp.status)
		_, _ = w.Write(b[:len(b)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
	}
	panic(http.ErrAbortHandler)
}

func (s *Server) serveHTTP(r *http.Request, req *apiRequest) apiResponse {
	if s.opts.Latency > 0 {
		t := time.NewTimer(s.opts.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	// https://learn.microsoft.com/graph/errors: 401 for a missing or
	// invalid token.
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || tok == "" {
		return s.errResponse(req, newError(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty."))
	}
	if s.opts.Token != "" && tok != s.opts.Token {
		return s.errResponse(req, newError(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."))
	}
	if gerr := s.fault(); gerr != nil {
		return s.errResponse(req, gerr)
	}
	body, err := readBody(r)
	if err != nil {
		return s.errResponse(req, badRequest("Unable to read the request body: %v", err))
	}
	req.body = body
	path, ok := strings.CutPrefix(r.URL.Path, "/v1.0")
	if !ok {
		return s.errResponse(req, newError(http.StatusNotFound, "BadRequest", "Invalid version: %s", r.URL.Path))
	}
	req.path = path
	if path == "/$batch" {
		if r.Method != http.MethodPost {
			return s.errResponse(req, methodNotAllowed())
		}
		return s.batch(r.Context(), req)
	}
	return s.route(req)
}

// readBody returns the request body, decompressing Content-Encoding: gzip
// as the Graph SDK's compression handler sends it.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	// The kiota retry handler re-sends the uncompressed body with the
	// Content-Encoding header the compression handler left on the first
	// attempt; sniff the gzip magic number rather than trust the header.
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") && len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		if b, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
	}
	return b, nil
}

func methodNotAllowed() *graphError {
	return newError(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
}

// retryAfterSeconds renders d as Retry-After: whole seconds, rounded up,
// at least 1 (https://learn.microsoft.com/graph/throttling).
func retryAfterSeconds(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return strconv.FormatInt(secs, 10)
}

// fault draws the injected 429/503 for one request or sub-request.
// https://learn.microsoft.com/graph/throttling
func (s *Server) fault() *graphError {
	s.ctl.Lock()
	x := s.rng.Float64()
	throttle, unavailable := s.throttle, s.unavailable
	s.ctl.Unlock()
	ra := map[string]string{"Retry-After": retryAfterSeconds(s.opts.RetryAfter)}
	switch {
	case x < throttle:
		e := newError(http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
		e.header = ra
		return e
	case x < throttle+unavailable:
		e := newError(http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable.")
		e.header = ra
		return e
	}
	return nil
}

// admitWrite charges one write against the budget of the current fixed
// window.
func (s *Server) admitWrite() *graphError {
	if s.opts.WriteBudget <= 0 {
		return nil
	}
	now := time.Now()
	elapsed := now.Sub(s.start)
	win := int64(elapsed / s.opts.WriteWindow)
	s.ctl.Lock()
	if win != s.window {
		s.window, s.windowUsed = win, 0
	}
	used := s.windowUsed
	if used < s.opts.WriteBudget {
		s.windowUsed++
	}
	s.ctl.Unlock()
	if used < s.opts.WriteBudget {
		return nil
	}
	reset := s.start.Add(time.Duration(win+1) * s.opts.WriteWindow).Sub(now)
	e := newError(http.StatusTooManyRequests, "TooManyRequests",
		"Too many requests: the write budget of %d per %s is exhausted.", s.opts.WriteBudget, s.opts.WriteWindow)
	e.header = map[string]string{"Retry-After": retryAfterSeconds(reset)}
	return e
}

// decodeJSON decodes a request body object.
func decodeJSON(b []byte) (map[string]any, *graphError) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, badRequest("Empty Payload. JSON content expected.")
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, badRequest("Invalid JSON payload: %v", err)
	}
	return m, nil
}

var _ http.Handler = (*Server)(nil)

// ctxDone reports whether ctx is finished; used between $batch steps.
func ctxDone(ctx context.Context) bool { return ctx.Err() != nil }
