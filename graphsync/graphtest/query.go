package graphtest

import (
	"fmt"
	"strconv"
	"strings"
)

// parseSelect validates a $select list against the schema of k.
// Unknown names are refused as Graph does
// (https://learn.microsoft.com/graph/query-parameters#select-parameter).
// allowMembers admits "members" (group delta only).
func parseSelect(sc *schema, raw string, allowMembers bool) ([]string, *graphError) {
	if raw == "" {
		return nil, nil
	}
	var out []string
	for _, name := range strings.Split(raw, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if name == "members" && allowMembers {
			out = append(out, name)
			continue
		}
		if name == "passwordProfile" {
			out = append(out, name) // selectable, always null
			continue
		}
		if _, ok := sc.lookup(name); !ok {
			return nil, badRequest("Could not find a property named '%s' on type '%s'.", name, sc.kind.typeName())
		}
		out = append(out, name)
	}
	return out, nil
}

// filter is a parsed $filter expression. Supported grammar
// (https://learn.microsoft.com/graph/filter-query-parameter):
//
//	expr    = and {"or" and}
//	and     = unary {"and" unary}
//	unary   = "not" unary | "(" expr ")" | func | cmp | any
//	func    = ("startsWith"|"endsWith") "(" operand "," literal ")"
//	cmp     = operand ("eq"|"ne"|"ge"|"le"|"gt"|"lt") literal | operand "in" "(" literal {"," literal} ")"
//	any     = prop "/any(" var ":" expr ")"
type filter struct {
	op       string // and, or, not, eq, ne, ge, le, gt, lt, in, startsWith, endsWith, any
	prop     string // property or lambda variable
	lit      any
	lits     []any
	args     []*filter
	lambdaOn string // for any: the variable name
}

type tokenizer struct {
	toks []string
	pos  int
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',' || c == ':' || c == '/':
			toks = append(toks, string(c))
			i++
		case c == '\'':
			var b strings.Builder
			b.WriteByte('\'')
			j := i + 1
			for ; ; j++ {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated string literal")
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j++
						continue
					}
					break
				}
				b.WriteByte(s[j])
			}
			toks = append(toks, b.String())
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t(),:/'", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

func (t *tokenizer) peek() string {
	if t.pos < len(t.toks) {
		return t.toks[t.pos]
	}
	return ""
}

func (t *tokenizer) next() string {
	s := t.peek()
	t.pos++
	return s
}

func (t *tokenizer) expect(s string) error {
	if got := t.next(); got != s {
		return fmt.Errorf("expected %q, found %q", s, got)
	}
	return nil
}

func parseFilter(sc *schema, raw string) (*filter, *graphError) {
	toks, err := tokenize(raw)
	if err != nil {
		return nil, badRequest("Invalid filter clause: %v", err)
	}
	p := &filterParser{t: &tokenizer{toks: toks}, sc: sc}
	f, err := p.or()
	if err == nil && p.t.pos < len(toks) {
		err = fmt.Errorf("unexpected %q", p.t.peek())
	}
	if err != nil {
		return nil, badRequest("Invalid filter clause: %v", err)
	}
	return f, nil
}

type filterParser struct {
	t      *tokenizer
	sc     *schema
	lambda string
}

func (p *filterParser) or() (*filter, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.t.peek(), "or") {
		p.t.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &filter{op: "or", args: []*filter{l, r}}
	}
	return l, nil
}

func (p *filterParser) and() (*filter, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.t.peek(), "and") {
		p.t.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &filter{op: "and", args: []*filter{l, r}}
	}
	return l, nil
}

func (p *filterParser) unary() (*filter, error) {
	tok := p.t.next()
	switch {
	case tok == "":
		return nil, fmt.Errorf("unexpected end of expression")
	case strings.EqualFold(tok, "not"):
		a, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &filter{op: "not", args: []*filter{a}}, nil
	case tok == "(":
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		return e, p.t.expect(")")
	case strings.EqualFold(tok, "startsWith") || strings.EqualFold(tok, "endsWith"):
		op := "startsWith"
		if strings.EqualFold(tok, "endsWith") {
			op = "endsWith"
		}
		if err := p.t.expect("("); err != nil {
			return nil, err
		}
		prop, err := p.operand(p.t.next())
		if err != nil {
			return nil, err
		}
		if err := p.t.expect(","); err != nil {
			return nil, err
		}
		lit, err := literal(p.t.next())
		if err != nil {
			return nil, err
		}
		return &filter{op: op, prop: prop, lit: lit}, p.t.expect(")")
	}
	prop, err := p.operand(tok)
	if err != nil {
		return nil, err
	}
	if p.t.peek() == "/" {
		p.t.next()
		if fn := p.t.next(); !strings.EqualFold(fn, "any") {
			return nil, fmt.Errorf("unsupported lambda operator %q", fn)
		}
		if err := p.t.expect("("); err != nil {
			return nil, err
		}
		v := p.t.next()
		if err := p.t.expect(":"); err != nil {
			return nil, err
		}
		saved := p.lambda
		p.lambda = v
		body, err := p.or()
		p.lambda = saved
		if err != nil {
			return nil, err
		}
		return &filter{op: "any", prop: prop, lambdaOn: v, args: []*filter{body}}, p.t.expect(")")
	}
	op := p.t.next()
	switch lop := strings.ToLower(op); lop {
	case "eq", "ne", "ge", "le", "gt", "lt":
		lit, err := literal(p.t.next())
		if err != nil {
			return nil, err
		}
		return &filter{op: lop, prop: prop, lit: lit}, nil
	case "in":
		if err := p.t.expect("("); err != nil {
			return nil, err
		}
		f := &filter{op: "in", prop: prop}
		for {
			lit, err := literal(p.t.next())
			if err != nil {
				return nil, err
			}
			f.lits = append(f.lits, lit)
			if sep := p.t.next(); sep == ")" {
				return f, nil
			} else if sep != "," {
				return nil, fmt.Errorf("expected ',' or ')' in list")
			}
		}
	default:
		return nil, fmt.Errorf("unsupported operator %q", op)
	}
}

