package admin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/admin"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse"
)

// client is a browser-like HTTP client of a mounted handler: it keeps
// cookies, so that the anti-forgery token of a page can be posted back.
type client struct {
	t   *testing.T
	srv *httptest.Server
	c   *http.Client
}

func newClient(t *testing.T, h http.Handler) *client {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/admin/", http.StripPrefix("/admin", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &client{t: t, srv: srv, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(req *http.Request) (int, string) {
	c.t.Helper()
	resp, err := c.c.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, string(b)
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.srv.URL+"/admin/"+path, nil)
	require.NoError(c.t, err)
	return c.do(req)
}

func (c *client) post(form url.Values) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.srv.URL+"/admin/action", strings.NewReader(form.Encode()))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token reads the anti-forgery token of the dashboard's action form.
func (c *client) token() string {
	c.t.Helper()
	_, body := c.get("")
	m := csrfInput.FindStringSubmatch(body)
	require.NotNil(c.t, m, "no action form on the dashboard")
	return m[1]
}

// objectID returns the connector-space ID of the object with anchor a.
func objectID(t *testing.T, f *fixture, conn, dn string) string {
	t.Helper()
	var id string
	require.NoError(t, f.eng.Store().View(context.Background(), func(tx metaverse.Tx) error {
		o, err := tx.ObjectByDN(context.Background(), conn, dn)
		if err == nil {
			id = o.ID
		}
		return err
	}))
	return id
}

func TestPages(t *testing.T) {
	f := newFixture(t)
	c := newClient(t, admin.New(f.eng, admin.Options{}))
	adaID := objectID(t, f, "hr", "worker=1001")
	var entryID string
	require.NoError(t, f.eng.Store().View(context.Background(), func(tx metaverse.Tx) error {
		o, err := tx.Object(context.Background(), "hr", adaID)
		entryID = o.EntryID
		return err
	}))
	alanDir := objectID(t, f, "dir", "uid=1004,ou=people")
	strayDir := objectID(t, f, "dir", "uid=9999,ou=people")
	tests := []struct {
		name, path string
		status     int
		want       []string // substrings of the page
	}{
		{"dashboard", "", 200, []string{"hr", "dir", "DeltaSync", `href="pending?connector=dir"`, "read-only"}},
		{"runs", "runs", 200, []string{`<svg id="run-chart"`, `class="bar`, "<polyline", "FullImport"}},
		{"runs of a connector", "runs?connector=hr", 200, []string{"DeltaImport"}},
		{"runs of an unknown connector", "runs?connector=nope", 404, []string{"no connector &#34;nope&#34;"}},
		{"errors", "errors", 200, []string{"uid 1004 is reserved", `export <span class="bad">parked</span>`}},
		{"errors of a connector", "errors?connector=hr", 200, []string{"None."}},
		{"runs with a bad cursor", "runs?cursor=nope", 400, []string{"start again"}},
		{"runs that failed", "runs?outcome=failed", 200, []string{"No run yet."}},
		{"search by anchor", "search?q=hr-1001", 200, []string{`href="object?connector=hr&amp;id=` + adaID + `"`}},
		{"search by text", "search?q=lovelace&connector=dir", 200, []string{"uid=1001,ou=people"}},
		{"search the metaverse", "search?q=Lovelace&where=mv", 200, []string{`href="entry?id=` + entryID + `"`, "Ada Lovelace"}},
		{"search, nothing found", "search?q=nobody", 200, []string{"No object found."}},
		{"object", "object?connector=hr&id=" + adaID, 200, []string{"worker=1001", `href="entry?id=` + entryID + `"`, "In from HR"}},
		{"object with a parked export", "object?connector=dir&id=" + alanDir, 200, []string{"parked", "uid 1004 is reserved"}},
		{"disconnector with its explanation", "object?connector=dir&id=" + strayDir, 200, []string{"none (disconnector)", `<td class="outcome">notJoined</td>`, "Nowhere",
			`<table id="joins">`, "<td>In from Directory</td><td>1</td>", "employeeID = 9999"}},
		{"object not found", "object?connector=hr&id=nope", 404, []string{"no object"}},
		{"object without id", "object?connector=hr", 400, nil},
		{"entry", "entry?id=" + entryID, 200, []string{"Ada Lovelace", "hr · In from HR", "dir · In from Directory", "uid=1001,ou=people", "Out to Directory",
			// Explain: the HR department lost to the directory's.
			`<td class="outcome">precedence</td>`, "Analytical Engines", "Out to Directory (10, in scope)"}},
		{"entry not found", "entry?id=nope", 404, nil},
		{"pending", "pending", 200, []string{"uid=1004,ou=people", "parked"}},
		{"pending of a connector", "pending?connector=hr", 200, []string{"Nothing pending."}},
		{"static script", "static/admin.js", 200, []string{"addEventListener"}},
		{"unknown page", "nope", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := c.get(tt.path)
			assert.Equal(t, tt.status, status)
			for _, w := range tt.want {
				assert.Contains(t, body, w)
			}
		})
	}
}

