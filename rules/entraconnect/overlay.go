package entraconnect

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/rules"
)

// ErrInvalidOverride: a product's rule file cannot be layered over the
// defaults without guessing what it means.
var ErrInvalidOverride = errors.New("entraconnect: invalid override")

// OverrideError is one problem found by Overlay, at the position of the
// product's rule (or attribute).
type OverrideError struct {
	Pos  rules.Position
	Rule string // the product's rule, or "" for a metaverse attribute
	Msg  string
}

func (e *OverrideError) Error() string {
	s := e.Pos.String()
	if s != "" {
		s += ": "
	}
	if e.Rule != "" {
		s += fmt.Sprintf("rule %q: ", e.Rule)
	}
	return s + e.Msg
}

// Is reports whether target is ErrInvalidOverride.
func (e *OverrideError) Is(target error) bool { return target == ErrInvalidOverride }

// Overlay layers a product's rule file over base (usually Load's result)
// and returns a new File; base and over are not modified.
//
//   - A rule with the name of a base rule replaces it, in place: a clone
//     of a default rule with other flows, scope or precedence. It must keep
//     the base rule's direction, connector, source and target types. With
//     disabled: true it disables the base rule, which is kept otherwise
//     unchanged (the other fields of a disabling rule are ignored).
//   - Any other rule is added. Entra Connect keeps precedences below 100
//     for custom rules: such a rule wins over every default rule.
//   - Metaverse types and attributes are added to base's.
//
// Overlay refuses, rather than guesses: a rule name used twice in over; a
// replacement that changes the rule's direction, connector or types; a
// name that is a default rule of several forests without its
// " (connector)" suffix; an attribute redefined with another type; and
// an enabled rule whose precedence equals another enabled rule's for the
// same metaverse type (inbound) or connector and type (outbound), since
// which wins would then depend on the order of the files. Every problem
// is returned, joined, each an *OverrideError matching
// ErrInvalidOverride.
func Overlay(base, over *rules.File) (*rules.File, error) {
	if base == nil {
		base = &rules.File{}
	}
	if over == nil {
		over = &rules.File{}
	}
	out := &rules.File{Metaverse: cloneSchema(base.Metaverse), Rules: slices.Clone(base.Rules)}
	var errs []error
	fail := func(pos rules.Position, rule, format string, args ...any) {
		errs = append(errs, &OverrideError{Pos: pos, Rule: rule, Msg: fmt.Sprintf(format, args...)})
	}
	if over.Metaverse != nil {
		if out.Metaverse == nil {
			out.Metaverse = &connector.Schema{}
		}
		for _, t := range over.Metaverse.Types {
			bt, ok := out.Metaverse.Type(t.Name)
			if !ok {
				out.Metaverse.Types = append(out.Metaverse.Types, t)
				continue
			}
			for _, a := range t.Attributes {
				ba, ok := bt.Attr(a.Name)
				switch {
				case !ok:
					bt.Attributes = append(bt.Attributes, a)
				case ba.Type != a.Type || ba.Multi != a.Multi:
					fail(rules.Position{}, "", "metaverse attribute %s.%s is a %s in the defaults: it cannot be redefined", t.Name, a.Name, describe(*ba))
				}
			}
		}
	}

	index := map[string]int{}
	for i, r := range out.Rules {
		index[r.Name] = i
	}
	fromOver := map[string]bool{}
	for _, r := range over.Rules {
		if fromOver[r.Name] {
			fail(r.Pos, r.Name, "defined twice in the overlay")
			continue
		}
		fromOver[r.Name] = true
		i, ok := index[r.Name]
		if !ok {
			if forests := perForest(base.Rules, r.Name); len(forests) > 0 {
				fail(r.Pos, r.Name, "is a default rule of several forests: name one of %s", strings.Join(forests, ", "))
				continue
			}
			index[r.Name] = len(out.Rules)
			out.Rules = append(out.Rules, r)
			continue
		}
		b := out.Rules[i]
		if r.Direction != b.Direction || r.Connector != b.Connector || r.SourceType != b.SourceType || r.TargetType != b.TargetType {
			fail(r.Pos, r.Name, "replaces the default rule (%s %s %s → %s, %s) but is %s %s %s → %s: a replacement keeps the direction, connector and types; give the rule a new name to add one",
				b.Direction, b.Connector, b.SourceType, b.TargetType, b.Pos, r.Direction, r.Connector, r.SourceType, r.TargetType)
			continue
		}
		if r.Disabled {
			// Disabling: the default stays as it is, disabled, so that
			// a listing still shows what it was.
			b.Disabled = true
			r = b
		}
		out.Rules[i] = r
	}
	errs = append(errs, ties(out.Rules, fromOver)...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// perForest returns the quoted names of the per-forest copies of a rule
// named name.
func perForest(rs []rules.Rule, name string) []string {
	var out []string
	for _, r := range rs {
		if b, ok := baseName(r.Name, r.Connector); ok && b == name {
			out = append(out, fmt.Sprintf("%q", r.Name))
		}
	}
	return out
}

// ties reports enabled rules with the precedence of another enabled rule
// that contributes to the same attributes, when one of them is the
// overlay's.
func ties(rs []rules.Rule, fromOver map[string]bool) []error {
	type key struct {
		dir        rules.Direction
		conn, typ  string
		precedence int
	}
	keyOf := func(r rules.Rule) key {
		if r.Direction == rules.Inbound {
			return key{r.Direction, "", r.TargetType, r.Precedence}
		}
		return key{r.Direction, r.Connector, r.TargetType, r.Precedence}
	}
	first := map[key]rules.Rule{}
	var errs []error
	for _, r := range rs {
		if r.Disabled {
			continue
		}
		k := keyOf(r)
		o, dup := first[k]
		if !dup {
			first[k] = r
			continue
		}
		if fromOver[r.Name] || fromOver[o.Name] {
			errs = append(errs, &OverrideError{Pos: r.Pos, Rule: r.Name, Msg: fmt.Sprintf(
				"has precedence %d, like rule %q (%s): which one wins would depend on file order; give it another precedence",
				r.Precedence, o.Name, o.Pos)})
		}
	}
	return errs
}

func describe(a connector.Attribute) string {
	if a.Multi {
		return "multi-valued " + a.Type.String()
	}
	return a.Type.String()
}
