package ldif

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/idbridge/idbridge/connector"
)

// Connector is a connector.Connector over LDIF files: it imports an LDIF
// export and appends exported changes to an LDIF change file. It also
// implements connector.DeltaImporter: a delta import of an unchanged file
// reports nothing, one of a changed file asks for a full import.
//
// The engine does not call Import, DeltaImport and Export concurrently;
// Close may be called at any time and stops a running import.
type Connector struct {
	cfg     Config
	types   []*typeInfo
	classes map[string]classRef // lower-case objectClass → type
	where   string              // file name used in errors

	mu     sync.Mutex
	closed bool
	open   map[io.Closer]struct{} // inputs being read, closed by Close
}

// classRef is the type an objectClass maps to; prio is the TypeMap's
// position, as the first TypeMap that matches wins.
type classRef struct{ prio, typ int }

var (
	_ connector.Connector     = (*Connector)(nil)
	_ connector.DeltaImporter = (*Connector)(nil)
)

// New returns a connector with the given configuration.
func New(cfg Config) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Connector{cfg: cfg, classes: map[string]classRef{}, open: map[io.Closer]struct{}{}, where: "input"}
	if cfg.Path != "" {
		c.where = filepath.Base(cfg.Path)
	}
	index := map[string]int{}
	for i := range cfg.Schema.Types {
		index[cfg.Schema.Types[i].Name] = i
		c.types = append(c.types, newTypeInfo(&cfg, &cfg.Schema.Types[i]))
	}
	if len(cfg.Types) == 0 {
		for i, t := range cfg.Schema.Types {
			c.classes[strings.ToLower(t.Name)] = classRef{i, i}
		}
	}
	for p, tm := range cfg.Types {
		for _, oc := range tm.ObjectClasses {
			if _, ok := c.classes[strings.ToLower(oc)]; !ok {
				c.classes[strings.ToLower(oc)] = classRef{p, index[tm.Type]}
			}
		}
	}
	return c, nil
}

// Schema implements connector.Connector: it returns the configured schema.
func (c *Connector) Schema(ctx context.Context) (*connector.Schema, error) {
	return c.cfg.Schema, nil
}

// Close implements connector.Connector. It stops a running import, which
// then fails; later calls fail too.
func (c *Connector) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for f := range c.open {
		errs = append(errs, f.Close())
	}
	clear(c.open)
	return errors.Join(errs...)
}

var errClosed = errors.New("ldif: connector closed")

// input opens the import source, registered so that Close can stop it.
// It returns nil when there is nothing to import.
func (c *Connector) input() (io.ReadCloser, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errClosed
	}
	var (
		f   io.ReadCloser
		err error
	)
	switch {
	case c.cfg.Open != nil:
		f, err = c.cfg.Open()
	case c.cfg.Path != "":
		f, err = os.Open(c.cfg.Path)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ldif: open %s: %w", c.where, err)
	}
	c.open[f] = struct{}{}
	return f, nil
}

func (c *Connector) release(f io.Closer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.open[f]; ok {
		delete(c.open, f)
		f.Close()
	}
}

// fingerprinter hashes what is read through it, for the watermark.
type fingerprinter struct {
	r io.Reader
	h hash.Hash
	n uint64
}

func (f *fingerprinter) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.h.Write(p[:n])
	f.n += uint64(n)
	return n, err
}

// watermark is "ldif1", the input's size and its SHA-256.
func (f *fingerprinter) watermark() []byte {
	wm := append([]byte("ldif1"), binary.BigEndian.AppendUint64(nil, f.n)...)
	return f.h.Sum(wm)
}