// No page shows a password, and every value from a connected system is
// escaped.
func TestPagesEscapeAndHide(t *testing.T) {
	f := newFixture(t)
	c := newClient(t, admin.New(f.eng, admin.Options{}))
	graceID := objectID(t, f, "hr", "worker=1003")
	for _, path := range []string{"", "runs", "errors", "pending", "search?q=Grace", "search?q=Grace&where=mv",
		"object?connector=hr&id=" + graceID, "search?q=" + url.QueryEscape(hostile)} {
		status, body := c.get(path)
		require.Equal(t, http.StatusOK, status, path)
		assert.NotContains(t, body, "Sekr1t-admin-", path)
		assert.NotContains(t, body, "<script>window", path)
		assert.NotContains(t, body, "<img src=x", path)
		checkMarkup(t, path, body)
	}
	_, body := c.get("object?connector=hr&id=" + graceID)
	assert.Contains(t, body, "&lt;script&gt;window.pwned=1&lt;/script&gt;")
	assert.Contains(t, body, "userPassword</td><td><em>hidden</em>")
	// A search does not tell whether a password holds the text.
	_, body = c.get("search?q=Sekr1t-admin-")
	assert.Contains(t, body, "No object found.")
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	c := newClient(t, admin.New(f.eng, admin.Options{}))
	resp, err := c.c.Get(c.srv.URL + "/admin/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'")
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
}

// allow is an Authorizer that allows everything and records what it saw.
type recorder struct{ seen []string }

func (r *recorder) Authorize(_ *http.Request, a admin.Action, target string) error {
	r.seen = append(r.seen, string(a)+" "+target)
	if target == "forbidden" {
		return errors.New("not for you")
	}
	return nil
}

