package graphsync

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/idbridge/idbridge/connector"
)

// Error is an error response of Microsoft Graph
// (https://learn.microsoft.com/graph/errors). It wraps the connector
// sentinel its status and code mean, so callers match it with errors.Is:
// ErrDuplicateValue for a uniqueness conflict (Target names the
// property), ErrNoSuchObject for 404, ErrAccessDenied for 401/403,
// ErrUnavailable for 429/5xx, ErrWatermarkExpired for an expired delta
// link, ErrConstraint for other rejected requests.
type Error struct {
	Status  int    // HTTP status
	Code    string // Graph's error code (Request_BadRequest, ...)
	Message string
	// Target is the property a uniqueness conflict is about
	// (userPrincipalName, proxyAddresses, onPremisesImmutableId).
	Target string
	// Method and Path of the request (no query: it may hold filter values).
	Method, Path string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("graph: %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

func (e *Error) Unwrap() error {
	switch {
	case e.Target != "":
		return connector.ErrDuplicateValue
	case e.Status == http.StatusNotFound:
		return connector.ErrNoSuchObject
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return connector.ErrAccessDenied
	case e.Status == http.StatusGone || e.Code == "resyncRequired" || e.Code == "syncStateNotFound" || e.Code == "syncStateInvalid":
		return connector.ErrWatermarkExpired
	case e.Status == http.StatusTooManyRequests || e.Status >= 500:
		return connector.ErrUnavailable
	case e.Status == http.StatusConflict:
		return connector.ErrAlreadyExists
	}
	return connector.ErrConstraint
}

// conflictProperty reads the property of Graph's uniqueness error message
// ("Another object with the same value for property userPrincipalName
// already exists.").
var conflictProperty = regexp.MustCompile(`(?i)same value for property (\w+)`)

// newError builds an Error from a status and an OData error body.
func newError(method, path string, status int, code, message string, targets []string) *Error {
	e := &Error{Status: status, Code: code, Message: message, Method: method, Path: path}
	for _, t := range targets {
		if t != "" {
			e.Target = t
			break
		}
	}
	if m := conflictProperty.FindStringSubmatch(message); m != nil {
		e.Target = m[1]
	} else if e.Target != "" && !strings.Contains(strings.ToLower(code+message), "conflict") && !strings.Contains(strings.ToLower(message), "already exists") {
		e.Target = "" // a detail naming a property is not always a conflict
	}
	return e
}

// errorFromBody reads a $batch response's error body.
func errorFromBody(method, path string, status int, body map[string]any) *Error {
	var code, msg string
	var targets []string
	if eb, ok := plain(body["error"]).(map[string]any); ok {
		code, _ = eb["code"].(string)
		msg, _ = eb["message"].(string)
		if ds, ok := eb["details"].([]any); ok {
			for _, d := range ds {
				if dm, ok := d.(map[string]any); ok {
					if dc, _ := dm["code"].(string); dc == "ObjectConflict" || dc == "ConflictingObjects" {
						t, _ := dm["target"].(string)
						targets = append(targets, t)
					}
				}
			}
		}
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return newError(method, path, status, code, msg, targets)
}

// fromSDK converts an error of the SDK's request adapter.
func fromSDK(method, path string, err error) error {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		var code, msg string
		var targets []string
		if me := oe.GetErrorEscaped(); me != nil {
			code, msg = deref(me.GetCode()), deref(me.GetMessage())
			for _, d := range me.GetDetails() {
				if c := deref(d.GetCode()); c == "ObjectConflict" || c == "ConflictingObjects" {
					targets = append(targets, deref(d.GetTarget()))
				}
			}
		}
		return newError(method, path, oe.GetStatusCode(), code, msg, targets)
	}
	var ae *abstractions.ApiError
	if errors.As(err, &ae) {
		return newError(method, path, ae.ResponseStatusCode, "", ae.Message, nil)
	}
	if errors.Is(err, connector.ErrAccessDenied) {
		return fmt.Errorf("graph: %s %s: %w", method, path, err) // a refused credential
	}
	// Transport failures (connection refused, reset, timeout) may succeed
	// if retried.
	return fmt.Errorf("graph: %s %s: %w: %w", method, path, connector.ErrUnavailable, err)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
