package graphtest

import (
	"fmt"
	"net/http"
	"path"
	"strings"
)

// FaultKind is how an injected fault shows itself to the client.
type FaultKind int

const (
	// FaultStatus answers with an error status (Fault.Status, default 504
	// Gateway Timeout) and Graph's error body.
	FaultStatus FaultKind = iota
	// FaultReset aborts the connection (HTTP/1.1) or the stream (HTTP/2)
	// without a response: the client sees a connection reset.
	FaultReset
	// FaultTruncate sends the status line, the headers and half of the
	// body, then aborts: the client sees an unexpected end of the body.
	FaultTruncate
)

func (k FaultKind) String() string {
	switch k {
	case FaultStatus:
		return "status"
	case FaultReset:
		return "reset"
	case FaultTruncate:
		return "truncate"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault is a failure the emulator injects into the requests it matches
// (see [Server.InjectFault]). A fault After a request is a lost response:
// the request was applied (a user created, a member added), and the client
// cannot know it, as when Graph's gateway times out after the directory
// committed, or a connection breaks before the response arrived.
//
// A fault matches an HTTP request by its method and path, and a $batch
// sub-request by the sub-request's method and path. On a sub-request,
// FaultStatus replaces that sub-request's response (its 424 dependants
// follow Graph's rules), while FaultReset and FaultTruncate lose the
// response of the whole $batch: After, every sub-request of the batch was
// run; before, the ones before the matched one were run and none after.
type Fault struct {
	// Method is the HTTP method matched (GET, POST, PATCH, DELETE); empty
	// matches any.
	Method string
	// Path is a path.Match pattern for the path without /v1.0 and query:
	// "/users", "/groups/*/members/$ref", "/$batch". Empty matches any.
	Path string
	// After applies the request before failing; otherwise it is not run.
	After bool
	// Kind is how the failure shows (default FaultStatus).
	Kind FaultKind
	// Status of a FaultStatus (default 504). A 429 or 503 carries
	// Options.RetryAfter.
	Status int
	// Skip is how many matching requests pass before the fault fires.
	Skip int
	// Count is how many times the fault fires; 0 is every time.
	Count int
	// Probability (0..1] that a matching request past Skip fails; 0 is
	// always. Drawn from the server's Seed, deterministic for a given
	// request order.
	Probability float64
}

// injected is a registered fault and its counters.
type injected struct {
	Fault
	seen, fired int
}

// InjectFault adds a fault to the server; faults are checked in the order
// added, and the first that fires wins. It panics on a fault that cannot
// fire (a programming error in the test): a Probability outside 0..1, a
// negative Skip or Count, a malformed Path pattern.
func (s *Server) InjectFault(f Fault) {
	if f.Probability < 0 || f.Probability > 1 || f.Skip < 0 || f.Count < 0 {
		panic(fmt.Sprintf("graphtest: fault %+v out of range", f))
	}
	if _, err := path.Match(f.Path, ""); err != nil {
		panic(fmt.Sprintf("graphtest: fault path %q: %v", f.Path, err))
	}
	if f.Kind == FaultStatus && f.Status == 0 {
		f.Status = http.StatusGatewayTimeout
	}
	s.ctl.Lock()
	s.faults = append(s.faults, &injected{Fault: f})
	s.ctl.Unlock()
}

// ClearFaults removes every fault added by InjectFault.
func (s *Server) ClearFaults() {
	s.ctl.Lock()
	s.faults = nil
	s.ctl.Unlock()
}

// FaultsFired returns how many times the injected faults fired.
func (s *Server) FaultsFired() int {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	n := 0
	for _, f := range s.faults {
		n += f.fired
	}
	return n
}

// injectedFault returns the fault that fires for a request, if any.
func (s *Server) injectedFault(method, p string) *Fault {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	for _, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, method) {
			continue
		}
		if f.Path != "" {
			if ok, _ := path.Match(f.Path, p); !ok {
				continue
			}
		}
		if f.Count > 0 && f.fired >= f.Count {
			continue
		}
		f.seen++
		if f.seen <= f.Skip {
			continue
		}
		if f.Probability > 0 && s.rng.Float64() >= f.Probability {
			continue
		}
		f.fired++
		out := f.Fault
		return &out
	}
	return nil
}

// faultError is the error of a FaultStatus: Graph's gateway timeout, a
// throttling or unavailable answer with Options.RetryAfter, or the generic
// error of another status.
func (s *Server) faultError(status int) *graphError {
	var e *graphError
	switch status {
	case http.StatusGatewayTimeout:
		return newError(status, "GatewayTimeout", "The operation has timed out.")
	case http.StatusServiceUnavailable:
		e = newError(status, "serviceNotAvailable", "The service is temporarily unavailable.")
	case http.StatusTooManyRequests:
		e = newError(status, "TooManyRequests", "Too many requests.")
	default:
		return newError(status, "UnknownError", "%s", http.StatusText(status))
	}
	e.header = map[string]string{"Retry-After": retryAfterSeconds(s.opts.RetryAfter)}
	return e
}