func (p *filterParser) operand(tok string) (string, error) {
	if p.lambda != "" && tok == p.lambda {
		return tok, nil
	}
	if _, ok := p.sc.lookup(tok); !ok {
		return "", fmt.Errorf("could not find a property named '%s' on type '%s'", tok, p.sc.kind.typeName())
	}
	return tok, nil
}

func literal(tok string) (any, error) {
	switch {
	case strings.HasPrefix(tok, "'"):
		return tok[1:], nil
	case tok == "true":
		return true, nil
	case tok == "false":
		return false, nil
	case tok == "null":
		return nil, nil
	}
	if f, err := strconv.ParseFloat(tok, 64); err == nil {
		return f, nil
	}
	return nil, fmt.Errorf("invalid literal %q", tok)
}

// match evaluates f against props; vars binds lambda variables.
func (f *filter) match(props map[string]any, id string, vars map[string]any) bool {
	switch f.op {
	case "and":
		return f.args[0].match(props, id, vars) && f.args[1].match(props, id, vars)
	case "or":
		return f.args[0].match(props, id, vars) || f.args[1].match(props, id, vars)
	case "not":
		return !f.args[0].match(props, id, vars)
	case "any":
		arr, _ := props[f.prop].([]any)
		for _, e := range arr {
			if f.args[0].match(props, id, map[string]any{f.lambdaOn: e}) {
				return true
			}
		}
		return false
	}
	v, ok := vars[f.prop]
	if !ok {
		if f.prop == "id" {
			v = id
		} else {
			v = props[f.prop]
		}
	}
	switch f.op {
	case "eq":
		return equal(v, f.lit)
	case "ne":
		return !equal(v, f.lit)
	case "in":
		for _, l := range f.lits {
			if equal(v, l) {
				return true
			}
		}
		return false
	case "startsWith", "endsWith":
		s, ok1 := v.(string)
		l, ok2 := f.lit.(string)
		if !ok1 || !ok2 {
			return false
		}
		s, l = strings.ToLower(s), strings.ToLower(l)
		if f.op == "startsWith" {
			return strings.HasPrefix(s, l)
		}
		return strings.HasSuffix(s, l)
	case "ge", "le", "gt", "lt":
		c, ok := compare(v, f.lit)
		if !ok {
			return false
		}
		switch f.op {
		case "ge":
			return c >= 0
		case "le":
			return c <= 0
		case "gt":
			return c > 0
		default:
			return c < 0
		}
	}
	return false
}

// equal compares strings case-insensitively, as directory queries do.
func equal(v, lit any) bool {
	if s, ok := v.(string); ok {
		l, ok := lit.(string)
		return ok && strings.EqualFold(s, l)
	}
	return v == lit
}

func compare(v, lit any) (int, bool) {
	switch x := v.(type) {
	case string:
		l, ok := lit.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(strings.ToLower(x), strings.ToLower(l)), true
	case float64:
		l, ok := lit.(float64)
		if !ok {
			return 0, false
		}
		switch {
		case x < l:
			return -1, true
		case x > l:
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// indexedEq recognises "prop eq 'v'" on a property the store indexes, so
// that lookups by userPrincipalName, mail or id need no scan.
func (f *filter) indexedEq() (prop, value string, ok bool) {
	if f == nil || f.op != "eq" {
		return "", "", false
	}
	s, isStr := f.lit.(string)
	switch f.prop {
	case "id", "userPrincipalName", "mail", "onPremisesImmutableId":
		return f.prop, s, isStr
	}
	return "", "", false
}

// advanced reports whether f uses operators that Graph only serves as an
// advanced query on directory objects (ne, not, endsWith), which needs
// ConsistencyLevel: eventual and $count=true
// (https://learn.microsoft.com/graph/aad-advanced-queries).
func (f *filter) advanced() bool {
	if f == nil {
		return false
	}
	switch f.op {
	case "ne", "not", "endsWith":
		return true
	}
	for _, a := range f.args {
		if a.advanced() {
			return true
		}
	}
	return false
}

func (f *filter) firstProp() string {
	if f.prop != "" {
		return f.prop
	}
	for _, a := range f.args {
		if p := a.firstProp(); p != "" {
			return p
		}
	}
	return ""
}
