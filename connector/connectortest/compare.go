package connectortest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idbridge/idbridge/connector"
)

// state is a connector space in miniature: what a sequence of imported
// changes says the backend holds, by anchor.
type state struct {
	objs map[connector.Anchor]*connector.Object
	dns  map[string]connector.Anchor // folded DN → anchor
}

func newState() *state {
	return &state{objs: map[connector.Anchor]*connector.Object{}, dns: map[string]connector.Anchor{}}
}

// apply records one imported change, as the engine would stage it.
func (s *state) apply(c connector.Change) {
	switch c.Kind {
	case connector.Add:
		if old, ok := s.objs[c.Anchor]; ok {
			delete(s.dns, connector.FoldDN(old.DN))
		}
		o := c.Object()
		o.Attrs = c.Attrs.Clone()
		s.objs[c.Anchor] = &o
		s.dns[connector.FoldDN(o.DN)] = c.Anchor
	case connector.Update:
		o, ok := s.objs[c.Anchor]
		if !ok {
			// The engine makes an object of an Update of an unknown
			// anchor (a delta that cannot tell a new object from a
			// changed one, as Graph's): so does the suite.
			o = &connector.Object{Anchor: c.Anchor, DN: c.DN, Type: c.Type, Attrs: connector.Attributes{}}
			s.objs[c.Anchor] = o
			s.dns[connector.FoldDN(c.DN)] = c.Anchor
		}
		if c.DN != "" && connector.FoldDN(c.DN) != connector.FoldDN(o.DN) {
			delete(s.dns, connector.FoldDN(o.DN))
			o.DN = c.DN
			s.dns[connector.FoldDN(o.DN)] = c.Anchor
		}
		if o.Attrs == nil {
			o.Attrs = connector.Attributes{}
		}
		o.Attrs.Apply(c.Mods)
	case connector.Delete:
		if o, ok := s.objs[c.Anchor]; ok {
			delete(s.dns, connector.FoldDN(o.DN))
			delete(s.objs, c.Anchor)
		}
	}
}

// byDN returns the object with the given DN.
func (s *state) byDN(dn string) (*connector.Object, bool) {
	a, ok := s.dns[connector.FoldDN(dn)]
	if !ok {
		return nil, false
	}
	return s.objs[a], true
}

// find returns the object want designates: by anchor when it has one, else
// by DN.
func (s *state) find(want connector.Object) (*connector.Object, bool) {
	if want.Anchor != "" {
		o, ok := s.objs[want.Anchor]
		return o, ok
	}
	return s.byDN(want.DN)
}

// norm makes a value comparable across what was written and what was read:
// a reference becomes its target's anchor when the target is known, else
// its folded DN.
func (s *state) norm(v connector.Value) connector.Value {
	if v.Type() != connector.Reference {
		return v
	}
	a, dn := v.Ref()
	if a == "" && dn != "" {
		a = s.dns[connector.FoldDN(dn)]
	}
	if a != "" {
		return connector.RefValue(a, "")
	}
	return connector.RefValue("", connector.FoldDN(dn))
}

func (s *state) normAll(vs []connector.Value) []connector.Value {
	out := make([]connector.Value, len(vs))
	for i, v := range vs {
		out[i] = s.norm(v)
	}
	return out
}

// assertAttrs checks that got holds want's values for every attribute want
// lists.
func (s *state) assertAttrs(t *testing.T, want connector.Object, got *connector.Object) bool {
	t.Helper()
	ok := true
	for _, name := range want.Attrs.Names() {
		w, g := s.normAll(want.Attrs[name]), s.normAll(got.Attrs[name])
		if !connector.SameValues(w, g) {
			ok = assert.Fail(t, "attribute values differ",
				"%s %s: want %v, got %v", got.DN, name, want.Attrs[name], got.Attrs[name])
		}
	}
	return ok
}

// checkConforms reports how obj does not conform to schema.
func checkConforms(schema *connector.Schema, o connector.Object) []string {
	var probs []string
	if o.Anchor == "" {
		probs = append(probs, "empty anchor")
	}
	typ, ok := schema.Type(o.Type)
	if !ok {
		return append(probs, fmt.Sprintf("object type %q not in schema", o.Type))
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range o.Attrs {
			if !yield(k) {
				return
			}
		}
	}) {
		vs := o.Attrs[name]
		a, ok := typ.Attr(name)
		if !ok {
			probs = append(probs, fmt.Sprintf("attribute %q not in schema type %q", name, o.Type))
			continue
		}
		if !a.Multi && len(vs) > 1 {
			probs = append(probs, fmt.Sprintf("single-valued attribute %q has %d values", name, len(vs)))
		}
		for _, v := range vs {
			if v.Type() != a.Type {
				probs = append(probs, fmt.Sprintf("attribute %q: value %v is %s, schema says %s", name, v, v.Type(), a.Type))
				break
			}
		}
	}
	return probs
}

// splitRDN splits a DN after its first RDN, at the first unescaped comma:
// "CN=Doe\, J,OU=X" → "CN=Doe\, J", ",OU=X".
func splitRDN(dn string) (rdn, rest string) {
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',':
			return dn[:i], dn[i:]
		}
	}
	return dn, ""
}

// rdnAttr returns the naming attribute of dn ("CN" for "CN=Ada,OU=X").
func rdnAttr(dn string) string {
	rdn, _ := splitRDN(dn)
	k, _, _ := strings.Cut(rdn, "=")
	return strings.TrimSpace(k)
}

// renamed returns dn with suffix appended to its first RDN's value.
func renamed(dn, suffix string) string {
	rdn, rest := splitRDN(dn)
	return rdn + suffix + rest
}

// sibling returns a DN next to dn whose first RDN has the given value.
func sibling(dn, value string) string {
	_, rest := splitRDN(dn)
	attr := rdnAttr(dn)
	if attr == "" {
		attr = "cn"
	}
	return attr + "=" + value + rest
}