// Import implements connector.Connector. It streams the file, reporting
// each entry in scope as an Add and each malformed one with sink.Error, and
// checkpoints once at the end with a fingerprint of the file.
func (c *Connector) Import(ctx context.Context, sink connector.ImportSink) error {
	f, err := c.input()
	if err != nil {
		return err
	}
	if f == nil {
		return sink.Checkpoint(ctx, nil)
	}
	defer c.release(f)
	fp := &fingerprinter{r: f, h: sha256.New()}
	r := NewReader(fp)
	seen := map[connector.Anchor]int{} // anchor → line
	im := c.newImporter()
	var reuse Record
	for n := 0; ; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := r.next(&reuse)
		if err == io.EOF {
			break
		}
		var pe *ParseError
		if errors.As(err, &pe) {
			if err := c.report(ctx, sink, pe); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			if c.isClosed() {
				return errClosed
			}
			return fmt.Errorf("ldif: read %s: %w", c.where, err)
		}
		ch, ok, perr := im.convert(rec)
		if perr == nil && ok {
			if line, dup := seen[ch.Anchor]; dup {
				perr = &ParseError{Line: rec.Line, DN: rec.DN, ErrLine: rec.Line,
					Err: fmt.Errorf("anchor %s already used by the record at line %d", ch.Anchor, line)}
			} else {
				seen[ch.Anchor] = rec.Line
			}
		}
		if perr != nil {
			if err := c.report(ctx, sink, perr); err != nil {
				return err
			}
			continue
		}
		if !ok {
			continue
		}
		if err := sink.Object(ctx, ch); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return sink.Checkpoint(ctx, fp.watermark())
}

func (c *Connector) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *Connector) report(ctx context.Context, sink connector.ImportSink, pe *ParseError) error {
	return sink.Error(ctx, &connector.ObjectError{
		Op:    "import",
		DN:    pe.DN,
		Where: c.where + ":" + strconv.Itoa(pe.Line),
		Err:   pe,
	})
}

// DeltaImport implements connector.DeltaImporter. An LDIF file has no
// change log: when the file is as the watermark describes, there is nothing
// to report; otherwise DeltaImport returns an error wrapping
// connector.ErrWatermarkExpired and the engine runs a full import, which
// finds what changed.
func (c *Connector) DeltaImport(ctx context.Context, watermark []byte, sink connector.ImportSink) error {
	f, err := c.input()
	if err != nil {
		return err
	}
	if f == nil {
		return sink.Checkpoint(ctx, watermark)
	}
	defer c.release(f)
	if st, ok := f.(interface{ Stat() (os.FileInfo, error) }); ok && len(watermark) >= 13 {
		// A different size needs no hashing.
		if fi, err := st.Stat(); err == nil && uint64(fi.Size()) != binary.BigEndian.Uint64(watermark[5:13]) {
			return fmt.Errorf("ldif: %s changed since the last import: %w", c.where, connector.ErrWatermarkExpired)
		}
	}
	fp := &fingerprinter{r: f, h: sha256.New()}
	if _, err := io.Copy(io.Discard, fp); err != nil {
		return fmt.Errorf("ldif: read %s: %w", c.where, err)
	}
	cur := fp.watermark()
	if !bytes.Equal(cur, watermark) {
		return fmt.Errorf("ldif: %s changed since the last import: %w", c.where, connector.ErrWatermarkExpired)
	}
	return sink.Checkpoint(ctx, cur)
}

// resolved is what an attribute description means for one type.
type resolved struct {
	attr   *connector.Attribute // nil when not in the schema
	anchor bool
}

// importer converts records to Adds for one import. It caches what each
// attribute description resolves to, per type, so that a record costs no
// case folding.
type importer struct {
	c       *Connector
	cache   []map[string]resolved // per type index
	last    [][]lastAttr          // per type index: the previous record's attributes by position
	classes map[string]classRef   // objectClass value as written → type; prio -1 for none
}

func (c *Connector) newImporter() *importer {
	im := &importer{c: c, cache: make([]map[string]resolved, len(c.types)), last: make([][]lastAttr, len(c.types)), classes: map[string]classRef{}}
	for i := range im.cache {
		im.cache[i] = map[string]resolved{}
	}
	return im
}

func (im *importer) class(value string) (classRef, bool) {
	r, ok := im.classes[value]
	if !ok {
		if r, ok = im.c.classes[lowerASCII(value)]; !ok {
			r = classRef{prio: -1}
		}
		if len(im.classes) < 4096 {
			im.classes[value] = r
		}
	}
	return r, r.prio >= 0
}

// lastAttr is an attribute description and what it resolved to.
type lastAttr struct {
	desc string
	r    resolved
}

// resolveAt resolves the i-th attribute of a record of type ti, trying the
// previous record's i-th attribute first: records of one type usually list
// the same attributes in the same order.
func (im *importer) resolveAt(ti, i int, desc string) resolved {
	last := im.last[ti]
	if i < len(last) && last[i].desc == desc {
		return last[i].r
	}
	r := im.resolve(ti, desc)
	switch {
	case i < len(last):
		last[i] = lastAttr{desc, r}
	case i == len(last) && i < 256:
		im.last[ti] = append(last, lastAttr{desc, r})
	}
	return r
}

