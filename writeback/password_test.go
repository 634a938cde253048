package writeback_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/writeback"
)

var dirSchema = &connector.Schema{Types: []connector.ObjectType{
	{Name: "user", Attributes: []connector.Attribute{
		{Name: "userPrincipalName", Type: connector.String},
		{Name: "employeeID", Type: connector.String},
	}},
}}

// fakeDir is an in-memory directory that takes password changes and
// unlocks, with a policy: at least 8 characters, and not one of the last
// passwords of the account.
type fakeDir struct {
	*memconn.Connector
	sys     *memconn.System
	current map[connector.Anchor]string
	history map[connector.Anchor][]string
	locked  map[connector.Anchor]bool
}

func newFakeDir() *fakeDir {
	sys := memconn.New(dirSchema)
	return &fakeDir{Connector: sys.Connector(), sys: sys, current: map[connector.Anchor]string{},
		history: map[connector.Anchor][]string{}, locked: map[connector.Anchor]bool{}}
}

func (d *fakeDir) user(anchor, upn string) {
	d.sys.Put(connector.Object{Anchor: connector.Anchor(anchor), DN: "CN=" + anchor + ",OU=Users,DC=contoso,DC=com", Type: "user",
		Attrs: connector.Attributes{"userPrincipalName": {connector.StringValue(upn)}, "employeeID": {connector.StringValue("E" + anchor)}}})
}

func (d *fakeDir) check(a connector.Anchor, pw string) error {
	if _, ok := d.sys.Get(a); !ok {
		return &connector.ObjectError{Anchor: a, Op: "set-password", Err: connector.ErrNoSuchObject}
	}
	if len(pw) < 8 {
		return &connector.PasswordPolicyError{Reason: connector.ReasonTooShort, Detail: "at least 8 characters"}
	}
	return nil
}

func (d *fakeDir) SetPassword(ctx context.Context, a connector.Anchor, dn string, pw connector.Secret) error {
	if err := d.check(a, pw.Reveal()); err != nil {
		return err
	}
	d.history[a] = append(d.history[a], d.current[a])
	d.current[a] = pw.Reveal()
	return nil
}

func (d *fakeDir) ChangePassword(ctx context.Context, a connector.Anchor, dn string, old, pw connector.Secret) error {
	if err := d.check(a, pw.Reveal()); err != nil {
		return err
	}
	if d.locked[a] {
		return connector.ErrAccountLocked
	}
	if d.current[a] != old.Reveal() {
		return connector.ErrWrongPassword
	}
	for _, h := range append(d.history[a], d.current[a]) {
		if h == pw.Reveal() {
			return &connector.PasswordPolicyError{Reason: connector.ReasonHistory}
		}
	}
	return d.SetPassword(ctx, a, dn, pw)
}

func (d *fakeDir) UnlockAccount(ctx context.Context, a connector.Anchor, dn string) error {
	d.locked[a] = false
	return nil
}

// Passwords of the tests, distinctive so that a scan for them has no false
// hits.
const (
	pwOld   = "Old-Pa55word-b4e1c2"
	pwNew   = "New-Pa55word-9f3a7d"
	pwNext  = "Next-Pa55word-0c8e5b"
	apiTok  = "api-token-5e2d9c41a7"
	badTok  = "wrong-token-77aa13"
	tooShrt = "Sh0rt!x"
)

var testSecrets = []string{pwOld, pwNew, pwNext, apiTok, badTok, tooShrt}

// noSecrets fails when any test secret appears in the captured text.
func noSecrets(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range testSecrets {
		assert.NotContains(t, text, s, "a secret leaked into %s", what)
	}
}

func fakeWorld(t *testing.T) (*world, *fakeDir) {
	dir := newFakeDir()
	dir.user("u1", "Ada@Contoso.com")
	dir.user("u2", "grace@contoso.com")
	dir.user("u3", "linus@contoso.com")
	dir.current["u1"] = pwOld
	w := newWorld(t, dir, "has(source.userPrincipalName)", "source.userPrincipalName", "source.employeeID")
	// A cloud-only user: in the cloud, synced from nowhere.
	w.cloud.Put(connector.Object{Anchor: "cloud-only-1", DN: "users/cloud-only-1", Type: "user",
		Attrs: connector.Attributes{"userPrincipalName": {connector.StringValue("cloud@contoso.com")}}})
	_, err := w.eng.FullImport(w.ctx, "cloud")
	require.NoError(t, err)
	_, err = w.eng.FullSync(w.ctx, "cloud")
	require.NoError(t, err)
	return w, dir
}

