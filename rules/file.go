package rules

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// File is a parsed rule file: the metaverse schema and the rules.
type File struct {
	Metaverse *connector.Schema
	Rules     []Rule
}

// ParseFile reads and parses a rule file.
func ParseFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return Parse(path, data)
}

// Parse parses a rule file (YAML; see the package documentation). filename
// is used in positions. Unknown keys, wrong types and invalid values are
// errors; all are returned, joined, each a *ParseError with its position.
// Parse does not type-check expressions: Compile does.
func Parse(filename string, data []byte) (*File, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := yamlError(err)
		return nil, &ParseError{Pos: Position{File: filename, Line: line}, Msg: msg}
	}
	d := &decoder{file: filename}
	f := &File{}
	if len(doc.Content) == 0 {
		return f, nil
	}
	d.mapping(doc.Content[0], "rule file", map[string]func(*yaml.Node){
		"metaverse": func(n *yaml.Node) { f.Metaverse = d.schema(n) },
		"rules": func(n *yaml.Node) {
			for _, rn := range d.seq(n, "rules") {
				f.Rules = append(f.Rules, d.rule(rn))
			}
		},
	})
	if err := errors.Join(d.errs...); err != nil {
		return nil, err
	}
	return f, nil
}

// yamlError splits a yaml syntax error ("yaml: line 3: …") into its line
// and message.
func yamlError(err error) (int, string) {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(s, "line "); ok {
		if j := strings.IndexByte(rest, ':'); j > 0 {
			if n, err := strconv.Atoi(rest[:j]); err == nil {
				return n, strings.TrimSpace(rest[j+1:])
			}
		}
	}
	return 0, s
}

type decoder struct {
	file string
	errs []error
}

func (d *decoder) pos(n *yaml.Node) Position {
	return Position{File: d.file, Line: n.Line, Column: n.Column}
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, &ParseError{Pos: d.pos(n), Msg: fmt.Sprintf(format, args...)})
}

// mapping calls the function of each key of n; unknown and repeated keys
// are errors.
func (d *decoder) mapping(n *yaml.Node, what string, fields map[string]func(*yaml.Node)) (seen map[string]bool) {
	seen = map[string]bool{}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping", what)
		return seen
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		fn, ok := fields[k.Value]
		switch {
		case !ok:
			d.errorf(k, "unknown key %q in %s", k.Value, what)
		case seen[k.Value]:
			d.errorf(k, "key %q repeated in %s", k.Value, what)
		default:
			seen[k.Value] = true
			fn(v)
		}
	}
	return seen
}

func (d *decoder) seq(n *yaml.Node, what string) []*yaml.Node {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s must be a list", what)
		return nil
	}
	return n.Content
}

func (d *decoder) str(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "%s must be a string", what)
		return ""
	}
	if n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

func (d *decoder) bool(n *yaml.Node, what string) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		d.errorf(n, "%s must be true or false", what)
	}
	return b
}

func (d *decoder) int(n *yaml.Node, what string) int {
	var i int
	if n.Kind != yaml.ScalarNode || n.Decode(&i) != nil {
		d.errorf(n, "%s must be an integer", what)
	}
	return i
}

func (d *decoder) schema(n *yaml.Node) *connector.Schema {
	s := &connector.Schema{}
	d.mapping(n, "metaverse", map[string]func(*yaml.Node){
		"types": func(n *yaml.Node) {
			for _, tn := range d.seq(n, "types") {
				var t connector.ObjectType
				d.mapping(tn, "object type", map[string]func(*yaml.Node){
					"name":   func(n *yaml.Node) { t.Name = d.str(n, "name") },
					"anchor": func(n *yaml.Node) { t.Anchor = d.str(n, "anchor") },
					"attributes": func(n *yaml.Node) {
						for _, an := range d.seq(n, "attributes") {
							t.Attributes = append(t.Attributes, d.attribute(an))
						}
					},
				})
				if t.Name == "" && tn.Kind == yaml.MappingNode {
					d.errorf(tn, "object type has no name")
				}
				s.Types = append(s.Types, t)
			}
		},
	})
	if err := s.Validate(); err != nil && len(d.errs) == 0 {
		d.errorf(n, "%v", err)
	}
	return s
}

func (d *decoder) attribute(n *yaml.Node) connector.Attribute {
	var a connector.Attribute
	seen := d.mapping(n, "attribute", map[string]func(*yaml.Node){
		"name": func(n *yaml.Node) { a.Name = d.str(n, "name") },
		"type": func(n *yaml.Node) {
			t, err := connector.ParseAttrType(d.str(n, "type"))
			if err != nil {
				d.errorf(n, "unknown attribute type %q (want string, bytes, integer, boolean, time or reference)", n.Value)
			}
			a.Type = t
		},
		"multi":    func(n *yaml.Node) { a.Multi = d.bool(n, "multi") },
		"readOnly": func(n *yaml.Node) { a.ReadOnly = d.bool(n, "readOnly") },
	})
	if n.Kind == yaml.MappingNode {
		if a.Name == "" {
			d.errorf(n, "attribute has no name")
		}
		if !seen["type"] {
			d.errorf(n, "attribute %q has no type", a.Name)
		}
	}
	return a
}

