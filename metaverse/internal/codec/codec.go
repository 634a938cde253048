package codec

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// Version is the record format version written by this package.
const Version = 1

// Record kinds.
const (
	kindEntry  = 'E'
	kindObject = 'O'
	kindRun    = 'R'
)

// ErrCorrupt is wrapped by decoding errors of malformed records. It is
// metaverse.ErrCorrupt, so that the stores' callers can match it.
var ErrCorrupt = metaverse.ErrCorrupt

// AppendEntry appends the encoding of e to buf.
func AppendEntry(buf []byte, e *metaverse.Entry) []byte {
	w := writer{buf: buf}
	w.byte(kindEntry)
	w.byte(Version)
	w.str(e.ID)
	w.str(e.Type)
	w.attrs(e.Attrs)
	if e.Sources == nil {
		w.uvarint(0)
	} else {
		w.uvarint(uint64(len(e.Sources)) + 1)
		for k, s := range e.Sources {
			w.str(k)
			w.str(s.Connector)
			w.str(s.Rule)
		}
	}
	if e.Links == nil {
		w.uvarint(0)
	} else {
		w.uvarint(uint64(len(e.Links)) + 1)
		for _, l := range e.Links {
			w.str(l.Connector)
			w.str(l.ObjectID)
			w.byte(byte(l.Type))
			w.str(l.Rule)
			w.bool(l.Inbound)
		}
	}
	w.time(e.Created)
	w.time(e.Updated)
	return w.buf
}

// DecodeEntry decodes a record written by AppendEntry.
func DecodeEntry(b []byte) (*metaverse.Entry, error) {
	r := reader{buf: b, what: "entry"}
	r.header(kindEntry)
	e := &metaverse.Entry{}
	e.ID = r.str()
	e.Type = r.str()
	e.Attrs = r.attrs()
	if n, ok := r.count(3); ok {
		e.Sources = make(map[string]metaverse.Source, n)
		for i := 0; i < n && r.err == nil; i++ {
			k := r.str()
			e.Sources[k] = metaverse.Source{Connector: r.str(), Rule: r.str()}
		}
	}
	if n, ok := r.count(5); ok {
		e.Links = make([]metaverse.Link, 0, n)
		for i := 0; i < n && r.err == nil; i++ {
			e.Links = append(e.Links, metaverse.Link{
				Connector: r.str(),
				ObjectID:  r.str(),
				Type:      metaverse.LinkType(r.byte()),
				Rule:      r.str(),
				Inbound:   r.bool(),
			})
		}
	}
	e.Created = r.time()
	e.Updated = r.time()
	if err := r.done(); err != nil {
		return nil, err
	}
	return e, nil
}

// EntryType returns the Type of an encoded entry without decoding the rest.
func EntryType(b []byte) (string, error) {
	r := reader{buf: b, what: "entry"}
	r.header(kindEntry)
	r.str()
	t := r.str()
	return t, r.err
}

// AppendObject appends the encoding of o to buf.
func AppendObject(buf []byte, o *metaverse.CSObject) []byte {
	w := writer{buf: buf}
	w.byte(kindObject)
	w.byte(Version)
	w.str(o.ID)
	w.str(o.Connector)
	w.str(string(o.Anchor))
	w.str(o.DN)
	w.str(o.Type)
	w.attrs(o.Attrs)
	w.byte(byte(o.Pending))
	w.strs(o.Changed)
	w.str(o.EntryID)
	w.byte(byte(o.LinkType))
	w.str(o.Rule)
	if x := o.Export; x == nil {
		w.byte(0)
	} else {
		w.byte(1)
		w.byte(byte(x.Kind))
		w.str(x.DN)
		w.attrs(x.Attrs)
		w.byte(byte(x.State))
		w.varint(int64(x.Attempts))
		w.str(x.LastError)
		w.time(x.Updated)
	}
	w.uvarint(o.Seen)
	w.time(o.Imported)
	w.str(o.Error)
	return w.buf
}

