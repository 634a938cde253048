package ldif

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/idbridge/idbridge/connector"
)

// ParseError is a malformed record. The Reader has skipped it (up to the
// next blank line) and goes on with the next record. It matches
// connector.ErrInvalidObject with errors.Is.
type ParseError struct {
	Line    int    // line of the record's first line
	DN      string // the record's DN, when it was read
	ErrLine int    // line of the offending line
	Err     error
}

func (e *ParseError) Error() string {
	return "ldif: line " + strconv.Itoa(e.ErrLine) + ": " + e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }

// Is makes every ParseError match connector.ErrInvalidObject.
func (e *ParseError) Is(target error) bool { return target == connector.ErrInvalidObject }

// ErrURLValue is the cause of a ParseError for an "attr:< URL" value: the
// Reader does not fetch URLs (a file:// value would read a local file
// named by the input).
var ErrURLValue = errors.New("URL values (attr:< url) are not supported")

// Reader reads LDIF records (RFC 2849) from a stream, one at a time:
// memory is bounded by the largest record, not by the input. It accepts
// content and change records, an optional "version: 1" line, comments
// (folded or not), folded lines, CRLF line ends and base64 values and DNs.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	br     *bufio.Reader
	lineNo int   // physical lines consumed
	err    error // sticky: io.EOF or a read error
	first  bool  // before the first record: a version line may come

	buf    []byte // the current record's logical lines, unfolded
	lines  []span
	parsed []line // the current record's lines, split
	whole  string // buf as a string, whose substrings are the plain values
	long   []byte // a physical line longer than br's buffer

	names map[string]string // interned attribute names
	prev  []string          // the previous record's attribute names, by position
}

type span struct{ start, end, line int }

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &Reader{br: br, first: true, names: map[string]string{}}
}

// Next returns the next record. At the end of the input it returns io.EOF.
// A malformed record gives a *ParseError, after which Next may be called
// again for the next record; any other error (from the underlying reader)
// ends the reading and is returned again by later calls.
func (r *Reader) Next() (*Record, error) {
	return r.next(nil)
}

// next is Next reusing reuse (its Attrs array) when not nil: the Import
// path, which converts each record before reading the next.
func (r *Reader) next(reuse *Record) (*Record, error) {
	for {
		if r.err != nil {
			return nil, r.err
		}
		if err := r.readRecordLines(); err != nil {
			r.err = err
			if err != io.EOF || len(r.lines) == 0 {
				return nil, err
			}
		}
		lines := r.lines
		if r.first {
			r.first = false
			if l := lines[0]; hasFoldPrefix(r.buf[l.start:l.end], "version:") {
				v := bytes.TrimSpace(r.buf[l.start+len("version:") : l.end])
				if string(v) != "1" {
					return nil, &ParseError{Line: l.line, ErrLine: l.line, Err: fmt.Errorf("unsupported LDIF version %q", v)}
				}
				lines = lines[1:]
				if len(lines) == 0 {
					continue
				}
			}
		}
		return r.parse(lines, reuse)
	}
}

// readRecordLines reads the logical lines of the next record into r.lines:
// up to a blank line or the end of the input, skipping comments and
// unfolding continuation lines. It returns io.EOF at the end of the input
// (r.lines may then hold a last record).
func (r *Reader) readRecordLines() error {
	r.buf, r.lines = r.buf[:0], r.lines[:0]
	for {
		line, err := r.readPhysical()
		if err != nil {
			return err
		}
		switch {
		case len(line) == 0 || (len(r.lines) == 0 && len(bytes.TrimLeft(line, " ")) == 0):
			if len(r.lines) > 0 {
				return nil
			}
			continue
		case line[0] == '#':
			if err := r.skipContinuations(); err != nil {
				return err
			}
			continue
		}
		l := span{start: len(r.buf), line: r.lineNo}
		r.buf = append(r.buf, line...)
		for r.continues() {
			cont, err := r.readPhysical()
			if err != nil {
				return err
			}
			r.buf = append(r.buf, cont[1:]...)
		}
		l.end = len(r.buf)
		r.lines = append(r.lines, l)
	}
}

// readPhysical returns the next line without its line end. The slice is
// valid until the next read.
func (r *Reader) readPhysical() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.long = append(r.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = r.br.ReadSlice('\n')
			r.long = append(r.long, line...)
		}
		line = r.long
	}
	if err != nil && (err != io.EOF || len(line) == 0) {
		return nil, err
	}
	r.lineNo++
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// continues reports whether the next physical line continues the current
// one (it starts with a space).
func (r *Reader) continues() bool {
	b, err := r.br.Peek(1)
	return err == nil && b[0] == ' '
}