func (im *importer) resolve(ti int, desc string) resolved {
	m := im.cache[ti]
	if r, ok := m[desc]; ok {
		return r
	}
	t := im.c.types[ti]
	var r resolved
	r.attr, _ = t.attr(desc)
	r.anchor = t.isAnchor(desc)
	if len(m) < 4096 {
		m[desc] = r
	}
	return r
}

// convert turns a record into an Add. ok is false for a record out of
// scope (no TypeMap matches its objectClass).
func (im *importer) convert(rec *Record) (ch connector.Change, ok bool, perr *ParseError) {
	c := im.c
	fail := func(line int, format string, args ...any) (connector.Change, bool, *ParseError) {
		return connector.Change{}, false, &ParseError{Line: rec.Line, DN: rec.DN, ErrLine: line, Err: fmt.Errorf(format, args...)}
	}
	if rec.ChangeType != "" && rec.ChangeType != ChangeAdd {
		return fail(rec.Line, "a %s change record cannot be imported: an import reads entries", rec.ChangeType)
	}
	hasClass := false
	best := classRef{prio: -1}
	for _, a := range rec.Attrs {
		if len(a.Name) < len("objectClass") || !strings.EqualFold(a.Name[:len("objectClass")], "objectClass") {
			continue
		}
		if base, _ := a.Base(); len(base) != len("objectClass") {
			continue
		}
		hasClass = true
		if r, ok := im.class(a.Value); ok && (best.prio < 0 || r.prio < best.prio) {
			best = r
		}
	}
	typ := 0
	switch {
	case best.prio >= 0:
		typ = best.typ
	case !hasClass && len(c.types) == 1:
	case !hasClass:
		return fail(rec.Line, "no objectClass: cannot tell the object type")
	default:
		return connector.Change{}, false, nil
	}
	ti := c.types[typ]

	// Values go into one backing array; the values of an attribute, usually
	// on consecutive lines, are one slice of it.
	vals := make([]connector.Value, 0, len(rec.Attrs))
	attrs := make(connector.Attributes, min(len(rec.Attrs), 32))
	var anchorRaw string
	anchorLine, anchors := 0, 0
	var last *connector.Attribute
	start := 0
	var doneBuf [32]*connector.Attribute
	done := doneBuf[:0] // attributes flushed
	flush := func() bool {
		if last == nil || start == len(vals) {
			return true
		}
		run := vals[start:len(vals):len(vals)]
		if slices.Contains(done, last) {
			run = append(attrs[last.Name], run...) // values not on consecutive lines: copies
		}
		if len(run) > 1 && !last.Multi {
			return false
		}
		attrs[last.Name] = run
		done = append(done, last)
		return true
	}
	for i, a := range rec.Attrs {
		r := im.resolveAt(typ, i, a.Name)
		if r.anchor {
			anchors++
			if anchors == 1 {
				anchorRaw, anchorLine = a.Value, a.Line
			}
		}
		if r.attr == nil {
			continue
		}
		v, err := parseValue(r.attr.Type, a.Value)
		if err != nil {
			return fail(a.Line, "%s: %v", a.Name, err)
		}
		if r.attr != last {
			if !flush() {
				return fail(rec.Line, "single-valued attribute %s has more than one value", last.Name)
			}
			last, start = r.attr, len(vals)
		}
		vals = append(vals, v)
	}
	if !flush() {
		return fail(rec.Line, "single-valued attribute %s has more than one value", last.Name)
	}
	switch anchors {
	case 0:
		return fail(rec.Line, "missing anchor attribute %s", ti.anchor)
	case 1:
	default:
		return fail(anchorLine, "anchor attribute %s has %d values", ti.anchor, anchors)
	}
	anchor, err := anchorText(ti.anchorType, anchorRaw)
	if err != nil {
		return fail(anchorLine, "%s: %v", ti.anchor, err)
	}
	return connector.Change{Kind: connector.Add, Anchor: anchor, Type: ti.t.Name, DN: rec.DN, Attrs: attrs}, true, nil
}
