package memconn

import (
	"fmt"
	"maps"

	"github.com/idbridge/idbridge/connector"
)

// Op names a call of the connector, for fault injection and call counts.
type Op string

// The connector's calls.
const (
	OpImport      Op = "import"       // Connector.Import, a full import
	OpDeltaImport Op = "delta-import" // Connector.DeltaImport
	OpExport      Op = "export"       // Connector.Export
)

// ErrMalformed is wrapped, with connector.ErrInvalidObject, by the import
// error of an object made malformed with Malform.
var ErrMalformed = fmt.Errorf("malformed record: %w", connector.ErrInvalidObject)

// faults is what the tests injected; the System's mutex guards it.
type faults struct {
	calls   map[Op][]error          // per call: the next calls of op fail, in order
	objects map[Op]map[string]error // per object: anchor or folded DN → error
	count   map[Op]int              // calls made
}

// FailCall makes the next call of op fail as a whole with an error
// wrapping err, before it reports or applies anything: an import returns
// it (as a connector does when its server is unreachable, or, with
// connector.ErrWatermarkExpired, when a delta can no longer start from its
// watermark); an export returns it as the call's error, so the engine
// treats the whole batch as not applied. Calling FailCall again queues
// further failures, one per call, in order.
func (s *System) FailCall(op Op, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.calls == nil {
		s.faults.calls = map[Op][]error{}
	}
	s.faults.calls[op] = append(s.faults.calls[op], err)
}

// FailObject makes op fail for one object, named by its anchor or its DN
// (compared as connector.FoldDN does), until ClearFaults. A full or delta
// import (OpImport, OpDeltaImport) reports the object through
// ImportSink.Error as a *connector.ObjectError wrapping err, instead of the
// object, and goes on, as a connector does with an object it cannot read;
// the object stays in the system, so the engine must not take it for
// deleted. An export (OpExport) returns the error in that change's result
// and applies the others; an Add is matched by its DN.
func (s *System) FailObject(op Op, anchorOrDN string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.objects == nil {
		s.faults.objects = map[Op]map[string]error{}
	}
	if s.faults.objects[op] == nil {
		s.faults.objects[op] = map[string]error{}
	}
	s.faults.objects[op][anchorOrDN] = err
	s.faults.objects[op][connector.FoldDN(anchorOrDN)] = err
}

// Malform makes the record of the object with anchor a unreadable to full
// and delta imports, until ClearFaults: they report it through
// ImportSink.Error with an error wrapping ErrMalformed and
// connector.ErrInvalidObject, as the LDAP and LDIF connectors report an
// entry with a value they cannot parse.
func (s *System) Malform(a connector.Anchor) {
	s.FailObject(OpImport, string(a), ErrMalformed)
	s.FailObject(OpDeltaImport, string(a), ErrMalformed)
}

// ClearFaults removes every fault injected with FailCall, FailObject and
// Malform. It leaves FailExport and FailImportAfter alone.
func (s *System) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.calls, s.faults.objects = nil, nil
}

// Calls returns how many calls of op the system's connectors made,
// failed ones included.
func (s *System) Calls(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.count[op]
}

// call counts a call of op and returns its injected failure, if any; s.mu
// is held.
func (s *System) call(op Op) error {
	if s.faults.count == nil {
		s.faults.count = map[Op]int{}
	}
	s.faults.count[op]++
	q := s.faults.calls[op]
	if len(q) == 0 {
		return nil
	}
	s.faults.calls[op] = q[1:]
	return fmt.Errorf("memconn: %s: injected failure: %w", op, q[0])
}

// objectFaults returns a copy of op's per-object faults (nil when none);
// s.mu is held.
func (s *System) objectFaults(op Op) map[string]error {
	m := s.faults.objects[op]
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// objectFault returns the fault injected for an object, or nil.
func objectFault(f map[string]error, a connector.Anchor, dn string) error {
	if f == nil {
		return nil
	}
	if a != "" {
		if err := f[string(a)]; err != nil {
			return err
		}
	}
	if dn != "" {
		return f[connector.FoldDN(dn)]
	}
	return nil
}
