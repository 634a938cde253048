// Package remoteconn serves a memconn.System over HTTP to the engine child
// processes of the failover tests, and records every write the target
// receives (node, term, kind, DN, anchor) so that a test can count writes
// per object and check that two terms never interleave. Only string
// attribute values cross the wire.
package remoteconn

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
)

type wireChange struct {
	Kind   connector.ChangeKind `json:"k"`
	Anchor string               `json:"a,omitempty"`
	Type   string               `json:"t,omitempty"`
	DN     string               `json:"dn,omitempty"`
	OldDN  string               `json:"odn,omitempty"`
	Attrs  map[string][]string  `json:"at,omitempty"`
	Mods   []wireMod            `json:"m,omitempty"`
}

type wireMod struct {
	Name   string          `json:"n"`
	Op     connector.ModOp `json:"o"`
	Values []string        `json:"v,omitempty"`
}

type wireResult struct {
	Anchor string `json:"a,omitempty"`
	DN     string `json:"dn,omitempty"`
	Err    string `json:"e,omitempty"`
	Exists bool   `json:"x,omitempty"`
	Gone   bool   `json:"g,omitempty"`
}

type wireImport struct {
	Changes   []wireChange `json:"c"`
	Watermark []byte       `json:"w"`
}

func strs(vs []connector.Value) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Str()
	}
	return out
}

func vals(ss []string) []connector.Value {
	out := make([]connector.Value, len(ss))
	for i, s := range ss {
		out[i] = connector.StringValue(s)
	}
	return out
}

func toWire(c connector.Change) wireChange {
	w := wireChange{Kind: c.Kind, Anchor: string(c.Anchor), Type: c.Type, DN: c.DN, OldDN: c.OldDN}
	if c.Attrs != nil {
		w.Attrs = map[string][]string{}
		for k, v := range c.Attrs {
			w.Attrs[k] = strs(v)
		}
	}
	for _, m := range c.Mods {
		w.Mods = append(w.Mods, wireMod{Name: m.Name, Op: m.Op, Values: strs(m.Values)})
	}
	return w
}

func fromWire(w wireChange) connector.Change {
	c := connector.Change{Kind: w.Kind, Anchor: connector.Anchor(w.Anchor), Type: w.Type, DN: w.DN, OldDN: w.OldDN}
	if w.Attrs != nil {
		c.Attrs = connector.Attributes{}
		for k, v := range w.Attrs {
			c.Attrs[k] = vals(v)
		}
	}
	for _, m := range w.Mods {
		c.Mods = append(c.Mods, connector.Mod{Name: m.Name, Op: m.Op, Values: vals(m.Values)})
	}
	return c
}

// Write is one change a served system received in an export.
type Write struct {
	At     time.Time
	Node   string
	Term   uint64
	Kind   connector.ChangeKind
	DN     string
	Anchor connector.Anchor // for an Add, the anchor assigned
	Err    string
}

// Server serves systems by name. Its handler is safe for concurrent use.
type Server struct {
	mu      sync.Mutex
	systems map[string]*memconn.System
	writes  []Write
	// beforeExport, when set, is called with each export request before it
	// is applied (see SetBeforeExport).
	beforeExport func(node string, term uint64, changes []connector.Change) int
}

// SetBeforeExport sets (nil: clears) a function called with each export
// request before it is applied; it may block (to hold a batch) or apply
// part of it: it returns how many of the changes to apply (len(changes) for
// all). It may be called while the server serves.
func (s *Server) SetBeforeExport(fn func(node string, term uint64, changes []connector.Change) int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeExport = fn
}

// NewServer serves systems.
func NewServer(systems map[string]*memconn.System) *Server {
	return &Server{systems: systems}
}

// Writes returns the writes received so far, in order.
func (s *Server) Writes() []Write {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Write(nil), s.writes...)
}