func (r *Reader) skipContinuations() error {
	for r.continues() {
		if _, err := r.readPhysical(); err != nil {
			return err
		}
	}
	return nil
}

// line is one parsed logical line: "name: value", "name:: base64" or
// "name:< url".
type line struct {
	no      int
	name    []byte
	value   []byte // decoded
	decoded bool   // value was base64: it is not in Reader.buf
}

func (r *Reader) split(l span) (line, error) {
	b := r.buf[l.start:l.end]
	i := bytes.IndexByte(b, ':')
	if i <= 0 {
		if len(b) == 1 && b[0] == '-' {
			return line{no: l.line, name: b}, nil
		}
		return line{no: l.line}, fmt.Errorf("expected \"name: value\", got %q", truncate(b))
	}
	out := line{no: l.line, name: b[:i]}
	if !validName(out.name) {
		return out, fmt.Errorf("invalid attribute description %q", truncate(out.name))
	}
	v := b[i+1:]
	switch {
	case len(v) > 0 && v[0] == ':':
		v = bytes.Trim(v[1:], " ")
		dec := make([]byte, base64.StdEncoding.DecodedLen(len(v)))
		n, err := base64.StdEncoding.Decode(dec, v)
		if err != nil {
			return out, fmt.Errorf("%s: invalid base64 value: %w", out.name, err)
		}
		out.value, out.decoded = dec[:n], true
	case len(v) > 0 && v[0] == '<':
		return out, fmt.Errorf("%s: %w", out.name, ErrURLValue)
	default:
		out.value = bytes.TrimLeft(v, " ")
	}
	return out, nil
}

// validName reports whether b is an attribute description (or a keyword):
// letters, digits, '-', '.', ';' options.
func validName(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ';' || c == '_') {
			return false
		}
	}
	return len(b) > 0 && b[0] != ';'
}

func (r *Reader) intern(b []byte) string {
	if s, ok := r.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(r.names) < 4096 {
		r.names[s] = s
	}
	return s
}

// parse turns a record's logical lines into a Record.
func (r *Reader) parse(lines []span, reuse *Record) (*Record, error) {
	rec := reuse
	if rec == nil {
		rec = &Record{}
	} else {
		*rec = Record{Attrs: rec.Attrs[:0]}
	}
	rec.Line = lines[0].line
	fail := func(no int, err error) (*Record, error) {
		return nil, &ParseError{Line: rec.Line, DN: rec.DN, ErrLine: no, Err: err}
	}
	first, err := r.split(lines[0])
	if err != nil {
		return fail(first.no, err)
	}
	if !equalFold(first.name, "dn") {
		return fail(first.no, fmt.Errorf("record does not start with a dn line (found %q)", truncate(first.name)))
	}
	if !utf8.Valid(first.value) {
		return fail(first.no, errors.New("DN is not valid UTF-8"))
	}
	if len(first.value) == 0 {
		// The root DSE: not an entry anything syncs.
		return fail(first.no, errors.New("empty DN"))
	}
	// One string for all the plain values of the record: values are its
	// substrings, not one allocation each.
	r.whole = string(r.buf)
	rec.DN = r.str(first)
	ls := r.parsed[:0]
	for _, l := range lines[1:] {
		p, err := r.split(l)
		if err != nil {
			return fail(p.no, err)
		}
		ls = append(ls, p)
	}
	r.parsed = ls
	for len(ls) > 0 && equalFold(ls[0].name, "control") {
		rec.Controls = append(rec.Controls, r.str(ls[0]))
		ls = ls[1:]
	}
	if len(ls) > 0 && equalFold(ls[0].name, "changetype") {
		ct := string(ls[0].value)
		switch ct {
		case ChangeAdd, ChangeDelete, ChangeModify, ChangeModRDN:
		case "moddn":
			ct = ChangeModRDN
		default:
			return fail(ls[0].no, fmt.Errorf("unknown changetype %q", truncate(ls[0].value)))
		}
		rec.ChangeType = ct
		ls = ls[1:]
	}
	switch rec.ChangeType {
	case "", ChangeAdd:
		if len(ls) == 0 && rec.ChangeType == ChangeAdd {
			return fail(rec.Line, errors.New("add record without attributes"))
		}
		if len(ls) > 0 && rec.Attrs == nil {
			rec.Attrs = make([]Attr, 0, len(ls))
		}
		for _, l := range ls {
			if equalFold(l.name, "dn") || equalFold(l.name, "changetype") || string(l.name) == "-" {
				return fail(l.no, fmt.Errorf("unexpected %q line in an entry", l.name))
			}
			// Records of one kind list the same attributes in the same
			// order: try the previous record's name at this position
			// before the map.
			var name string
			if i := len(rec.Attrs); i < len(r.prev) && string(l.name) == r.prev[i] {
				name = r.prev[i]
			} else {
				name = r.intern(l.name)
			}
			rec.Attrs = append(rec.Attrs, Attr{Name: name, Value: r.str(l), Line: l.no})
		}
		r.prev = r.prev[:0]
		for _, a := range rec.Attrs {
			r.prev = append(r.prev, a.Name)
		}
	case ChangeDelete:
		if len(ls) > 0 {
			return fail(ls[0].no, errors.New("delete record with more lines"))
		}
	case ChangeModRDN:
		return r.parseModRDN(rec, ls, fail)
	case ChangeModify:
		return r.parseModify(rec, ls, fail)
	}
	return rec, nil
}

