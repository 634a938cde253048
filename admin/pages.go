package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// objectRow is a connector-space object in a list.
type objectRow struct {
	Connector, ID, DN, Type, EntryID string
	Anchor                           connector.Anchor
}

// entryRow is a metaverse entry in a list.
type entryRow struct {
	ID, Type, Name string
}

type searchData struct {
	Query      string
	Where      string // "cs" or "mv"
	Connector  string
	Connectors []string
	Objects    []objectRow
	Entries    []entryRow
	Scanned    int
	Truncated  bool // the scan stopped at ScanLimit or the results at PageSize
	Searched   bool
}

// search finds connector-space objects by ID, anchor or DN (exactly), or
// by text in their DN, anchor or attribute values (a bounded scan); and
// metaverse entries by ID, or by text in their attribute values.
func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	d := searchData{Query: strings.TrimSpace(r.FormValue("q")), Where: r.FormValue("where"), Connector: r.FormValue("connector"), Connectors: h.src.Connectors()}
	if d.Where != "mv" {
		d.Where = "cs"
	}
	if d.Connector != "" && !slices.Contains(d.Connectors, d.Connector) {
		h.fail(w, r, notFound("no connector %q", d.Connector))
		return
	}
	if d.Query != "" {
		d.Searched = true
		var err error
		if d.Where == "mv" {
			err = h.searchEntries(r.Context(), &d)
		} else {
			err = h.searchObjects(r.Context(), &d)
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.render(w, r, http.StatusOK, "search", d)
}

func (h *Handler) searchObjects(ctx context.Context, d *searchData) error {
	names := d.Connectors
	if d.Connector != "" {
		names = []string{d.Connector}
	}
	q := strings.ToLower(d.Query)
	return h.src.Store().View(ctx, func(tx metaverse.Tx) error {
		for _, name := range names {
			seen := map[string]bool{}
			add := func(o *metaverse.CSObject) bool {
				if seen[o.ID] {
					return true
				}
				if len(d.Objects) >= h.opts.PageSize {
					d.Truncated = true
					return false
				}
				seen[o.ID] = true
				d.Objects = append(d.Objects, objectRow{Connector: name, ID: o.ID, DN: o.DN, Type: o.Type, EntryID: o.EntryID, Anchor: o.Anchor})
				return true
			}
			// Exact matches first: they need no scan.
			for _, get := range []func() (*metaverse.CSObject, error){
				func() (*metaverse.CSObject, error) { return tx.Object(ctx, name, d.Query) },
				func() (*metaverse.CSObject, error) {
					return tx.ObjectByAnchor(ctx, name, connector.Anchor(d.Query))
				},
				func() (*metaverse.CSObject, error) { return tx.ObjectByDN(ctx, name, d.Query) },
			} {
				o, err := get()
				if errors.Is(err, metaverse.ErrNotFound) || (err == nil && o == nil) {
					continue
				}
				if err != nil {
					return fmt.Errorf("admin: searching %s: %w", name, err)
				}
				add(o)
			}
			scanned := 0
			after := ""
			for scanned < h.opts.ScanLimit {
				page, err := tx.Objects(ctx, name, after, min(500, h.opts.ScanLimit-scanned))
				if err != nil {
					return fmt.Errorf("admin: searching %s: %w", name, err)
				}
				if len(page) == 0 {
					break
				}
				after = page[len(page)-1].ID
				scanned += len(page)
				for _, o := range page {
					if (strings.Contains(strings.ToLower(o.DN), q) || strings.Contains(strings.ToLower(string(o.Anchor)), q) ||
						h.attrsContain(o.Attrs, q)) && !add(o) {
						return nil
					}
				}
				if scanned == h.opts.ScanLimit {
					d.Truncated = true
				}
			}
			d.Scanned += scanned
		}
		return nil
	})
}

// attrsContain reports whether a shown value of attrs contains q (lower
// case). Hidden attributes are not searched: a search must not tell
// whether a password holds some text.
func (h *Handler) attrsContain(attrs connector.Attributes, q string) bool {
	for name, vs := range attrs {
		if h.opts.HideAttribute(name) {
			continue
		}
		for _, v := range vs {
			if v.Type() == connector.String && strings.Contains(strings.ToLower(v.Str()), q) {
				return true
			}
		}
	}
	return false
}

func (h *Handler) searchEntries(ctx context.Context, d *searchData) error {
	q := strings.ToLower(d.Query)
	return h.src.Store().View(ctx, func(tx metaverse.Tx) error {
		seen := map[string]bool{}
		add := func(e *metaverse.Entry) bool {
			if seen[e.ID] {
				return true
			}
			if len(d.Entries) >= h.opts.PageSize {
				d.Truncated = true
				return false
			}
			seen[e.ID] = true
			d.Entries = append(d.Entries, entryRow{ID: e.ID, Type: e.Type, Name: h.entryName(e)})
			return true
		}
		e, err := tx.Entry(ctx, d.Query)
		switch {
		case err == nil:
			add(e)
		case !errors.Is(err, metaverse.ErrNotFound):
			return fmt.Errorf("admin: searching the metaverse: %w", err)
		}
		after := ""
		for d.Scanned < h.opts.ScanLimit {
			page, err := tx.Entries(ctx, after, min(500, h.opts.ScanLimit-d.Scanned))
			if err != nil {
				return fmt.Errorf("admin: searching the metaverse: %w", err)
			}
			if len(page) == 0 {
				return nil
			}
			after = page[len(page)-1].ID
			d.Scanned += len(page)
			for _, e := range page {
				if h.attrsContain(e.Attrs, q) && !add(e) {
					return nil
				}
			}
		}
		d.Truncated = true
		return nil
	})
}

// entryName is a readable name of an entry: its displayName, cn or name.
func (h *Handler) entryName(e *metaverse.Entry) string {
	for _, a := range []string{"displayName", "cn", "name", "userPrincipalName", "mail"} {
		if v, ok := e.Attrs.First(a); ok && !h.opts.HideAttribute(a) {
			return v.String()
		}
	}
	return ""
}

// attrRow is an attribute and its values as shown, with the flow that set
// it (metaverse entries) when known.
type attrRow struct {
	Name   string
	Values []string
	Hidden bool
	Source *metaverse.Source
}

func (h *Handler) attrRows(attrs connector.Attributes, sources map[string]metaverse.Source) []attrRow {
	rows := make([]attrRow, 0, len(attrs))
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		row := attrRow{Name: name, Hidden: h.opts.HideAttribute(name)}
		if !row.Hidden {
			for _, v := range attrs[name] {
				row.Values = append(row.Values, v.String())
			}
		}
		if s, ok := sources[name]; ok {
			row.Source = &s
		}
		rows = append(rows, row)
	}
	return rows
}