func TestPasswordService(t *testing.T) {
	w, dir := fakeWorld(t)
	svc := w.service(writeback.Limits{})
	ada := w.objectID("ada@contoso.com")

	tests := []struct {
		name    string
		req     writeback.PasswordRequest
		wantErr error
		reason  connector.PolicyReason
		check   func(t *testing.T)
	}{
		{name: "reset by object id", req: writeback.PasswordRequest{User: writeback.UserRef{ObjectID: ada}, Password: connector.NewSecret(pwNew)},
			check: func(t *testing.T) { assert.Equal(t, pwNew, dir.current["u1"]) }},
		{name: "change refused by history", req: writeback.PasswordRequest{User: writeback.UserRef{UserPrincipalName: "ada@contoso.com"}, Current: connector.NewSecret(pwNew), Password: connector.NewSecret(pwOld)},
			wantErr: connector.ErrPasswordPolicy, reason: connector.ReasonHistory},
		{name: "change refused: too short", req: writeback.PasswordRequest{User: writeback.UserRef{UserPrincipalName: "ada@contoso.com"}, Current: connector.NewSecret(pwNew), Password: connector.NewSecret(tooShrt)},
			wantErr: connector.ErrPasswordPolicy, reason: connector.ReasonTooShort},
		{name: "change with a wrong current password", req: writeback.PasswordRequest{User: writeback.UserRef{UserPrincipalName: "ada@contoso.com"}, Current: connector.NewSecret(pwOld), Password: connector.NewSecret(pwNext)},
			wantErr: connector.ErrWrongPassword},
		{name: "change by source anchor", req: writeback.PasswordRequest{User: writeback.UserRef{SourceAnchor: "Eu1"}, Current: connector.NewSecret(pwNew), Password: connector.NewSecret(pwNext)},
			check: func(t *testing.T) { assert.Equal(t, pwNext, dir.current["u1"]) }},
		{name: "cloud-only user", req: writeback.PasswordRequest{User: writeback.UserRef{ObjectID: "cloud-only-1"}, Password: connector.NewSecret(pwNew)},
			wantErr: writeback.ErrNotSynced},
		{name: "unknown object id", req: writeback.PasswordRequest{User: writeback.UserRef{ObjectID: "nobody"}, Password: connector.NewSecret(pwNew)},
			wantErr: writeback.ErrUserNotFound},
		{name: "unknown UPN", req: writeback.PasswordRequest{User: writeback.UserRef{UserPrincipalName: "nobody@contoso.com"}, Password: connector.NewSecret(pwNew)},
			wantErr: writeback.ErrUserNotFound},
		{name: "two users named", req: writeback.PasswordRequest{User: writeback.UserRef{ObjectID: ada, UserPrincipalName: "grace@contoso.com"}, Password: connector.NewSecret(pwNew)},
			wantErr: writeback.ErrAmbiguousUser},
		{name: "no user", req: writeback.PasswordRequest{Password: connector.NewSecret(pwNew)}, wantErr: writeback.ErrInvalidRequest},
		{name: "no password", req: writeback.PasswordRequest{User: writeback.UserRef{ObjectID: ada}}, wantErr: writeback.ErrInvalidRequest},
		{name: "locked account unlocked on reset", req: writeback.PasswordRequest{User: writeback.UserRef{UserPrincipalName: "grace@contoso.com"}, Password: connector.NewSecret(pwNew), Unlock: true},
			check: func(t *testing.T) { assert.False(t, dir.locked["u2"]) }},
	}
	dir.locked["u2"] = true
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := svc.SetPassword(w.ctx, tt.req)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				if tt.reason != "" {
					var pe *connector.PasswordPolicyError
					require.ErrorAs(t, err, &pe)
					assert.Equal(t, tt.reason, pe.Reason)
				}
				noSecrets(t, "the error", err.Error())
				return
			}
			require.NoError(t, err)
			require.Len(t, res.Targets, 1)
			assert.Equal(t, "ad", res.Targets[0].Connector)
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
	log := w.log.String()
	assert.Equal(t, len(tests), strings.Count(log, `msg="password writeback"`), "one audit record per request:\n%s", log)
	assert.Contains(t, log, "outcome=policy")
	assert.Contains(t, log, "outcome=not-synced")
	noSecrets(t, "the audit log", log)
}

func TestPasswordRateLimits(t *testing.T) {
	w, _ := fakeWorld(t)
	svc := w.service(writeback.Limits{
		PerUser:  writeback.Rate{Requests: 2, Per: time.Minute},
		Global:   writeback.Rate{Requests: 4, Per: time.Second},
		MaxUsers: 10,
	})
	reset := func(upn string) error {
		_, err := svc.SetPassword(w.ctx, writeback.PasswordRequest{User: writeback.UserRef{UserPrincipalName: upn}, Password: connector.NewSecret(pwNew)})
		return err
	}
	require.NoError(t, reset("ada@contoso.com"))
	require.NoError(t, reset("ada@contoso.com"))
	err := reset("ada@contoso.com")
	require.ErrorIs(t, err, writeback.ErrRateLimited, "the third request for one user within a minute")
	var rl *writeback.RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, "user", rl.Scope)
	assert.Equal(t, 30*time.Second, rl.RetryAfter)
	require.NoError(t, reset("grace@contoso.com"), "another user is not limited by Ada's requests")
	err = reset("linus@contoso.com")
	require.ErrorIs(t, err, writeback.ErrRateLimited, "the fifth request within a second: global limit")
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, "global", rl.Scope)

	w.clock.Add(30 * time.Second)
	require.NoError(t, reset("ada@contoso.com"), "a token is back after 30 s")
}