func (r *Reader) parseModRDN(rec *Record, ls []line, fail func(int, error) (*Record, error)) (*Record, error) {
	if len(ls) < 2 || !equalFold(ls[0].name, "newrdn") || !equalFold(ls[1].name, "deleteoldrdn") {
		return fail(rec.Line, errors.New("modrdn record needs newrdn and deleteoldrdn lines"))
	}
	if len(ls[0].value) == 0 || !utf8.Valid(ls[0].value) {
		return fail(ls[0].no, errors.New("invalid newrdn"))
	}
	rec.NewRDN = r.str(ls[0])
	switch string(ls[1].value) {
	case "0":
	case "1":
		rec.DeleteOldRDN = true
	default:
		return fail(ls[1].no, fmt.Errorf("deleteoldrdn must be 0 or 1, got %q", truncate(ls[1].value)))
	}
	ls = ls[2:]
	if len(ls) > 0 && equalFold(ls[0].name, "newsuperior") {
		if !utf8.Valid(ls[0].value) {
			return fail(ls[0].no, errors.New("newsuperior is not valid UTF-8"))
		}
		rec.NewSuperior = r.str(ls[0])
		ls = ls[1:]
	}
	if len(ls) > 0 {
		return fail(ls[0].no, fmt.Errorf("unexpected %q line in a modrdn record", truncate(ls[0].name)))
	}
	return rec, nil
}

func (r *Reader) parseModify(rec *Record, ls []line, fail func(int, error) (*Record, error)) (*Record, error) {
	for len(ls) > 0 {
		op := ls[0]
		var m Mod
		switch {
		case equalFold(op.name, ModAdd):
			m.Op = ModAdd
		case equalFold(op.name, ModDelete):
			m.Op = ModDelete
		case equalFold(op.name, ModReplace):
			m.Op = ModReplace
		default:
			return fail(op.no, fmt.Errorf("expected add:, delete: or replace:, got %q", truncate(op.name)))
		}
		if !validName(op.value) {
			return fail(op.no, fmt.Errorf("invalid attribute description %q", truncate(op.value)))
		}
		m.Name = r.intern(op.value)
		ls = ls[1:]
		for len(ls) > 0 && string(ls[0].name) != "-" {
			if !bytes.EqualFold(ls[0].name, op.value) {
				return fail(ls[0].no, fmt.Errorf("value of %q in a modification of %q (missing \"-\"?)", truncate(ls[0].name), m.Name))
			}
			m.Values = append(m.Values, r.str(ls[0]))
			ls = ls[1:]
		}
		if len(ls) > 0 {
			ls = ls[1:] // the "-" separator
		}
		if m.Op == ModAdd && len(m.Values) == 0 {
			return fail(op.no, fmt.Errorf("add: %s without values", m.Name))
		}
		rec.Mods = append(rec.Mods, m)
	}
	return rec, nil
}

// str returns l's value as a string: a substring of r.whole for a plain
// value (whose bytes lie in r.buf), a copy for a decoded one.
func (r *Reader) str(l line) string {
	if l.decoded || len(l.value) == 0 {
		return string(l.value)
	}
	off := cap(r.buf) - cap(l.value)
	return r.whole[off : off+len(l.value)]
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		d := s[i]
		if d >= 'A' && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

func hasFoldPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && equalFold(b[:len(prefix)], prefix)
}

// truncate shortens what an error quotes from the input.
func truncate(b []byte) string {
	const max = 40
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