func TestActions(t *testing.T) {
	t.Run("read-only without an authorizer", func(t *testing.T) {
		f := newFixture(t)
		c := newClient(t, admin.New(f.eng, admin.Options{}))
		_, body := c.get("")
		assert.NotContains(t, body, `action="action"`, "no action form")
		status, body := c.post(url.Values{"action": {"cycle"}, "target": {"Delta"}})
		assert.Equal(t, http.StatusForbidden, status)
		assert.Contains(t, body, admin.ErrActionsDisabled.Error())
	})

	f := newFixture(t)
	auth := &recorder{}
	c := newClient(t, admin.New(f.eng, admin.Options{Authorizer: auth}))
	tok := c.token()
	tests := []struct {
		name   string
		form   url.Values
		origin string
		status int
		want   string
	}{
		{"no token", url.Values{"action": {"cycle"}}, "", 403, "anti-forgery"},
		{"wrong token", url.Values{"action": {"cycle"}, "csrf": {"AAAA"}}, "", 403, "anti-forgery"},
		{"another origin", url.Values{"action": {"cycle"}, "csrf": {tok}}, "https://evil.example", 403, ""},
		{"refused by the authorizer", url.Values{"action": {"retry-exports"}, "target": {"forbidden"}, "csrf": {tok}}, "", 403, "not for you"},
		{"unknown action", url.Values{"action": {"format-disk"}, "csrf": {tok}}, "", 400, "unknown action"},
		{"oversized form", url.Values{"action": {"cycle"}, "csrf": {tok}, "pad": {strings.Repeat("x", 64<<10)}}, "", 413, "could not be read"},
		{"unknown cycle mode", url.Values{"action": {"cycle"}, "target": {"Sideways"}, "csrf": {tok}}, "", 400, "unknown cycle mode"},
		{"cycle", url.Values{"action": {"cycle"}, "target": {"Delta"}, "csrf": {tok}}, "", 200, "Delta cycle"},
		{"retry exports", url.Values{"action": {"retry-exports"}, "target": {"dir"}, "csrf": {tok}}, "", 200, "1 exports of dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, c.srv.URL+"/admin/action", strings.NewReader(tt.form.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
				req.Header.Set("Sec-Fetch-Site", "cross-site")
			}
			status, body := c.do(req)
			assert.Equal(t, tt.status, status)
			assert.Contains(t, body, tt.want)
		})
	}
	assert.Equal(t, []string{"retry-exports forbidden", "format-disk ", "cycle Sideways", "cycle Delta", "retry-exports dir"}, auth.seen,
		"the authorizer is asked only with a valid token")
}

func TestDefaultHideAttribute(t *testing.T) {
	for name, hide := range map[string]bool{"unicodePwd": true, "userPassword": true, "clientSecret": true,
		"supplementalCredentials": true, "displayName": false, "mail": false} {
		assert.Equal(t, hide, admin.DefaultHideAttribute(name), name)
	}
}

// A connector whose credentials fail is quarantined: the dashboard says
// so and why, offers to clear it only with an Authorizer, and clearing it
// is recorded in the history.
func TestQuarantine(t *testing.T) {
	f := newFixture(t)
	f.hr.FailCall(memconn.OpDeltaImport, fmt.Errorf("bind refused: %w", connector.ErrAuth))
	_, err := f.eng.Cycle(context.Background(), idbridge.Delta)
	require.ErrorIs(t, err, connector.ErrAuth)
	require.Len(t, f.eng.Quarantines(), 1)

	ro := newClient(t, admin.New(f.eng, admin.Options{}))
	_, body := ro.get("")
	assert.Contains(t, body, `<span class="bad">quarantined</span>`)
	assert.Contains(t, body, `<table id="quarantines">`)
	assert.Contains(t, body, "<td>auth</td>")
	assert.NotContains(t, body, "clear-quarantine", "read-only: no action")

	c := newClient(t, admin.New(f.eng, admin.Options{Authorizer: &recorder{}}))
	tok := c.token()
	_, body = c.get("")
	assert.Contains(t, body, `name="action" value="clear-quarantine"`)
	status, body := c.post(url.Values{"action": {"clear-quarantine"}, "target": {"hr"}, "csrf": {tok}})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "hr is out of quarantine")
	assert.Empty(t, f.eng.Quarantines())

	status, body = c.post(url.Values{"action": {"clear-quarantine"}, "target": {"hr"}, "csrf": {tok}})
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, body, "not in quarantine")
	status, _ = c.post(url.Values{"action": {"retry-exports"}, "target": {"nope"}, "csrf": {tok}})
	assert.Equal(t, http.StatusNotFound, status)

	_, body = c.get("")
	assert.NotContains(t, body, `<table id="quarantines">`)
	_, body = c.get("runs?connector=hr&profile=QuarantineCleared")
	assert.Contains(t, body, "cleared by an operator")
	_, body = c.get("runs?connector=hr&profile=Quarantine")
	assert.Contains(t, body, "bind refused")
}

