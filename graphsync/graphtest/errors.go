package graphtest

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors returned (wrapped) by the direct-state methods of
// [Server]. Test with errors.Is.
var (
	// ErrNotFound means the object id (or group membership) does not exist.
	ErrNotFound = errors.New("graphtest: not found")
	// ErrConflict means a uniqueness constraint (userPrincipalName,
	// proxyAddresses/mail, onPremisesImmutableId) or an existing
	// membership would be violated.
	ErrConflict = errors.New("graphtest: conflict")
	// ErrInvalid means the properties were rejected as Graph would reject
	// them (unknown, read-only, missing required, bad value, unverified
	// domain).
	ErrInvalid = errors.New("graphtest: invalid request")
)

// graphError is an error as Graph reports it: an HTTP status plus the
// OData error body. https://learn.microsoft.com/graph/errors
type graphError struct {
	status  int
	code    string
	message string
	details []errorDetail
	header  map[string]string
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target,omitempty"`
}

func (e *graphError) Error() string {
	return fmt.Sprintf("graphtest: %d %s: %s", e.status, e.code, e.message)
}

// Unwrap maps the Graph error onto the package sentinels.
func (e *graphError) Unwrap() error {
	switch {
	case e.status == http.StatusNotFound:
		return ErrNotFound
	case len(e.details) > 0 && e.details[0].Code == "ObjectConflict",
		e.code == "Request_MultipleObjectsWithSameKeyValue":
		return ErrConflict
	default:
		return ErrInvalid
	}
}

func newError(status int, code, format string, args ...any) *graphError {
	return &graphError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *graphError {
	return newError(http.StatusBadRequest, "Request_BadRequest", format, args...)
}

// notFound is Graph's answer for an unknown directory object id.
// https://learn.microsoft.com/graph/errors
func notFound(id string) *graphError {
	return newError(http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

// conflict is Graph's answer when a unique property value is already used
// by another object.
func conflict(prop string) *graphError {
	msg := fmt.Sprintf("Another object with the same value for property %s already exists.", prop)
	return &graphError{
		status:  http.StatusBadRequest,
		code:    "Request_BadRequest",
		message: msg,
		details: []errorDetail{{Code: "ObjectConflict", Message: msg, Target: prop}},
	}
}

func invalidValue(k kind, prop string) *graphError {
	return &graphError{
		status:  http.StatusBadRequest,
		code:    "Request_BadRequest",
		message: fmt.Sprintf("Invalid value specified for property '%s' of resource '%s'.", prop, k.resourceName()),
		details: []errorDetail{{Code: "InvalidValue", Message: fmt.Sprintf("Invalid value specified for property '%s' of resource '%s'.", prop, k.resourceName()), Target: prop}},
	}
}

// body renders the OData error object with the innerError Graph adds.
func (e *graphError) body(date, requestID, clientRequestID string) map[string]any {
	inner := map[string]any{
		"code":    e.code,
		"message": e.message,
		"innerError": map[string]any{
			"date":              date,
			"request-id":        requestID,
			"client-request-id": clientRequestID,
		},
	}
	if len(e.details) > 0 {
		inner["details"] = e.details
	}
	return map[string]any{"error": inner}
}
