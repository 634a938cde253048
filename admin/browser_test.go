package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/admin"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/internal/testenv"
)

// chromium returns the path of a Chromium to drive: IDBRIDGE_CHROMIUM
// (scripts/servers/chromium.sh exports it), or one on PATH. Without one
// the test fails when CI=true and is skipped otherwise.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("IDBRIDGE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return testenv.Get(t, "IDBRIDGE_CHROMIUM", "Chromium")
}

// browser starts a headless Chromium for the test. Failing to start it
// fails the test (never a skip once a Chromium is found).
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.UserDataDir(t.TempDir()))
	if os.Getuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to sandbox as root
	}
	// A bound for a hung browser, not a timed assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	t.Cleanup(cancelBrowser)
	require.NoError(t, chromedp.Do(ctx), "starting Chromium")
	// Accept the confirmation of action forms: the dialog blocks the
	// click that opened it, so another goroutine answers it.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return ctx
}

func mount(t *testing.T, h http.Handler) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/admin/", http.StripPrefix("/admin", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/admin/"
}

// do runs steps in the browser.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, steps...))
}

// eval evaluates a JavaScript expression in the page (awaiting a promise).
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	require.NoError(t, err, expr)
	return v
}

// text returns the text of the first element matching a CSS selector.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err, sel)
	return v
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// TestBrowser drives the pages in a real headless Chromium: each page
// loads, the chart is drawn, a search leads to an object and on to its
// lineage, nothing from a connected system runs as script, an action is
// refused without an Authorizer and done with one, and a quarantined
// connector is shown and cleared.
func TestBrowser(t *testing.T) {
	f := newFixture(t)
	base := mount(t, admin.New(f.eng, admin.Options{}))
	ctx := browser(t)

	t.Run("every page loads", func(t *testing.T) {
		for _, tt := range []struct{ path, sel, want string }{
			{"", "#connectors", "dir"},
			{"runs", "#run-chart", "FullImport"},
			{"errors", "#object-errors", "uid 1004 is reserved"},
			{"search", "#search", ""},
			{"pending", "#pending", "uid=1004,ou=people"},
		} {
			do(t, ctx, chromedp.Navigate(base+tt.path), chromedp.WaitVisible(css(tt.sel)))
			assert.Contains(t, text(t, ctx, "main"), tt.want, tt.path)
		}
	})

	t.Run("the chart is drawn", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"runs"), chromedp.WaitVisible(css("#run-chart")))
		runs := eval[int](t, ctx, `document.querySelectorAll("table.runs tbody tr").length`)
		assert.Greater(t, runs, 4)
		assert.Equal(t, runs, eval[int](t, ctx, `document.querySelectorAll("#run-chart rect.bar").length`), "a bar per run")
		assert.Equal(t, runs, eval[int](t, ctx, `document.querySelectorAll("#run-chart circle.count").length`), "a point per run")
		assert.Len(t, strings.Fields(eval[string](t, ctx, `document.querySelector("#run-chart polyline.count").getAttribute("points")`)), runs)
		assert.Greater(t, eval[float64](t, ctx, `document.getElementById("run-chart").getBoundingClientRect().width`), 100.0)
		assert.Greater(t, eval[float64](t, ctx, `Math.max(...[...document.querySelectorAll("#run-chart rect.bar")].map(b => b.getBoundingClientRect().height))`), 0.0,
			"the longest run has a visible bar")
		assert.Equal(t, "rgb(74, 120, 181)", eval[string](t, ctx, `getComputedStyle(document.querySelector("#run-chart rect.bar:not(.failed)")).fill`),
			"the style sheet applies")
	})

	t.Run("the table filter hides rows", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"runs"), chromedp.WaitVisible(css("input.filter")), chromedp.SendKeys(css("input.filter"), "FullImport"))
		shown := eval[int](t, ctx, `[...document.querySelectorAll("table.runs tbody tr")].filter(r => !r.hidden).length`)
		assert.Equal(t, 2, shown, "one FullImport per connector")
		assert.Greater(t, eval[int](t, ctx, `document.querySelectorAll("table.runs tbody tr").length`), shown)
	})

	t.Run("search, object, lineage", func(t *testing.T) {
		q := css(`#search input[name="q"]`)
		do(t, ctx, chromedp.Navigate(base+"search"), chromedp.WaitVisible(q), chromedp.SendKeys(q, "hr-1001"), chromedp.Submit(q),
			chromedp.WaitVisible(css("#results a.result")), chromedp.Click(css("#results a.result")), chromedp.WaitVisible(css("#lineage")))
		assert.Contains(t, text(t, ctx, "main"), "worker=1001")
		do(t, ctx, chromedp.Click(css("#lineage")), chromedp.WaitVisible(css("#links")))
		lineage := text(t, ctx, "main")
		assert.Contains(t, lineage, "Ada Lovelace")
		assert.Contains(t, lineage, "hr · In from HR")
		assert.Contains(t, lineage, "dir · In from Directory", "the department flowed in from the directory")
		assert.Contains(t, lineage, "uid=1001,ou=people")
		won := eval[[]string](t, ctx, `[...document.querySelectorAll("#explain table.explain tr.contribution.won .outcome")].map(td => td.textContent)`)
		assert.NotEmpty(t, won, "Explain marks the winning flows")
		lost := eval[string](t, ctx, `[...document.querySelectorAll("#explain tr.contribution:not(.won)")].map(tr => tr.textContent).join("|")`)
		assert.Contains(t, lost, "In from HR", "HR's department lost to the directory's")
		assert.Contains(t, lost, "precedence")
	})

	t.Run("values from connected systems never run", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"search?where=mv&q=Grace"), chromedp.WaitVisible(css("#results a.result")),
			chromedp.Click(css("#results a.result")), chromedp.WaitVisible(css("#links")))
		assert.Contains(t, text(t, ctx, "h1"), "<script>", "shown as text")
		assert.False(t, eval[bool](t, ctx, `window.pwned !== undefined`))
	})

	t.Run("an action is refused without an authorizer", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base), chromedp.WaitVisible(css("#connectors")))
		assert.Zero(t, eval[int](t, ctx, `document.querySelectorAll('form[action="action"]').length`), "no action offered")
		status := eval[int](t, ctx, `fetch("action", {method: "POST", body: new URLSearchParams({action: "cycle", target: "Delta"})}).then(r => r.status)`)
		assert.Equal(t, http.StatusForbidden, status)
	})

	t.Run("an authorized action runs a cycle", func(t *testing.T) {
		allow := admin.AuthorizerFunc(func(*http.Request, admin.Action, string) error { return nil })
		base := mount(t, admin.New(f.eng, admin.Options{Authorizer: allow}))
		button := css(`form[action="action"] button`)
		do(t, ctx, chromedp.Navigate(base), chromedp.WaitVisible(button), chromedp.Click(button), chromedp.WaitVisible(css("#outcome")))
		assert.Contains(t, text(t, ctx, "#outcome"), "Delta cycle")
	})

	t.Run("a quarantined connector is shown and cleared", func(t *testing.T) {
		f.hr.FailCall(memconn.OpDeltaImport, fmt.Errorf("bind refused: %w", connector.ErrAuth))
		_, err := f.eng.Cycle(context.Background(), idbridge.Delta)
		require.ErrorIs(t, err, connector.ErrAuth)
		allow := admin.AuthorizerFunc(func(*http.Request, admin.Action, string) error { return nil })
		base := mount(t, admin.New(f.eng, admin.Options{Authorizer: allow}))
		clear := css(`#quarantines button`)
		do(t, ctx, chromedp.Navigate(base), chromedp.WaitVisible(clear))
		assert.Contains(t, text(t, ctx, "#quarantines"), "auth")
		assert.Contains(t, text(t, ctx, "#connectors"), "quarantined")
		do(t, ctx, chromedp.Click(clear), chromedp.WaitVisible(css("#outcome")))
		assert.Contains(t, text(t, ctx, "#outcome"), "hr is out of quarantine")
		do(t, ctx, chromedp.Navigate(base), chromedp.WaitVisible(css("#connectors")))
		assert.False(t, eval[bool](t, ctx, `document.getElementById("quarantines") !== null`))
	})
}
