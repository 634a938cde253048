package graphsync

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"

	"github.com/idbridge/idbridge/connector"
)

// Exactly-once creates. Graph names the objects it creates (users/{id}),
// so a create whose response is lost cannot be recognised by a name the
// connector chose: sending it again would make a second group, or collide
// with the first user and quarantine its userPrincipalName. A create
// whose outcome is unknown is therefore looked up, by the source anchor
// it carries, before it is sent again; and a uniqueness conflict with an
// object that carries the create's own source anchor is that object, never
// a duplicate.

// MatchAttributes implements connector.AddMatcher: a user is recognised by
// onPremisesImmutableId, a group by the directory extension
// Config.GroupAnchor; devices are never created.
func (c *Connector) MatchAttributes(typ string) []string {
	switch {
	case typ == TypeUser:
		return []string{"onPremisesImmutableId"}
	case typ == TypeGroup && c.cfg.GroupAnchor != "":
		return []string{c.cfg.GroupAnchor}
	}
	return nil
}

var _ connector.AddMatcher = (*Connector)(nil)

// ambiguous reports whether a failed request may have been applied: a
// server error (Graph's gateway answers 502/503/504 also when the directory
// committed the write behind it), a connection reset, a timeout, a
// truncated or incomplete response. A throttled request (429) and one
// that was not run because the one before it failed (424) were not
// applied.
func ambiguous(r response) bool {
	if r.err != nil {
		var e *Error
		if errors.As(r.err, &e) {
			return e.Status >= 500
		}
		return errors.Is(r.err, connector.ErrUnavailable)
	}
	return r.status >= 500
}

// recoverable makes o, a create, recoverable after an ambiguous failure:
// the object is looked up first; found, the create is taken as applied
// (its handler gets the found id as a 201 would give it); not found, the
// create is sent again. find names the lookup: a filter that identifies
// the object by its anchor or, for an object without one, candidates
// compared with the create's body.
func (c *Connector) recoverable(t *task, o *op, coll string, b map[string]any) {
	o.recover = func() []*op {
		filter, exact := c.createdFilter(t.ch.Type, b)
		if filter == "" {
			return []*op{o}
		}
		sel := []string{"id"}
		if !exact {
			sel = bodyProps(b)
		}
		path := "/" + coll + "?$select=" + strings.Join(sel, ",") + "&$filter=" + url.QueryEscape(filter)
		return []*op{t.op(http.MethodGet, path, nil, func(_ int, rb map[string]any) []*op {
			vs, _ := rb["value"].([]any)
			for _, v := range vs {
				m, _ := v.(map[string]any)
				id, _ := m["id"].(string)
				if id == "" || !exact && !sameValues(b, m) {
					continue
				}
				t.warn("the create whose response was lost had been applied: %s/%s is this object", coll, id)
				return o.then(http.StatusCreated, map[string]any{"id": id})
			}
			return []*op{o}
		})}
	}
}

// createdFilter is the $filter that finds what a create of typ with body
// b made: by its source anchor (exact: whatever carries it is ours), else
// by userPrincipalName (users) or mailNickname (groups), whose matches
// are ours only when they hold the values sent.
func (c *Connector) createdFilter(typ string, b map[string]any) (filter string, exact bool) {
	eq := func(prop string) string {
		v, _ := b[prop].(string)
		if v == "" {
			return ""
		}
		return prop + " eq '" + odataString(v) + "'"
	}
	switch typ {
	case TypeUser:
		if f := eq("onPremisesImmutableId"); f != "" {
			return f, true
		}
		return eq("userPrincipalName"), false
	case TypeGroup:
		if c.cfg.GroupAnchor != "" {
			if f := eq(c.cfg.GroupAnchor); f != "" {
				return f, true
			}
		}
		return eq("mailNickname"), false
	}
	return "", false
}

// bodyProps are the properties of a create's body a lookup selects to
// compare (the password and the bindings are not readable back).
func bodyProps(b map[string]any) []string {
	sel := []string{"id"}
	for k := range b {
		if k != "passwordProfile" && !strings.Contains(k, "@") {
			sel = append(sel, k)
		}
	}
	sort.Strings(sel[1:])
	return sel
}

// sameValues reports whether the object m holds every value of the body b
// (strings compared case-insensitively, as Graph does for names).
func sameValues(b, m map[string]any) bool {
	for _, k := range bodyProps(b)[1:] {
		want, got := b[k], plain(m[k])
		ws, wok := want.(string)
		gs, gok := got.(string)
		if wok && gok {
			if !strings.EqualFold(ws, gs) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(normalJSON(want), normalJSON(got)) {
			return false
		}
	}
	return true
}

// normalJSON gives a body value and a parsed response value one shape:
// []string and []any of strings compare equal.
func normalJSON(v any) any {
	switch x := v.(type) {
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case nil:
		return nil
	}
	return v
}

// ownAnchorHolder handles a user create that collided on a unique
// property while it carries a source anchor: when the object in the way
// carries that same anchor, it is this object, created by an earlier
// attempt whose outcome was not recorded (a lost response, a crash before
// the engine stored the result). It is taken over: no quarantine, no
// duplicate attribute resiliency for it. Otherwise other handles the
// conflict.
func (c *Connector) ownAnchorHolder(t *task, b map[string]any, other func() []*op) []*op {
	imm, _ := b["onPremisesImmutableId"].(string)
	if imm == "" {
		return other()
	}
	return []*op{c.findUser(t, "onPremisesImmutableId eq '"+odataString(imm)+"'", func(u map[string]any) []*op {
		if u == nil {
			return other()
		}
		id, _ := u["id"].(string)
		t.warn("the cloud user %s already carries this object's onPremisesImmutableId (an earlier create whose result was not recorded): taken as this object", id)
		return c.takeOver(t, id, b)
	})}
}

// errGroupAnchor is why a group is not created without its anchor.
var errGroupAnchor = errors.New("a group is created only with its source anchor (Config.GroupAnchor): without it, a create whose response is lost cannot be recognised and would be made twice")

func groupAnchorError(c *Connector) error {
	if c.cfg.GroupAnchor == "" {
		return fmt.Errorf("%w; this connector has none (Config.NoGroupCreates): %w", errGroupAnchor, connector.ErrUnsupported)
	}
	return fmt.Errorf("%w; the change has no value of %s: %w", errGroupAnchor, c.cfg.GroupAnchor, connector.ErrInvalidObject)
}
