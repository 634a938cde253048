package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
)

// Action names an operator action offered by the pages.
type Action string

// The actions. Each is a POST to the handler, refused unless the
// Authorizer allows it.
const (
	// ActionCycle runs a sync cycle (target: "Delta" or "Initial").
	ActionCycle Action = "cycle"
	// ActionRetryExports makes a connector's parked and failed exports
	// pending again (target: the connector name).
	ActionRetryExports Action = "retry-exports"
	// ActionClearQuarantine takes a connector out of quarantine (target:
	// the connector name).
	ActionClearQuarantine Action = "clear-quarantine"
)

// Authorizer decides whether the request may perform an action on a
// target. It returns nil to allow it, and an error saying why not to
// refuse it; the page shows the error's text, so it must not hold secrets.
// Authentication is the embedding product's: it wraps the handler with its
// own middleware and the Authorizer reads what it put in the request's
// context. Authorize is called concurrently.
type Authorizer interface {
	Authorize(r *http.Request, a Action, target string) error
}

// AuthorizerFunc adapts a function to an Authorizer.
type AuthorizerFunc func(r *http.Request, a Action, target string) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(r *http.Request, a Action, target string) error {
	return f(r, a, target)
}

// Errors of refused actions, matchable with errors.Is in an
// Options.Logger handler or in tests.
var (
	// ErrActionsDisabled: Options.Authorizer is nil, the pages are
	// read-only.
	ErrActionsDisabled = errors.New("admin: actions are disabled")
	// ErrCSRF: a POST without the page's anti-forgery token, or from
	// another origin.
	ErrCSRF = errors.New("admin: missing or invalid anti-forgery token")
	// ErrUnsupported: the Source lacks the capability of the action.
	ErrUnsupported = errors.New("admin: action not supported by the source")
)

// csrfCookie holds a random value per browser; each form carries the HMAC
// of it under the handler's key (a signed double-submit token), so that a
// page of another site can neither read nor forge the form's value, even
// where it can set cookies (a sibling subdomain).
const (
	csrfCookie = "idbridge_admin_csrf"
	csrfField  = "csrf"
)

type csrf struct{ key []byte }

func newCSRF(key []byte) csrf {
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
	}
	return csrf{key: key}
}

// token returns the form token for r, setting the cookie on w when the
// browser has none yet.
func (c csrf) token(w http.ResponseWriter, r *http.Request) string {
	ck, err := r.Cookie(csrfCookie)
	if err != nil || len(ck.Value) < 32 {
		b := make([]byte, 32)
		rand.Read(b)
		ck = &http.Cookie{Name: csrfCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/",
			HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode}
		http.SetCookie(w, ck)
	}
	return c.sign(ck.Value)
}

func (c csrf) sign(v string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// check verifies the token of a POST form.
func (c csrf) check(r *http.Request) error {
	ck, err := r.Cookie(csrfCookie)
	if err != nil || ck.Value == "" {
		return ErrCSRF
	}
	got := r.PostFormValue(csrfField)
	if got == "" || !hmac.Equal([]byte(got), []byte(c.sign(ck.Value))) {
		return ErrCSRF
	}
	return nil
}