// ServeHTTP serves POST /NAME/import, /NAME/delta and /NAME/export.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var name, op string
	if _, err := fmt.Sscanf(r.URL.Path, "/%s", &name); err != nil {
		http.Error(w, "bad path", http.StatusNotFound)
		return
	}
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			name, op = name[:i], name[i+1:]
			break
		}
	}
	sys, ok := s.systems[name]
	if !ok {
		http.Error(w, "no system "+name, http.StatusNotFound)
		return
	}
	c := sys.Connector()
	ctx := r.Context()
	switch op {
	case "import", "delta":
		var rec recorder
		var err error
		if op == "import" {
			err = c.Import(ctx, &rec)
		} else {
			wm, _ := base64.URLEncoding.DecodeString(r.URL.Query().Get("wm"))
			err = c.DeltaImport(ctx, wm, &rec)
		}
		if errors.Is(err, connector.ErrWatermarkExpired) {
			http.Error(w, err.Error(), http.StatusGone)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(wireImport{Changes: rec.changes, Watermark: rec.wm})
	case "export":
		var in []wireChange
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		node := r.Header.Get("X-Node")
		term, _ := strconv.ParseUint(r.Header.Get("X-Term"), 10, 64)
		changes := make([]connector.Change, len(in))
		for i := range in {
			changes[i] = fromWire(in[i])
		}
		n := len(changes)
		s.mu.Lock()
		before := s.beforeExport
		s.mu.Unlock()
		if before != nil {
			n = before(node, term, changes)
		}
		res, err := c.Export(ctx, changes[:n])
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out := make([]wireResult, len(res))
		s.mu.Lock()
		for i, r := range res {
			out[i] = wireResult{Anchor: string(r.Anchor), DN: r.DN}
			wr := Write{At: time.Now(), Node: node, Term: term, Kind: changes[i].Kind, DN: changes[i].DN, Anchor: changes[i].Anchor}
			if changes[i].Kind == connector.Add {
				wr.Anchor = r.Anchor
			}
			if r.Err != nil {
				out[i].Err = r.Err.Error()
				out[i].Exists = errors.Is(r.Err, connector.ErrAlreadyExists)
				out[i].Gone = errors.Is(r.Err, connector.ErrNoSuchObject)
				wr.Err = r.Err.Error()
			}
			s.writes = append(s.writes, wr)
		}
		s.mu.Unlock()
		if n < len(changes) {
			// The rest of the batch never arrives: the connection breaks.
			panic(http.ErrAbortHandler)
		}
		json.NewEncoder(w).Encode(out)
	default:
		http.Error(w, "no operation "+op, http.StatusNotFound)
	}
}

type recorder struct {
	changes []wireChange
	wm      []byte
}

func (r *recorder) Object(ctx context.Context, c connector.Change) error {
	r.changes = append(r.changes, toWire(c))
	return nil
}
func (r *recorder) Error(ctx context.Context, err *connector.ObjectError) error { return nil }
func (r *recorder) Checkpoint(ctx context.Context, wm []byte) error {
	r.wm = wm
	return nil
}

// Client is a connector.Connector (and DeltaImporter) for a served system.
type Client struct {
	URL   string // the server's base URL and the system's name: http://host:port/NAME
	Types *connector.Schema
	Node  string
	// Term returns the term to tag exports with (0 when none).
	Term func() uint64
	HTTP *http.Client
}

var (
	_ connector.Connector     = (*Client)(nil)
	_ connector.DeltaImporter = (*Client)(nil)
)

// Schema implements connector.Connector.
func (c *Client) Schema(ctx context.Context) (*connector.Schema, error) { return c.Types, nil }

func (c *Client) post(ctx context.Context, path string, body []byte, h map[string]string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("remoteconn: %w: %w", connector.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("remoteconn: %w: %w", connector.ErrUnavailable, err)
	}
	if resp.StatusCode == http.StatusGone {
		return nil, fmt.Errorf("remoteconn: %s: %w", data, connector.ErrWatermarkExpired)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("remoteconn: %s: %s", resp.Status, data)
	}
	return data, nil
}

func (c *Client) imp(ctx context.Context, path string, sink connector.ImportSink) error {
	data, err := c.post(ctx, path, nil, nil)
	if err != nil {
		return err
	}
	var in wireImport
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("remoteconn: %w", err)
	}
	for _, w := range in.Changes {
		if err := sink.Object(ctx, fromWire(w)); err != nil {
			return err
		}
	}
	return sink.Checkpoint(ctx, in.Watermark)
}

// Import implements connector.Connector.
func (c *Client) Import(ctx context.Context, sink connector.ImportSink) error {
	return c.imp(ctx, "/import", sink)
}

// DeltaImport implements connector.DeltaImporter.
func (c *Client) DeltaImport(ctx context.Context, wm []byte, sink connector.ImportSink) error {
	return c.imp(ctx, "/delta?wm="+base64.URLEncoding.EncodeToString(wm), sink)
}

// Export implements connector.Connector.
func (c *Client) Export(ctx context.Context, changes []connector.Change) ([]connector.ExportResult, error) {
	in := make([]wireChange, len(changes))
	for i := range changes {
		in[i] = toWire(changes[i])
	}
	body, _ := json.Marshal(in)
	var term uint64
	if c.Term != nil {
		term = c.Term()
	}
	data, err := c.post(ctx, "/export", body, map[string]string{"X-Node": c.Node, "X-Term": strconv.FormatUint(term, 10)})
	if err != nil {
		return nil, err
	}
	var out []wireResult
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("remoteconn: %w", err)
	}
	res := make([]connector.ExportResult, len(out))
	for i, o := range out {
		res[i] = connector.ExportResult{Anchor: connector.Anchor(o.Anchor), DN: o.DN}
		if o.Err != "" {
			err := errors.New(o.Err)
			switch {
			case o.Exists:
				err = fmt.Errorf("%s: %w", o.Err, connector.ErrAlreadyExists)
			case o.Gone:
				err = fmt.Errorf("%s: %w", o.Err, connector.ErrNoSuchObject)
			}
			res[i].Err = &connector.ObjectError{Anchor: changes[i].Anchor, DN: changes[i].DN, Op: changes[i].Kind.String(), Err: err}
		}
	}
	return res, nil
}

// Close implements connector.Connector.
func (c *Client) Close() error { return nil }