// DecodeObject decodes a record written by AppendObject.
func DecodeObject(b []byte) (*metaverse.CSObject, error) {
	r := reader{buf: b, what: "connector-space object"}
	r.header(kindObject)
	o := &metaverse.CSObject{}
	o.ID = r.str()
	o.Connector = r.str()
	o.Anchor = connector.Anchor(r.str())
	o.DN = r.str()
	o.Type = r.str()
	o.Attrs = r.attrs()
	o.Pending = metaverse.PendingImport(r.byte())
	o.Changed = r.strs()
	o.EntryID = r.str()
	o.LinkType = metaverse.LinkType(r.byte())
	o.Rule = r.str()
	switch r.byte() {
	case 0:
	case 1:
		x := &metaverse.Export{}
		x.Kind = connector.ChangeKind(r.byte())
		x.DN = r.str()
		x.Attrs = r.attrs()
		x.State = metaverse.ExportState(r.byte())
		x.Attempts = int(r.varint())
		x.LastError = r.str()
		x.Updated = r.time()
		o.Export = x
	default:
		r.fail("bad export flag")
	}
	o.Seen = r.uvarint()
	o.Imported = r.time()
	o.Error = r.str()
	if err := r.done(); err != nil {
		return nil, err
	}
	return o, nil
}

// AppendRun appends the encoding of a run record to buf.
func AppendRun(buf []byte, run *metaverse.RunRecord) []byte {
	w := writer{buf: buf}
	w.byte(kindRun)
	w.byte(Version)
	w.str(run.ID)
	w.str(run.Connector)
	w.str(run.Profile)
	w.time(run.Started)
	w.time(run.Ended)
	if run.Counts == nil {
		w.uvarint(0)
	} else {
		w.uvarint(uint64(len(run.Counts)) + 1)
		for k, v := range run.Counts {
			w.str(k)
			w.varint(int64(v))
		}
	}
	w.strs(run.Errors)
	w.str(run.Err)
	return w.buf
}

// DecodeRun decodes a record written by AppendRun.
func DecodeRun(b []byte) (*metaverse.RunRecord, error) {
	r := reader{buf: b, what: "run record"}
	r.header(kindRun)
	run := &metaverse.RunRecord{}
	run.ID = r.str()
	run.Connector = r.str()
	run.Profile = r.str()
	run.Started = r.time()
	run.Ended = r.time()
	if n, ok := r.count(2); ok {
		run.Counts = make(map[string]int, n)
		for i := 0; i < n && r.err == nil; i++ {
			k := r.str()
			run.Counts[k] = int(r.varint())
		}
	}
	run.Errors = r.strs()
	run.Err = r.str()
	if err := r.done(); err != nil {
		return nil, err
	}
	return run, nil
}

// AppendValue appends the encoding of one value: its type byte and content.
func AppendValue(buf []byte, v connector.Value) []byte {
	w := writer{buf: buf}
	w.value(v)
	return w.buf
}

// writer appends to buf; it cannot fail.
type writer struct{ buf []byte }

func (w *writer) byte(b byte) { w.buf = append(w.buf, b) }
func (w *writer) bool(b bool) {
	if b {
		w.buf = append(w.buf, 1)
	} else {
		w.buf = append(w.buf, 0)
	}
}
func (w *writer) uvarint(u uint64) { w.buf = binary.AppendUvarint(w.buf, u) }
func (w *writer) varint(i int64)   { w.buf = binary.AppendVarint(w.buf, i) }
func (w *writer) str(s string) {
	w.uvarint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}

func (w *writer) strs(ss []string) {
	if ss == nil {
		w.uvarint(0)
		return
	}
	w.uvarint(uint64(len(ss)) + 1)
	for _, s := range ss {
		w.str(s)
	}
}

func (w *writer) time(t time.Time) {
	if t.IsZero() {
		w.byte(0)
		return
	}
	w.byte(1)
	w.varint(t.Unix())
	w.uvarint(uint64(t.Nanosecond()))
}

