package connector

import (
	"errors"
	"fmt"
)

// Sentinel errors. Connectors wrap them (usually inside an *ObjectError) so
// that callers can match with errors.Is whatever the connected system.
var (
	// ErrUnsupported: the connector cannot do this (an optional capability
	// is missing, or an object type cannot be exported).
	ErrUnsupported = errors.New("connector: unsupported")
	// ErrNoSuchObject: the object, or its parent container, does not exist.
	ErrNoSuchObject = errors.New("connector: no such object")
	// ErrAlreadyExists: an object with that name or anchor exists.
	ErrAlreadyExists = errors.New("connector: object already exists")
	// ErrConstraint: the connected system rejected a value (constraint
	// violation, invalid syntax, a value that must be unique is taken).
	ErrConstraint = errors.New("connector: constraint violation")
	// ErrDuplicateValue: a value that must be unique across objects
	// (userPrincipalName, proxyAddresses) is held by another object. It is a
	// kind of ErrConstraint: errors.Is matches both.
	ErrDuplicateValue = &duplicateError{}
	// ErrAccessDenied: the connector's account may not do this, or the
	// credentials were refused.
	ErrAccessDenied = errors.New("connector: access denied")
	// ErrUnavailable: the connected system is busy, throttling or
	// unreachable. The operation may succeed if retried later.
	ErrUnavailable = errors.New("connector: unavailable")
	// ErrInvalidObject: the object read or to be written is malformed
	// (a bad LDIF record, a value of the wrong type).
	ErrInvalidObject = errors.New("connector: invalid object")
	// ErrWatermarkExpired: a delta import cannot start from the given
	// watermark; a full import is needed.
	ErrWatermarkExpired = errors.New("connector: watermark expired")
	// ErrReferral: an import met a continuation reference (an LDAP referral
	// inside a search) that it did not follow, so the objects behind it were
	// not read. Connectors report it through ImportSink.Error; the engine
	// then skips the delete pass of a full import, since objects it did not
	// read are not gone.
	ErrReferral = errors.New("connector: continuation reference not followed")
)

type duplicateError struct{}

func (*duplicateError) Error() string        { return "connector: duplicate value" }
func (*duplicateError) Is(target error) bool { return target == ErrConstraint }

// ObjectError is the failure of one object in an import or export. It names
// the object and the operation and wraps the cause.
type ObjectError struct {
	Anchor Anchor // empty when unknown (an add that failed, an unreadable entry)
	DN     string // empty when unknown
	Op     string // "import", "add", "update", "delete", "rename", "set-password"
	// Where locates the object in its source when that is a file or a
	// stream: "users.ldif:120".
	Where string
	Err   error
}

func (e *ObjectError) Error() string {
	s := "connector: " + e.Op
	if e.DN != "" {
		s += " " + e.DN
	} else if e.Anchor != "" {
		s += " <" + string(e.Anchor) + ">"
	}
	if e.Where != "" {
		s += " at " + e.Where
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ObjectError) Unwrap() error { return e.Err }

// IsRetryable reports whether err is worth retrying later: it wraps
// ErrUnavailable and is not marked Permanent.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var p *permanentError
	if errors.As(err, &p) {
		return false
	}
	return errors.Is(err, ErrUnavailable)
}

// Permanent marks err as not worth retrying, whatever it wraps.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Errorf returns an *ObjectError for the object with the given anchor and DN.
func Errorf(anchor Anchor, dn, op string, format string, args ...any) *ObjectError {
	return &ObjectError{Anchor: anchor, DN: dn, Op: op, Err: fmt.Errorf(format, args...)}
}
