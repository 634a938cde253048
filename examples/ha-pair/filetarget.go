package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/idbridge/idbridge/connector"
)

// fileTarget is the connected system of the example: a directory with one
// JSON file per object, which both processes see. It names new objects
// itself (a random anchor), as Entra ID does. String attributes only.
type fileTarget struct {
	dir    string
	schema *connector.Schema
}

var (
	_ connector.Connector  = (*fileTarget)(nil)
	_ connector.AddMatcher = (*fileTarget)(nil)
)

type fileObject struct {
	DN    string              `json:"dn"`
	Type  string              `json:"type"`
	Attrs map[string][]string `json:"attrs"`
}

func (f *fileTarget) Schema(context.Context) (*connector.Schema, error) { return f.schema, nil }
func (f *fileTarget) Close() error                                      { return nil }

// MatchAttributes implements connector.AddMatcher: an object this engine
// created is recognised by its mail after a crash between the write and
// its record.
func (f *fileTarget) MatchAttributes(string) []string { return []string{"mail"} }

func (f *fileTarget) path(a connector.Anchor) string { return filepath.Join(f.dir, string(a)+".json") }

func (f *fileTarget) Import(ctx context.Context, sink connector.ImportSink) error {
	names, err := filepath.Glob(filepath.Join(f.dir, "*.json"))
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		data, err := os.ReadFile(name)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted since the listing
		}
		if err != nil {
			return fmt.Errorf("file target: %w: %w", connector.ErrUnavailable, err)
		}
		var o fileObject
		if err := json.Unmarshal(data, &o); err != nil {
			// A file that cannot be read is reported, never taken for a delete.
			if err := sink.Error(ctx, &connector.ObjectError{DN: name, Op: "import", Err: err}); err != nil {
				return err
			}
			continue
		}
		attrs := connector.Attributes{}
		for k, vs := range o.Attrs {
			for _, v := range vs {
				attrs[k] = append(attrs[k], connector.StringValue(v))
			}
		}
		anchor := connector.Anchor(strings.TrimSuffix(filepath.Base(name), ".json"))
		if err := sink.Object(ctx, connector.Change{Kind: connector.Add, Anchor: anchor, Type: o.Type, DN: o.DN, Attrs: attrs}); err != nil {
			return err
		}
	}
	return sink.Checkpoint(ctx, nil)
}

func (f *fileTarget) read(a connector.Anchor) (*fileObject, error) {
	data, err := os.ReadFile(f.path(a))
	if errors.Is(err, os.ErrNotExist) {
		return nil, connector.ErrNoSuchObject
	}
	if err != nil {
		return nil, err
	}
	var o fileObject
	return &o, json.Unmarshal(data, &o)
}

func (f *fileTarget) write(a connector.Anchor, o *fileObject) error {
	data, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		return err
	}
	tmp := f.path(a) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, f.path(a))
}

func (f *fileTarget) Export(ctx context.Context, changes []connector.Change) ([]connector.ExportResult, error) {
	out := make([]connector.ExportResult, len(changes))
	for i, ch := range changes {
		if err := ctx.Err(); err != nil {
			return nil, err // the rest is not sent: the engine leaves it pending
		}
		var err error
		switch ch.Kind {
		case connector.Add:
			r := make([]byte, 8)
			rand.Read(r)
			a := connector.Anchor(hex.EncodeToString(r))
			o := &fileObject{DN: ch.DN, Type: ch.Type, Attrs: map[string][]string{}}
			for k, vs := range ch.Attrs {
				for _, v := range vs {
					o.Attrs[k] = append(o.Attrs[k], v.Str())
				}
			}
			err = f.write(a, o)
			out[i].Anchor = a
		case connector.Update:
			var o *fileObject
			if o, err = f.read(ch.Anchor); err == nil {
				for _, m := range ch.Mods {
					var vs []string
					for _, v := range m.Values {
						vs = append(vs, v.Str())
					}
					switch m.Op {
					case connector.ModReplace:
						o.Attrs[m.Name] = vs
					case connector.ModAdd:
						o.Attrs[m.Name] = append(o.Attrs[m.Name], vs...)
					case connector.ModRemove:
						if len(vs) == 0 {
							delete(o.Attrs, m.Name)
						} else {
							o.Attrs[m.Name] = slices.DeleteFunc(o.Attrs[m.Name], func(s string) bool { return slices.Contains(vs, s) })
						}
					}
				}
				if ch.DN != "" {
					o.DN = ch.DN
				}
				err = f.write(ch.Anchor, o)
			}
		case connector.Delete:
			err = os.Remove(f.path(ch.Anchor))
			if errors.Is(err, os.ErrNotExist) {
				err = connector.ErrNoSuchObject
			}
		}
		out[i].Anchor = cmpOr(out[i].Anchor, ch.Anchor)
		if err != nil {
			out[i].Err = &connector.ObjectError{Anchor: ch.Anchor, DN: ch.DN, Op: ch.Kind.String(), Err: err}
		}
	}
	return out, nil
}

func cmpOr(a, b connector.Anchor) connector.Anchor {
	if a != "" {
		return a
	}
	return b
}