func (w *writer) attrs(a connector.Attributes) {
	if a == nil {
		w.uvarint(0)
		return
	}
	w.uvarint(uint64(len(a)) + 1)
	for name, vs := range a {
		w.str(name)
		if vs == nil {
			w.uvarint(0)
			continue
		}
		w.uvarint(uint64(len(vs)) + 1)
		for _, v := range vs {
			w.value(v)
		}
	}
}

func (w *writer) value(v connector.Value) {
	t := v.Type()
	w.byte(byte(t))
	switch t {
	case connector.String:
		w.str(v.Str())
	case connector.Bytes:
		w.uvarint(uint64(len(v.Key())))
		w.buf = append(w.buf, v.Key()...) // Key is the octets, without the copy Octets makes
	case connector.Integer:
		w.varint(v.Int())
	case connector.Boolean:
		w.bool(v.Bool())
	case connector.Time:
		w.varint(v.Time().UnixNano())
	case connector.Reference:
		a, dn := v.Ref()
		w.str(string(a))
		w.str(dn)
	}
}

// reader decodes buf; the first error sticks and later reads return zero
// values, so decoders check r.err once at the end.
type reader struct {
	buf  []byte
	off  int
	err  error
	what string
}

func (r *reader) fail(msg string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at byte %d of %d: %s", ErrCorrupt, r.what, r.off, len(r.buf), msg)
	}
}

func (r *reader) header(kind byte) {
	if len(r.buf) < 2 {
		r.fail("too short")
		return
	}
	if r.buf[0] != kind {
		r.fail(fmt.Sprintf("record kind %q, want %q", r.buf[0], kind))
		return
	}
	if v := r.buf[1]; v != Version {
		r.err = fmt.Errorf("%w: %s record has format version %d; this build reads version %d", metaverse.ErrIncompatible, r.what, v, Version)
		return
	}
	r.off = 2
}

func (r *reader) done() error {
	if r.err == nil && r.off != len(r.buf) {
		r.fail(fmt.Sprintf("%d trailing bytes", len(r.buf)-r.off))
	}
	return r.err
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.buf) {
		r.fail("unexpected end")
		return 0
	}
	b := r.buf[r.off]
	r.off++
	return b
}

func (r *reader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail("bad boolean")
	return false
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	u, n := binary.Uvarint(r.buf[r.off:])
	if n <= 0 {
		r.fail("bad uvarint")
		return 0
	}
	r.off += n
	return u
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	i, n := binary.Varint(r.buf[r.off:])
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.off += n
	return i
}

func (r *reader) str() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.buf)-r.off) {
		r.fail("string length past the end")
		return ""
	}
	s := string(r.buf[r.off : r.off+int(n)])
	r.off += int(n)
	return s
}

// count reads a length+1 (0 = nil) of a collection whose elements take at
// least minSize bytes each, refusing counts the remaining input cannot hold
// (so that garbage cannot make the decoder allocate gigabytes).
func (r *reader) count(minSize int) (int, bool) {
	n := r.uvarint()
	if r.err != nil || n == 0 {
		return 0, false
	}
	n--
	if n > uint64(len(r.buf)-r.off)/uint64(minSize) {
		r.fail("element count past the end")
		return 0, false
	}
	return int(n), true
}

func (r *reader) strs() []string {
	n, ok := r.count(1)
	if !ok {
		return nil
	}
	ss := make([]string, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		ss = append(ss, r.str())
	}
	return ss
}

func (r *reader) time() time.Time {
	switch r.byte() {
	case 0:
		return time.Time{}
	case 1:
		sec := r.varint()
		nsec := r.uvarint()
		if nsec >= 1e9 {
			r.fail("bad nanoseconds")
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec)).UTC()
	}
	r.fail("bad time flag")
	return time.Time{}
}