func TestPasswordHandler(t *testing.T) {
	w, dir := fakeWorld(t)
	svc := w.service(writeback.Limits{PerUser: writeback.Rate{Requests: 3, Per: time.Hour}, Global: writeback.Rate{Requests: 100, Per: time.Second}, MaxUsers: 10})
	srv := httptest.NewServer(svc.Handler(writeback.BearerTokens{"sspr-frontend": connector.NewSecret(apiTok)}))
	defer srv.Close()
	ada := w.objectID("ada@contoso.com")

	post := func(token, body string) (*http.Response, writeback.Response) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out writeback.Response
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return resp, out
	}
	var bodies strings.Builder
	body := func(format string, args ...any) string {
		s := fmt.Sprintf(format, args...)
		return s
	}
	cases := []struct {
		name    string
		token   string
		body    string
		status  int
		outcome string
		reason  string
	}{
		{"no token", "", body(`{"user":{"objectId":%q},"newPassword":%q}`, ada, pwNew), http.StatusUnauthorized, "unauthenticated", ""},
		{"wrong token", badTok, body(`{"user":{"objectId":%q},"newPassword":%q}`, ada, pwNew), http.StatusUnauthorized, "unauthenticated", ""},
		{"malformed body", apiTok, `{"user":` + pwNew, http.StatusBadRequest, "invalid", ""},
		{"unknown field", apiTok, body(`{"user":{"objectId":%q},"password":%q}`, ada, pwNew), http.StatusBadRequest, "invalid", ""},
		{"reset", apiTok, body(`{"user":{"objectId":%q},"newPassword":%q}`, ada, pwNew), http.StatusOK, "ok", ""},
		{"history", apiTok, body(`{"user":{"objectId":%q},"currentPassword":%q,"newPassword":%q}`, ada, pwNew, pwOld), http.StatusUnprocessableEntity, "policy", "history"},
		{"change", apiTok, body(`{"user":{"objectId":%q},"currentPassword":%q,"newPassword":%q}`, ada, pwNew, pwNext), http.StatusOK, "ok", ""},
		{"rate limited", apiTok, body(`{"user":{"objectId":%q},"newPassword":%q}`, ada, pwNew), http.StatusTooManyRequests, "rate-limited", ""},
		{"cloud-only", apiTok, body(`{"user":{"objectId":"cloud-only-1"},"newPassword":%q}`, pwNew), http.StatusConflict, "not-synced", ""},
		{"not found", apiTok, body(`{"user":{"userPrincipalName":"nobody@contoso.com"},"newPassword":%q}`, pwNew), http.StatusNotFound, "not-found", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, out := post(c.token, c.body)
			bodies.WriteString(fmt.Sprintf("%+v\n", out))
			assert.Equal(t, c.status, resp.StatusCode)
			assert.Equal(t, c.outcome, out.Outcome)
			assert.Equal(t, c.reason, out.Reason)
			assert.NotEmpty(t, out.Message)
			if c.outcome == "rate-limited" {
				assert.Equal(t, "1200", resp.Header.Get("Retry-After"), "3 per hour: one back every 20 minutes")
			}
		})
	}
	assert.Equal(t, pwNext, dir.current["u1"])
	log := w.log.String()
	assert.Contains(t, log, "principal=sspr-frontend")
	assert.Contains(t, log, "outcome=unauthenticated")
	assert.Contains(t, log, "outcome=rate-limited")
	noSecrets(t, "the audit log", log)
	noSecrets(t, "the responses", bodies.String())
}

func TestPasswordServiceConfig(t *testing.T) {
	w, _ := fakeWorld(t)
	_, err := writeback.NewPasswordService(w.ctx, writeback.PasswordConfig{Store: w.store, Connectors: map[string]connector.Connector{"cloud": w.cloud.Connector()}, Cloud: "cloud"})
	require.Error(t, err, "no connector takes passwords but the cloud")
	_, err = writeback.NewPasswordService(w.ctx, writeback.PasswordConfig{Store: w.store, Connectors: w.conns, Cloud: "nope"})
	require.Error(t, err)
	_, err = writeback.NewPasswordService(w.ctx, writeback.PasswordConfig{Store: w.store, Connectors: w.conns, Targets: []string{"hr"}})
	require.ErrorContains(t, err, `"hr"`)
	_, err = writeback.NewPasswordService(w.ctx, writeback.PasswordConfig{Store: w.store, Connectors: w.conns, Limits: writeback.Limits{PerUser: writeback.Rate{Requests: -1, Per: time.Second}}})
	require.ErrorContains(t, err, "PerUser")
}