type objectData struct {
	Explain *explainView // nil without an Explainer
	Object  *metaverse.CSObject
	Attrs   []attrRow
	Export  []attrRow // the attributes the pending export wants
	Pending *idbridge.PendingExport
}

func (h *Handler) object(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name, id := r.FormValue("connector"), r.FormValue("id")
	if name == "" || id == "" {
		h.fail(w, r, badRequest("an object page needs a connector and an id"))
		return
	}
	var o *metaverse.CSObject
	err := h.src.Store().View(ctx, func(tx metaverse.Tx) error {
		var err error
		o, err = tx.Object(ctx, name, id)
		return err
	})
	if errors.Is(err, metaverse.ErrNotFound) {
		h.fail(w, r, notFound("no object %q in connector space %q", id, name))
		return
	}
	if err != nil {
		h.fail(w, r, fmt.Errorf("admin: reading object %s/%s: %w", name, id, err))
		return
	}
	d := objectData{Object: o, Attrs: h.attrRows(o.Attrs, nil)}
	if o.EntryID == "" {
		// A disconnector: what its rules would contribute, and why it
		// joins nothing. A linked object's lineage is on its entry's page.
		d.Explain = h.explain(ctx, idbridge.ExplainTarget{Connector: name, ObjectID: id})
	}
	if o.Export != nil {
		d.Export = h.attrRows(o.Export.Attrs, nil)
	}
	h.render(w, r, http.StatusOK, "object", d)
}