func (r *reader) attrs() connector.Attributes {
	n, ok := r.count(2)
	if !ok {
		return nil
	}
	a := make(connector.Attributes, n)
	for i := 0; i < n && r.err == nil; i++ {
		name := r.str()
		m, ok := r.count(1)
		if !ok {
			a[name] = nil
			continue
		}
		vs := make([]connector.Value, 0, m)
		for j := 0; j < m && r.err == nil; j++ {
			vs = append(vs, r.value())
		}
		a[name] = vs
	}
	return a
}

func (r *reader) value() connector.Value {
	switch t := connector.AttrType(r.byte()); t {
	case 0:
		return connector.Value{}
	case connector.String:
		return connector.StringValue(r.str())
	case connector.Bytes:
		n := r.uvarint()
		if r.err != nil {
			return connector.Value{}
		}
		if n > uint64(len(r.buf)-r.off) {
			r.fail("bytes length past the end")
			return connector.Value{}
		}
		v := connector.BytesValue(r.buf[r.off : r.off+int(n)])
		r.off += int(n)
		return v
	case connector.Integer:
		return connector.IntValue(r.varint())
	case connector.Boolean:
		return connector.BoolValue(r.bool())
	case connector.Time:
		ns := r.varint()
		return connector.TimeValue(time.Unix(0, ns))
	case connector.Reference:
		a := r.str()
		return connector.RefValue(connector.Anchor(a), r.str())
	default:
		if r.err == nil {
			r.fail(fmt.Sprintf("bad value type %d", t))
		}
		return connector.Value{}
	}
}

// ObjectKeys is what a store indexes a connector-space object by.
type ObjectKeys struct {
	Anchor    connector.Anchor
	DN        string
	Pending   metaverse.PendingImport
	HasExport bool
}

// KeysOf returns the indexed fields of o.
func KeysOf(o *metaverse.CSObject) ObjectKeys {
	return ObjectKeys{Anchor: o.Anchor, DN: o.DN, Pending: o.Pending, HasExport: o.Export != nil}
}

// DecodeObjectKeys reads only the indexed fields of an encoded object,
// skipping its attributes without allocating them: a store replacing an
// object needs them to update its indexes.
func DecodeObjectKeys(b []byte) (ObjectKeys, error) {
	r := reader{buf: b, what: "connector-space object"}
	r.header(kindObject)
	var k ObjectKeys
	r.skipStr() // ID
	r.skipStr() // connector
	k.Anchor = connector.Anchor(r.str())
	k.DN = r.str()
	r.skipStr() // type
	r.skipAttrs()
	k.Pending = metaverse.PendingImport(r.byte())
	if n, ok := r.count(1); ok { // Changed
		for i := 0; i < n && r.err == nil; i++ {
			r.skipStr()
		}
	}
	r.skipStr() // EntryID
	r.byte()    // LinkType
	r.skipStr() // Rule
	switch r.byte() {
	case 0:
	case 1:
		k.HasExport = true
	default:
		r.fail("bad export flag")
	}
	return k, r.err
}

func (r *reader) skipStr() {
	n := r.uvarint()
	if r.err != nil {
		return
	}
	if n > uint64(len(r.buf)-r.off) {
		r.fail("string length past the end")
		return
	}
	r.off += int(n)
}

func (r *reader) skipAttrs() {
	n, ok := r.count(2)
	if !ok {
		return
	}
	for i := 0; i < n && r.err == nil; i++ {
		r.skipStr()
		m, ok := r.count(1)
		if !ok {
			continue
		}
		for j := 0; j < m && r.err == nil; j++ {
			switch t := connector.AttrType(r.byte()); t {
			case 0:
			case connector.String, connector.Bytes:
				r.skipStr()
			case connector.Integer, connector.Time:
				r.varint()
			case connector.Boolean:
				r.bool()
			case connector.Reference:
				r.skipStr()
				r.skipStr()
			default:
				if r.err == nil {
					r.fail(fmt.Sprintf("bad value type %d", t))
				}
			}
		}
	}
}
