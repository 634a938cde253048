package ldif

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// lineWidth is where the Writer folds lines, as RFC 2849 suggests.
const lineWidth = 76

// Writer writes LDIF records (RFC 2849). Each record is written with one
// Write call and followed by a blank line, so records appended to a file by
// different Writers stay separated. Values and DNs that are not safe
// strings (non-ASCII, control characters, a leading space, ':' or '<', a
// trailing space) are written in base64; lines are folded at 76 columns.
//
// A Writer is not safe for concurrent use.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// WriteVersion writes the "version: 1" line that may start an LDIF file.
func (w *Writer) WriteVersion() error {
	_, err := io.WriteString(w.w, "version: 1\n\n")
	return err
}

// WriteComment writes a comment block of one "# " line per line of text,
// followed by a blank line.
func (w *Writer) WriteComment(text string) error {
	w.buf = w.buf[:0]
	w.comment(text)
	w.buf = append(w.buf, '\n')
	_, err := w.w.Write(w.buf)
	return err
}

func (w *Writer) comment(text string) {
	for l := range strings.SplitSeq(text, "\n") {
		w.buf = append(w.buf, "# "...)
		w.buf = append(w.buf, strings.TrimRight(l, "\r")...)
		w.buf = append(w.buf, '\n')
	}
}

// Write writes rec: a content record when rec.ChangeType is empty, else a
// change record. It refuses (without writing anything) a record without DN,
// with an invalid attribute name or an unknown change type or modification.
func (w *Writer) Write(rec *Record) error {
	w.buf = w.buf[:0]
	if err := w.record(rec); err != nil {
		return err
	}
	w.buf = append(w.buf, '\n')
	_, err := w.w.Write(w.buf)
	return err
}

func (w *Writer) record(rec *Record) error {
	if rec.DN == "" {
		return errors.New("ldif: record without DN")
	}
	w.line("dn", rec.DN)
	for _, c := range rec.Controls {
		w.line("control", c)
	}
	if rec.ChangeType != "" {
		w.line("changetype", rec.ChangeType)
	}
	switch rec.ChangeType {
	case "", ChangeAdd:
		for _, a := range rec.Attrs {
			if !validName([]byte(a.Name)) {
				return fmt.Errorf("ldif: %s: invalid attribute description %q", rec.DN, a.Name)
			}
			w.line(a.Name, a.Value)
		}
	case ChangeDelete:
	case ChangeModRDN:
		if rec.NewRDN == "" {
			return fmt.Errorf("ldif: %s: modrdn without newrdn", rec.DN)
		}
		w.line("newrdn", rec.NewRDN)
		if rec.DeleteOldRDN {
			w.line("deleteoldrdn", "1")
		} else {
			w.line("deleteoldrdn", "0")
		}
		if rec.NewSuperior != "" {
			w.line("newsuperior", rec.NewSuperior)
		}
	case ChangeModify:
		for _, m := range rec.Mods {
			switch m.Op {
			case ModAdd, ModDelete, ModReplace:
			default:
				return fmt.Errorf("ldif: %s: unknown modification %q", rec.DN, m.Op)
			}
			if !validName([]byte(m.Name)) {
				return fmt.Errorf("ldif: %s: invalid attribute description %q", rec.DN, m.Name)
			}
			w.line(m.Op, m.Name)
			for _, v := range m.Values {
				w.line(m.Name, v)
			}
			w.buf = append(w.buf, "-\n"...)
		}
	default:
		return fmt.Errorf("ldif: %s: unknown changetype %q", rec.DN, rec.ChangeType)
	}
	return nil
}

// line appends "name: value" (or "name:: base64"), folded.
func (w *Writer) line(name, value string) {
	start := len(w.buf)
	w.buf = append(w.buf, name...)
	if safe(value) {
		w.buf = append(w.buf, ": "...)
		w.buf = append(w.buf, value...)
	} else {
		w.buf = append(w.buf, ":: "...)
		w.buf = base64.StdEncoding.AppendEncode(w.buf, []byte(value))
	}
	w.fold(start)
	w.buf = append(w.buf, '\n')
}

// fold breaks the line starting at start into lines of lineWidth columns,
// continuation lines starting with a space.
func (w *Writer) fold(start int) {
	if len(w.buf)-start <= lineWidth {
		return
	}
	line := append([]byte(nil), w.buf[start:]...)
	w.buf = append(w.buf[:start], line[:lineWidth]...)
	for rest := line[lineWidth:]; len(rest) > 0; {
		k := min(len(rest), lineWidth-1)
		w.buf = append(w.buf, '\n', ' ')
		w.buf = append(w.buf, rest[:k]...)
		rest = rest[k:]
	}
}

// safe reports whether s can be written as is: an RFC 2849 SAFE-STRING
// that does not end with a space.
func safe(s string) bool {
	if s == "" {
		return true
	}
	switch s[0] {
	case ' ', ':', '<':
		return false
	}
	if s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 || c == '\n' || c == '\r' || c >= 0x80 {
			return false
		}
	}
	return true
}
