package graphsync

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/microsoft/kiota-abstractions-go/serialization"

	"github.com/idbridge/idbridge/connector"
)

// rawObject is a Graph object as the SDK's JSON parser reads it, every
// property kept: the connector selects properties by name (including
// directory extensions, which have no typed getter), so the typed models
// would only be converted back into names.
type rawObject struct{ props map[string]any }

func newRawObject(serialization.ParseNode) (serialization.Parsable, error) {
	return &rawObject{props: map[string]any{}}, nil
}

func (o *rawObject) Serialize(serialization.SerializationWriter) error { return nil }
func (o *rawObject) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	return map[string]func(serialization.ParseNode) error{}
}
func (o *rawObject) GetAdditionalData() map[string]any      { return o.props }
func (o *rawObject) SetAdditionalData(value map[string]any) { o.props = value }

// rawPage is one page of a collection or a delta round.
type rawPage struct {
	value     []*rawObject
	nextLink  string
	deltaLink string
}

func newRawPage(serialization.ParseNode) (serialization.Parsable, error) { return &rawPage{}, nil }

func (p *rawPage) Serialize(serialization.SerializationWriter) error { return nil }
func (p *rawPage) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	return map[string]func(serialization.ParseNode) error{
		"value": func(n serialization.ParseNode) error {
			items, err := n.GetCollectionOfObjectValues(newRawObject)
			if err != nil {
				return err
			}
			for _, it := range items {
				if o, ok := it.(*rawObject); ok {
					p.value = append(p.value, o)
				}
			}
			return nil
		},
		"@odata.nextLink": func(n serialization.ParseNode) error {
			s, err := n.GetStringValue()
			if s != nil {
				p.nextLink = *s
			}
			return err
		},
		"@odata.deltaLink": func(n serialization.ParseNode) error {
			s, err := n.GetStringValue()
			if s != nil {
				p.deltaLink = *s
			}
			return err
		},
	}
}

// plain turns the parser's raw values (pointers to scalars, slices and
// maps of them) into plain Go values as encoding/json would give.
func plain(v any) any {
	switch x := v.(type) {
	case *string:
		if x == nil {
			return nil
		}
		return *x
	case *bool:
		if x == nil {
			return nil
		}
		return *x
	case *float64:
		if x == nil {
			return nil
		}
		return *x
	case *float32:
		if x == nil {
			return nil
		}
		return float64(*x)
	case *int64:
		if x == nil {
			return nil
		}
		return float64(*x)
	case *int32:
		if x == nil {
			return nil
		}
		return float64(*x)
	case *int8:
		if x == nil {
			return nil
		}
		return float64(*x)
	case *uint8:
		if x == nil {
			return nil
		}
		return float64(*x)
	case int:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = plain(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	}
	return v
}

// memberDN is the path-like DN of a directory object: users/{id}.
func memberDN(odataType, id string) string {
	coll := odataCollection[odataType]
	if coll == "" {
		coll = "directoryObjects"
	}
	return coll + "/" + id
}

// fromJSON converts a Graph JSON value to connector values of attribute a.
func fromJSON(a connector.Attribute, v any) ([]connector.Value, error) {
	v = plain(v)
	if v == nil {
		return nil, nil
	}
	if list, ok := v.([]any); ok {
		out := make([]connector.Value, 0, len(list))
		for _, e := range list {
			if e == nil {
				continue
			}
			cv, err := scalar(a.Type, e)
			if err != nil {
				return nil, err
			}
			out = append(out, cv)
		}
		return out, nil
	}
	cv, err := scalar(a.Type, v)
	if err != nil {
		return nil, err
	}
	return []connector.Value{cv}, nil
}

func scalar(t connector.AttrType, v any) (connector.Value, error) {
	switch t {
	case connector.String:
		switch x := v.(type) {
		case string:
			return connector.StringValue(x), nil
		case float64, bool:
			return connector.StringValue(fmt.Sprint(x)), nil
		}
	case connector.Boolean:
		if b, ok := v.(bool); ok {
			return connector.BoolValue(b), nil
		}
	case connector.Integer:
		if f, ok := v.(float64); ok {
			return connector.IntValue(int64(f)), nil
		}
	case connector.Time:
		if s, ok := v.(string); ok {
			tm, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return connector.Value{}, fmt.Errorf("time %q: %w", s, err)
			}
			return connector.TimeValue(tm), nil
		}
	case connector.Reference:
		if m, ok := v.(map[string]any); ok {
			id, _ := m["id"].(string)
			typ, _ := m["@odata.type"].(string)
			if id != "" {
				return connector.RefValue(connector.Anchor(id), memberDN(typ, id)), nil
			}
		}
	}
	return connector.Value{}, fmt.Errorf("a %T is not a %s", v, t)
}

// toJSON converts connector values to the JSON of a Graph property:
// a scalar (or null) for a single-valued attribute, an array otherwise.
func toJSON(a connector.Attribute, vs []connector.Value) (any, error) {
	conv := func(v connector.Value) (any, error) {
		switch v.Type() {
		case connector.String:
			return v.Str(), nil
		case connector.Boolean:
			return v.Bool(), nil
		case connector.Integer:
			if a.Type == connector.String {
				return fmt.Sprint(v.Int()), nil
			}
			return v.Int(), nil
		case connector.Time:
			return v.Time().UTC().Format(time.RFC3339), nil
		case connector.Bytes:
			return nil, fmt.Errorf("%s: Graph takes no octet strings (convert to base64 in the rule): %w", a.Name, connector.ErrInvalidObject)
		}
		return nil, fmt.Errorf("%s: cannot write a %s: %w", a.Name, v.Type(), connector.ErrInvalidObject)
	}
	if !a.Multi {
		if len(vs) == 0 {
			return nil, nil
		}
		if len(vs) > 1 {
			return nil, fmt.Errorf("%s is single-valued but has %d values: %w", a.Name, len(vs), connector.ErrInvalidObject)
		}
		return conv(vs[0])
	}
	out := make([]any, 0, len(vs))
	for _, v := range vs {
		x, err := conv(v)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// bindURL is the @odata.bind form of a directory object reference.
func (c *Connector) bindURL(id connector.Anchor) string {
	return c.cfg.BaseURL + "/directoryObjects/" + string(id)
}

// jsonString renders a value for a log or error message.
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(b))
}
