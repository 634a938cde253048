package writeback

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/idbridge/idbridge/connector"
)

// ErrUnauthenticated is returned by an Authenticator that does not accept a
// request's credentials.
var ErrUnauthenticated = errors.New("writeback: unauthenticated")

// Authenticator decides who calls the password writeback endpoint. The
// product that mounts the handler provides it (its own session, mTLS, a
// signed request from its SSPR front end…); BearerTokens is a simple one.
type Authenticator interface {
	// Authenticate returns the caller's name, used in audit records, or an
	// error (wrapping ErrUnauthenticated for refused credentials).
	Authenticate(r *http.Request) (principal string, err error)
}

// BearerTokens accepts "Authorization: Bearer <token>" for the tokens it
// holds, compared in constant time, and names the caller by the token's
// key.
type BearerTokens map[string]connector.Secret // principal → token

// Authenticate implements Authenticator.
func (b BearerTokens) Authenticate(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return "", fmt.Errorf("%w: no bearer token", ErrUnauthenticated)
	}
	got := sha256.Sum256([]byte(tok))
	who := ""
	for name, t := range b {
		want := sha256.Sum256([]byte(t.Reveal()))
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
			who = name
		}
	}
	if who == "" {
		return "", fmt.Errorf("%w: unknown bearer token", ErrUnauthenticated)
	}
	return who, nil
}

// maxRequestBytes bounds a request body.
const maxRequestBytes = 16 << 10

// request is the JSON body of a password request.
type request struct {
	User            UserRef `json:"user"`
	NewPassword     string  `json:"newPassword"`
	CurrentPassword string  `json:"currentPassword,omitempty"`
	Unlock          bool    `json:"unlock,omitempty"`
}

// Response is the JSON body the handler answers with.
type Response struct {
	// Outcome is Outcome(err): "ok", "policy", "not-synced", …
	Outcome string `json:"outcome"`
	// Reason is the password policy rule that refused the password, when
	// the directory said ("too-short", "complexity", "history", "too-young",
	// or "policy").
	Reason string `json:"reason,omitempty"`
	// Message is a sentence for the user, as Entra's SSPR shows.
	Message string   `json:"message"`
	Entry   string   `json:"entry,omitempty"`
	Targets []Target `json:"targets,omitempty"`
}

// Handler returns an http.Handler for password writeback requests: POST a
// JSON body
//
//	{"user": {"objectId": "…"}, "newPassword": "…", "currentPassword": "…", "unlock": true}
//
// (user by objectId, userPrincipalName or sourceAnchor; currentPassword for
// a change, omitted for a reset). The answer is a Response with status 200
// (ok), 400 (invalid), 401 (unauthenticated), 403 (wrong current password,
// disabled account), 404 (not found), 409 (not synced, ambiguous), 422
// (password policy), 423 (locked), 429 (rate limited, with Retry-After),
// 501 (unsupported), 503 (directory unavailable) or 500. The service's
// logger gets one audit record per request, naming the authenticated
// caller; passwords are never logged or echoed.
func (s *PasswordService) Handler(auth Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, Response{Outcome: "invalid", Message: "Use POST."})
			return
		}
		principal, err := auth.Authenticate(r)
		if err != nil {
			s.log.LogAttrs(r.Context(), slog.LevelWarn, "password writeback", slog.String("outcome", "unauthenticated"), slog.String("remote", r.RemoteAddr))
			writeJSON(w, http.StatusUnauthorized, Response{Outcome: "unauthenticated", Message: "Authentication required."})
			return
		}
		var body request
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			// The decoder's error can quote the body: never return it.
			writeJSON(w, http.StatusBadRequest, Response{Outcome: "invalid", Message: "The request is not a valid password request."})
			return
		}
		req := PasswordRequest{User: body.User, Password: connector.NewSecret(body.NewPassword), Current: connector.NewSecret(body.CurrentPassword), Unlock: body.Unlock}
		res, err := s.setPassword(r.Context(), principal, req)
		resp := Response{Outcome: Outcome(err), Message: message(err)}
		var pe *connector.PasswordPolicyError
		if errors.As(err, &pe) {
			resp.Reason = string(pe.Reason)
		}
		var rl *RateLimitError
		if errors.As(err, &rl) {
			w.Header().Set("Retry-After", strconv.Itoa(int((rl.RetryAfter+time.Second-1)/time.Second)))
		}
		if res != nil && err == nil {
			resp.Entry, resp.Targets = res.EntryID, res.Targets
		}
		writeJSON(w, status(resp.Outcome), resp)
	})
}

func status(outcome string) int {
	switch outcome {
	case "ok":
		return http.StatusOK
	case "invalid":
		return http.StatusBadRequest
	case "wrong-password", "disabled":
		return http.StatusForbidden
	case "not-found":
		return http.StatusNotFound
	case "not-synced", "ambiguous":
		return http.StatusConflict
	case "policy":
		return http.StatusUnprocessableEntity
	case "locked":
		return http.StatusLocked
	case "rate-limited":
		return http.StatusTooManyRequests
	case "unsupported":
		return http.StatusNotImplemented
	case "unavailable", "canceled":
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// message is the sentence shown to the user for an outcome, in the manner of
// Entra ID's SSPR. It never quotes the directory.
func message(err error) string {
	switch Outcome(err) {
	case "ok":
		return "Your password was changed."
	case "policy":
		return "The password doesn't meet your organization's on-premises password policy."
	case "wrong-password":
		return "The current password is not correct."
	case "locked":
		return "The account is locked. Contact your administrator, or reset the password with unlock."
	case "disabled":
		return "The account is disabled on premises."
	case "not-found":
		return "No such user."
	case "not-synced":
		return "This account is not synchronised from the on-premises directory: change its password in the cloud."
	case "ambiguous":
		return "More than one account matches."
	case "invalid":
		return "The request is not a valid password request."
	case "rate-limited":
		return "Too many password requests. Try again later."
	case "unavailable", "canceled":
		return "The on-premises directory cannot be reached. Try again later."
	case "unsupported":
		return "The on-premises directory does not support this operation."
	}
	return "The password could not be changed."
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
