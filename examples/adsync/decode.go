package main

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrConfig matches every error of a configuration file (errors.Is).
var ErrConfig = errors.New("adsync: invalid configuration")

// ConfigError is one error of a configuration file, with where it is: the
// file, the line and column of the offending value, and the field's path
// ("connectors.ad.ldap.password"). Its text never holds a secret's value:
// connector.Secret's own errors do not, and values are not quoted here.
type ConfigError struct {
	File   string
	Line   int
	Column int
	Field  string
	Err    error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

// Is reports whether target is ErrConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// decoder decodes a YAML node tree into Go values field by field, so that
// every error (an unknown key, a wrong type, a value its UnmarshalText
// refuses, such as a secret's unset environment variable) names its line and
// field. yaml.v3's Decoder.KnownFields reports unknown keys with a line but
// loses the line of a TextUnmarshaler's error, and names no field path.
type decoder struct {
	file  string
	errs  []error
	nodes map[string]*yaml.Node // field path → value node, for later validation errors
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func (d *decoder) errorf(n *yaml.Node, field string, format string, args ...any) {
	e := &ConfigError{File: d.file, Field: field, Err: fmt.Errorf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// fail records err about field, at the line of its value, or of the
// closest enclosing mapping in the file when the field is missing.
func (d *decoder) fail(field string, err error) {
	e := &ConfigError{File: d.file, Field: field, Err: err}
	for path := field; ; {
		if n := d.nodes[path]; n != nil {
			e.Line, e.Column = n.Line, n.Column
			break
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			break
		}
		path = path[:i]
	}
	d.errs = append(d.errs, e)
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// decode fills v (addressable) from n.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	d.nodes[path] = n
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		v.SetZero()
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(textUnmarshaler) || v.Kind() != reflect.Struct && v.Kind() != reflect.Pointer && v.Kind() != reflect.Slice && v.Kind() != reflect.Map {
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, path, "want a single value, not a %s", kindName(n.Kind))
			return
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.errorf(n, path, "%s", scalarError(err))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "want a list, not a %s", kindName(n.Kind))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), path+"["+strconv.Itoa(i)+"]")
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "want a mapping, not a %s", kindName(n.Kind))
			return
		}
		if v.Type().Key().Kind() != reflect.String {
			d.errorf(n, path, "unsupported map key type %s", v.Type().Key())
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key := reflect.New(v.Type().Key()).Elem()
			key.SetString(k.Value)
			if m.MapIndex(key).IsValid() {
				d.errorf(k, join(path, k.Value), "defined twice")
				continue
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, elem, join(path, k.Value))
			m.SetMapIndex(key, elem)
		}
		v.Set(m)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "want a mapping, not a %s", kindName(n.Kind))
			return
		}
		fields := map[string]reflect.Value{}
		collectFields(v, fields)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			name := k.Value
			f, ok := fields[name]
			switch {
			case !ok:
				d.errorf(k, join(path, name), "unknown field (known: %s)", strings.Join(sortedKeys(fields), ", "))
			case seen[name]:
				d.errorf(k, join(path, name), "defined twice")
			default:
				seen[name] = true
				d.decode(val, f, join(path, name))
			}
		}
	}
}

// collectFields maps the YAML names of v's fields to them, following
// ",inline" structs; fields tagged "-" (loggers, functions, pools) are left
// out, so a file cannot set them.
func collectFields(v reflect.Value, into map[string]reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if slices.Contains(strings.Split(opts, ","), "inline") {
			collectFields(v.Field(i), into)
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		into[name] = v.Field(i)
	}
}

func sortedKeys(m map[string]reflect.Value) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "single value"
	}
	return "document"
}

// scalarError strips yaml.v3's "yaml: unmarshal errors:\n  line N: "
// wrapping (the line is reported by ConfigError) and never quotes the value:
// the value may be a secret written in the wrong place.
func scalarError(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "line ") {
			msg = rest
		}
		// "cannot unmarshal !!str `abc` into int": drop the value.
		if i := strings.Index(msg, " `"); i >= 0 {
			if j := strings.Index(msg[i+2:], "` "); j >= 0 {
				msg = msg[:i] + msg[i+2+j+1:]
			}
		}
		return msg
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