// The history and the errors come a page at a time; each page links to
// the next with the filters kept.
func TestPaging(t *testing.T) {
	f := newFixture(t)
	// A second parked export, so that the errors take two pages of one.
	f.dir.FailObject(memconn.OpExport, "uid=1005,ou=people", connector.Permanent(errors.New("uid 1005 is reserved too")))
	_, err := f.eng.Cycle(context.Background(), idbridge.Delta)
	require.NoError(t, err)
	c := newClient(t, admin.New(f.eng, admin.Options{PageSize: 2}))
	next := regexp.MustCompile(`id="(?:older|next)" href="([^"]+)"`)

	seen := map[string]bool{}
	path := "runs?connector=hr"
	for pages := 0; path != ""; pages++ {
		require.Less(t, pages, 20, "the pages end")
		status, body := c.get(path)
		require.Equal(t, http.StatusOK, status, path)
		assert.Equal(t, 2, strings.Count(body, `<rect class="bar`)+strings.Count(body, "<td colspan=\"7\">No run yet."), "a chart of the page's runs: %s", path)
		for _, m := range regexp.MustCompile(`data-run="([^"]+)"`).FindAllStringSubmatch(body, -1) {
			assert.False(t, seen[m[1]], "run %s on two pages", m[1])
			seen[m[1]] = true
		}
		path = ""
		if m := next.FindStringSubmatch(body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
			assert.Contains(t, path, "connector=hr", "the filter is kept")
		}
	}
	assert.Greater(t, len(seen), 2)

	c = newClient(t, admin.New(f.eng, admin.Options{PageSize: 1}))
	_, body := c.get("errors")
	assert.Contains(t, body, "uid 1004 is reserved")
	m := next.FindStringSubmatch(body)
	require.NotNil(t, m, "a link to the next page of errors")
	_, body = c.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	assert.Contains(t, body, "uid 1005 is reserved too")
}

// The dashboard shows the runs in progress that the engine reported to a
// Live, until their final report.
func TestLive(t *testing.T) {
	f := newFixture(t)
	live := admin.NewLive()
	c := newClient(t, admin.New(f.eng, admin.Options{Live: live}))
	_, body := c.get("")
	assert.NotContains(t, body, `id="running"`)

	live.Progress(idbridge.Progress{Connector: "hr", Profile: idbridge.FullImport, Done: 1500, Errors: 2, Rate: 750, Elapsed: 2 * time.Second})
	live.Progress(idbridge.Progress{Connector: "dir", Profile: idbridge.FullSync, Done: 250, Total: 1000, Rate: 125, Elapsed: 2 * time.Second, ETA: 6 * time.Second})
	_, body = c.get("")
	assert.Contains(t, body, `<table id="running" data-refresh="5">`)
	assert.Contains(t, body, "<td>hr</td><td>FullImport</td>\n<td>1500</td>")
	assert.Contains(t, body, `250 of 1000 <progress max="100" value="25">`)
	assert.Contains(t, body, "<td>6s</td>")
	assert.Less(t, strings.Index(body, "<td>dir</td><td>FullSync</td>"), strings.Index(body, "<td>hr</td><td>FullImport</td>"), "by connector")

	live.Progress(idbridge.Progress{Connector: "hr", Profile: idbridge.FullImport, Done: 3000, Final: true})
	live.Progress(idbridge.Progress{Connector: "dir", Profile: idbridge.FullSync, Done: 1000, Total: 1000, Final: true})
	_, body = c.get("")
	assert.NotContains(t, body, `id="running"`)

	// From the engine's hook: every run ends with its final report.
	live = admin.NewLive()
	reports := 0
	f = newFixture(t, idbridge.Options{ProgressEvery: 1, Hooks: idbridge.Hooks{Progress: func(p idbridge.Progress) {
		reports++ // called from the run's goroutine; the cycles run one at a time
		live.Progress(p)
	}}})
	assert.Greater(t, reports, 10)
	c = newClient(t, admin.New(f.eng, admin.Options{Live: live}))
	_, body = c.get("")
	assert.NotContains(t, body, `id="running"`)
}