type entryData struct {
	Explain *explainView // nil without an Explainer
	Entry   *metaverse.Entry
	Name    string
	Attrs   []attrRow
	Links   []linkRow
}

// linkRow is a connector-space object linked to an entry.
type linkRow struct {
	metaverse.Link
	DN string
}

// entry shows a metaverse entry with its lineage: per attribute, the
// connector and rule whose flow set it, and the connector-space objects
// linked to it, by the rule that made each link.
func (h *Handler) entry(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.FormValue("id")
	if id == "" {
		h.fail(w, r, badRequest("an entry page needs an id"))
		return
	}
	var d entryData
	err := h.src.Store().View(ctx, func(tx metaverse.Tx) error {
		e, err := tx.Entry(ctx, id)
		if err != nil {
			return err
		}
		d.Entry, d.Name, d.Attrs = e, h.entryName(e), h.attrRows(e.Attrs, e.Sources)
		for _, l := range e.Links {
			row := linkRow{Link: l}
			if o, err := tx.Object(ctx, l.Connector, l.ObjectID); err == nil {
				row.DN = o.DN
			} else if !errors.Is(err, metaverse.ErrNotFound) {
				return err
			}
			d.Links = append(d.Links, row)
		}
		slices.SortFunc(d.Links, func(a, b linkRow) int {
			return cmp.Or(cmp.Compare(a.Connector, b.Connector), cmp.Compare(a.ObjectID, b.ObjectID))
		})
		return nil
	})
	if errors.Is(err, metaverse.ErrNotFound) {
		h.fail(w, r, notFound("no metaverse entry %q", id))
		return
	}
	if err != nil {
		h.fail(w, r, fmt.Errorf("admin: reading entry %s: %w", id, err))
		return
	}
	d.Explain = h.explain(ctx, idbridge.ExplainTarget{EntryID: id})
	h.render(w, r, http.StatusOK, "entry", d)
}

// pendingRow is a pending export as shown.
type pendingRow struct {
	idbridge.PendingExport
	Kind string
	Mods []modRow
}

type modRow struct {
	Name, Op string
	Values   []string
	Hidden   bool
}

type pendingData struct {
	Connectors []string
	Connector  string
	Rows       []pendingRow
	Truncated  bool
	Retry      bool // whether to offer the retry action
}

// pending lists pending exports: Entra Connect's csexport.
func (h *Handler) pending(w http.ResponseWriter, r *http.Request) {
	d := pendingData{Connectors: h.src.Connectors(), Connector: r.FormValue("connector")}
	_, d.Retry = h.src.(ExportRetrier)
	names := d.Connectors
	if d.Connector != "" {
		if !slices.Contains(names, d.Connector) {
			h.fail(w, r, notFound("no connector %q", d.Connector))
			return
		}
		names = []string{d.Connector}
	}
	for _, name := range names {
		left := h.opts.PageSize - len(d.Rows)
		if left <= 0 {
			d.Truncated = true
			break
		}
		pend, err := h.src.PendingExports(r.Context(), name, left+1)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if len(pend) > left {
			pend, d.Truncated = pend[:left], true
		}
		for _, p := range pend {
			d.Rows = append(d.Rows, h.pendingRow(p))
		}
	}
	h.render(w, r, http.StatusOK, "pending", d)
}

func (h *Handler) pendingRow(p idbridge.PendingExport) pendingRow {
	row := pendingRow{PendingExport: p, Kind: p.Change.Kind.String()}
	for _, name := range sortedKeys(p.Change.Attrs) {
		m := h.modRow(name, p.Change.Attrs[name])
		m.Op = "set"
		row.Mods = append(row.Mods, m)
	}
	for _, mod := range p.Change.Mods {
		m := h.modRow(mod.Name, mod.Values)
		m.Op = mod.Op.String()
		row.Mods = append(row.Mods, m)
	}
	return row
}

