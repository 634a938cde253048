package admin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/net/html"

	"github.com/idbridge/idbridge/admin"
)

// pageTags are the elements of the templates: any other in a page came
// from a value that was not escaped.
var pageTags = strings.Fields(`html head meta title link script body header span nav a main h1 h2 h3 form input select
	option button table thead tbody tr th td p dl dt dd div em code section progress figure figcaption svg line text rect polyline circle label`)

// checkMarkup parses a page as a browser would and fails on an element the
// templates do not have, an event handler attribute or a script other
// than the handler's own.
func checkMarkup(t *testing.T, path, body string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			assert.ErrorIs(t, z.Err(), io.EOF, path)
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			assert.Contains(t, pageTags, tok.Data, "%s: an element the templates do not have", path)
			for _, a := range tok.Attr {
				assert.False(t, strings.HasPrefix(strings.ToLower(a.Key), "on"), "%s: an event handler %s=%q", path, a.Key, a.Val)
				if tok.Data == "script" && a.Key == "src" {
					assert.Equal(t, "static/admin.js", a.Val, path)
				}
			}
		}
	}
}

// FuzzQuery sends what a browser (or an attacker's link) may put in the
// query of each page: no page fails, and no value comes back unescaped.
func FuzzQuery(f *testing.F) {
	fx := newFixture(f)
	h := admin.New(fx.eng, admin.Options{})
	for _, s := range []string{"Lovelace", "hr-1001", "worker=1001", `<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, "0000000000000001", "", "%", "\x00"} {
		f.Add("search", s)
		f.Add("object", s)
	}
	f.Fuzz(func(t *testing.T, page, v string) {
		for _, path := range []string{"/search?q=" + url.QueryEscape(v), "/search?where=mv&q=" + url.QueryEscape(v),
			"/object?connector=hr&id=" + url.QueryEscape(v), "/entry?id=" + url.QueryEscape(v), "/runs?connector=" + url.QueryEscape(v),
			"/pending?connector=" + url.QueryEscape(v), "/" + url.PathEscape(page)} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
			assert.Less(t, w.Code, 500, path)
			checkMarkup(t, path, w.Body.String())
		}
	})
}