func (d *decoder) rule(n *yaml.Node) Rule {
	r := Rule{Pos: d.pos(n)}
	seen := d.mapping(n, "rule", map[string]func(*yaml.Node){
		"name":        func(n *yaml.Node) { r.Name = d.str(n, "name") },
		"description": func(n *yaml.Node) { r.Description = d.str(n, "description") },
		"direction": func(n *yaml.Node) {
			v, err := ParseDirection(d.str(n, "direction"))
			if err != nil {
				d.errorf(n, "%v", err)
			}
			r.Direction = v
		},
		"connector":  func(n *yaml.Node) { r.Connector = d.str(n, "connector") },
		"source":     func(n *yaml.Node) { r.SourceType = d.str(n, "source") },
		"target":     func(n *yaml.Node) { r.TargetType = d.str(n, "target") },
		"precedence": func(n *yaml.Node) { r.Precedence = d.int(n, "precedence") },
		"disabled":   func(n *yaml.Node) { r.Disabled = d.bool(n, "disabled") },
		"scope": func(n *yaml.Node) {
			r.Scope = d.str(n, "scope")
			r.scopeAt = d.pos(n)
		},
		"join": func(n *yaml.Node) {
			for _, gn := range d.seq(n, "join") {
				var g JoinGroup
				for _, cn := range d.seq(gn, "join group") {
					jc := JoinCondition{Pos: d.pos(cn)}
					d.mapping(cn, "join condition", map[string]func(*yaml.Node){
						"source":          func(n *yaml.Node) { jc.Source = d.str(n, "source") },
						"target":          func(n *yaml.Node) { jc.Target = d.str(n, "target") },
						"caseInsensitive": func(n *yaml.Node) { jc.CaseInsensitive = d.bool(n, "caseInsensitive") },
					})
					g.Conditions = append(g.Conditions, jc)
				}
				r.Join = append(r.Join, g)
			}
		},
		"linkType": func(n *yaml.Node) {
			t, err := metaverse.ParseLinkType(d.str(n, "linkType"))
			if err != nil {
				d.errorf(n, "unknown link type %q (want Provision, Join or StickyJoin)", n.Value)
			}
			r.LinkType = t
		},
		"flows": func(n *yaml.Node) { r.Flows = d.flows(n, "flows") },
		"deprovision": func(n *yaml.Node) {
			a, err := ParseDeprovisionAction(d.str(n, "deprovision"))
			if err != nil {
				d.errorf(n, "%v", err)
			}
			r.Deprovision = a
		},
		"deprovisionFlows": func(n *yaml.Node) { r.DeprovisionFlows = d.flows(n, "deprovisionFlows") },
	})
	if n.Kind == yaml.MappingNode {
		switch {
		case r.Name == "":
			d.errorf(n, "rule has no name")
		case !seen["direction"]:
			d.errorf(n, "rule %q has no direction", r.Name)
		case r.Connector == "":
			d.errorf(n, "rule %q has no connector", r.Name)
		case r.SourceType == "" || r.TargetType == "":
			d.errorf(n, "rule %q needs a source and a target object type", r.Name)
		}
	}
	return r
}

func (d *decoder) flows(n *yaml.Node, what string) []Flow {
	var out []Flow
	for _, fn := range d.seq(n, what) {
		f := Flow{Pos: d.pos(fn)}
		d.mapping(fn, "flow", map[string]func(*yaml.Node){
			"target":     func(n *yaml.Node) { f.Target = d.str(n, "target") },
			"expression": func(n *yaml.Node) { f.Expression = d.str(n, "expression") },
			"source":     func(n *yaml.Node) { f.Source = d.str(n, "source") },
			"constant": func(n *yaml.Node) {
				f.Constant, f.HasConstant = d.str(n, "constant"), true
			},
			"applyOnce": func(n *yaml.Node) { f.ApplyOnce = d.bool(n, "applyOnce") },
			"merge": func(n *yaml.Node) {
				m, err := ParseMergeType(d.str(n, "merge"))
				if err != nil {
					d.errorf(n, "%v", err)
				}
				f.Merge = m
			},
		})
		if fn.Kind == yaml.MappingNode {
			n := 0
			for _, set := range []bool{f.Expression != "", f.Source != "", f.HasConstant} {
				if set {
					n++
				}
			}
			switch {
			case f.Target == "":
				d.errorf(fn, "flow has no target")
			case n != 1:
				d.errorf(fn, "flow %q needs exactly one of expression, source and constant", f.Target)
			}
		}
		out = append(out, f)
	}
	return out
}

func base64Decode(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("not base64")
	}
	return b, nil
}
