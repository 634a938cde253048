package admin

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Defaults of Options.
const (
	DefaultPageSize  = 100
	DefaultScanLimit = 10000
)

// Options configures the handler. The zero value is a read-only handler
// with the documented defaults.
type Options struct {
	// Authorizer allows or refuses the actions (run a cycle, retry
	// exports, clear a quarantine). Nil: the pages are read-only, offer no
	// action and refuse every POST with ErrActionsDisabled.
	Authorizer Authorizer
	// Logger receives the actions performed and refused (info) and the
	// pages that failed (warn); nil discards logs.
	Logger *slog.Logger
	// Title heads every page. Default "idbridge".
	Title string
	// HideAttribute reports whether the values of an attribute must never
	// be shown (passwords, hashes). Nil means DefaultHideAttribute.
	HideAttribute func(name string) bool
	// PageSize bounds the rows of a list. Default DefaultPageSize.
	PageSize int
	// ScanLimit bounds the objects or entries a search reads per
	// connector space (or in the metaverse) when the text is not an exact
	// ID, anchor or DN. Default DefaultScanLimit.
	ScanLimit int
	// Live, when set, is given the engine's progress reports
	// (idbridge.Hooks.Progress) and the dashboard shows the runs in
	// progress. Nil: the dashboard shows finished runs only.
	Live *Live
	// CSRFKey signs the anti-forgery tokens of the action forms. Several
	// replicas behind one address must share it. Nil: a random key per
	// handler.
	CSRFKey []byte
}

// DefaultHideAttribute hides the attributes that hold credentials:
// unicodePwd, userPassword, and any whose name contains "password",
// "secret", "credential" or "pwd" (case-insensitively).
func DefaultHideAttribute(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"password", "pwd", "secret", "credential"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// Handler serves the admin pages. Mount it under a path that ends in a
// slash with http.StripPrefix (every link in the pages is relative):
//
//	mux.Handle("/admin/", http.StripPrefix("/admin", admin.New(engine, opts)))
//
// A Handler is safe for concurrent use.
type Handler struct {
	src   Source
	opts  Options
	log   *slog.Logger
	pages map[string]*template.Template
	csrf  csrf
	mux   *http.ServeMux
}

// New returns the admin pages of src.
func New(src Source, opts Options) *Handler {
	if opts.Title == "" {
		opts.Title = "idbridge"
	}
	if opts.HideAttribute == nil {
		opts.HideAttribute = DefaultHideAttribute
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.ScanLimit <= 0 {
		opts.ScanLimit = DefaultScanLimit
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{src: src, opts: opts, log: log, pages: map[string]*template.Template{}, csrf: newCSRF(opts.CSRFKey)}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html"))
	for _, p := range []string{"dashboard", "runs", "errors", "search", "object", "entry", "pending", "action"} {
		h.pages[p] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+p+".html"))
	}
	static, _ := fs.Sub(staticFS, "static")
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", h.dashboard)
	m.HandleFunc("GET /runs", h.runs)
	m.HandleFunc("GET /errors", h.objectErrors)
	m.HandleFunc("GET /search", h.search)
	m.HandleFunc("GET /object", h.object)
	m.HandleFunc("GET /entry", h.entry)
	m.HandleFunc("GET /pending", h.pending)
	m.Handle("POST /action", http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.action)))
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	h.mux = m
	return h
}

// ServeHTTP serves the pages.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// page is what every template gets.
type page struct {
	Title   string
	Page    string // the nav entry to highlight
	CSRF    string // the token for action forms; empty when actions are off
	Actions bool   // whether to show action forms
	Data    any
}

// render executes a page into a buffer, so that a failure gives a clean
// 500 rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	p := page{Title: h.opts.Title, Page: name, Data: data}
	if h.opts.Authorizer != nil {
		p.Actions = true
		p.CSRF = h.csrf.token(w, r)
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout.html", p); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail answers a request whose data could not be read. The error's text
// is logged, not shown: it may name internals.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.WarnContext(r.Context(), "admin page failed", "path", r.URL.Path, "err", err)
	status := http.StatusInternalServerError
	var ue *userError
	if errors.As(err, &ue) {
		status = ue.status
	}
	msg := http.StatusText(status)
	if ue != nil {
		msg = ue.msg
	}
	var buf bytes.Buffer
	if e := h.pages["action"].ExecuteTemplate(&buf, "layout.html", page{Title: h.opts.Title, Data: actionResult{Failed: true, Message: msg}}); e != nil {
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// userError is a failure whose message may be shown to the operator.
type userError struct {
	status int
	msg    string
	err    error
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.err }

func notFound(format string, args ...any) error {
	return &userError{status: http.StatusNotFound, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return &userError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

var funcs = template.FuncMap{
	"inc": func(n int) int { return n + 1 },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"elapsed": func(d time.Duration) string { return d.Round(time.Second).String() },
	"percent": func(done, total int) int {
		if total <= 0 {
			return 0
		}
		return min(100, done*100/total)
	},
	"dur": func(a, b time.Time) string {
		if a.IsZero() || b.IsZero() {
			return "—"
		}
		return b.Sub(a).Round(time.Millisecond).String()
	},
}