// modRow shows an attribute of a change, its values removed when hidden.
func (h *Handler) modRow(name string, vs []connector.Value) modRow {
	m := modRow{Name: name, Hidden: h.opts.HideAttribute(name)}
	if !m.Hidden {
		m.Values = valueStrings(vs)
	}
	return m
}

func sortedKeys(a connector.Attributes) []string { return slices.Sorted(maps.Keys(a)) }

// actionResult is the page an action (or a failure) answers with.
type actionResult struct {
	Failed  bool
	Message string
	Back    string // a relative link to go back to
}

// maxForm bounds the body of an action's POST: its form has three short
// fields.
const maxForm = 16 << 10

// action performs an operator action: refused without an Authorizer, with
// a bad anti-forgery token, or when the Authorizer says no.
func (h *Handler) action(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	formErr := r.ParseForm()
	a, target := Action(r.PostFormValue("action")), r.PostFormValue("target")
	refuse := func(status int, err error) {
		h.log.InfoContext(ctx, "admin action refused", "action", string(a), "target", target, "err", err)
		h.render(w, r, status, "action", actionResult{Failed: true, Message: err.Error(), Back: "./"})
	}
	if h.opts.Authorizer == nil {
		refuse(http.StatusForbidden, ErrActionsDisabled)
		return
	}
	if formErr != nil {
		status := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](formErr); ok {
			status = http.StatusRequestEntityTooLarge
		}
		refuse(status, badRequest("the form could not be read"))
		return
	}
	if err := h.csrf.check(r); err != nil {
		refuse(http.StatusForbidden, err)
		return
	}
	if err := h.opts.Authorizer.Authorize(r, a, target); err != nil {
		refuse(http.StatusForbidden, fmt.Errorf("admin: %s refused: %w", a, err))
		return
	}
	var (
		msg  string
		back = "./"
		err  error
	)
	switch a {
	case ActionCycle:
		c, ok := h.src.(Cycler)
		if !ok {
			err = ErrUnsupported
			break
		}
		mode := idbridge.Delta
		switch target {
		case "Delta", "":
		case "Initial":
			mode = idbridge.Initial
		default:
			refuse(http.StatusBadRequest, badRequest("unknown cycle mode %q", target))
			return
		}
		var res *idbridge.CycleResult
		res, err = c.Cycle(ctx, mode)
		if res != nil {
			msg = fmt.Sprintf("%s cycle: %d runs, %d object errors", mode, len(res.Runs), len(res.Errors()))
		}
		back = "runs"
	case ActionRetryExports:
		rt, ok := h.src.(ExportRetrier)
		if !ok {
			err = ErrUnsupported
			break
		}
		var n int
		n, err = rt.RetryExports(ctx, target)
		msg = strconv.Itoa(n) + " exports of " + target + " will be sent at the next export"
		back = "pending?connector=" + url.QueryEscape(target)
	case ActionClearQuarantine:
		qc, ok := h.src.(QuarantineClearer)
		if !ok {
			err = ErrUnsupported
			break
		}
		if err = qc.ClearQuarantine(ctx, target); err == nil {
			msg = target + " is out of quarantine: the next cycle runs it"
		}
	default:
		refuse(http.StatusBadRequest, badRequest("unknown action %q", a))
		return
	}
	if errors.Is(err, ErrUnsupported) {
		refuse(http.StatusNotImplemented, err)
		return
	}
	h.log.InfoContext(ctx, "admin action", "action", string(a), "target", target, "err", err)
	if err != nil {
		// The engine's errors name connectors and objects, never secrets.
		// A cycle with failed runs still ran: 200, and the page says what
		// failed.
		status := http.StatusOK
		switch {
		case errors.Is(err, idbridge.ErrUnknownConnector):
			status = http.StatusNotFound
		case errors.Is(err, idbridge.ErrNotQuarantined):
			status = http.StatusConflict
		}
		h.render(w, r, status, "action", actionResult{Failed: true, Message: strings.TrimSpace(msg + "\n" + err.Error()), Back: back})
		return
	}
	h.render(w, r, http.StatusOK, "action", actionResult{Message: msg, Back: back})
}
