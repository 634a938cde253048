package ldap

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/internal/adcodec"
)

// Import reads every entry of the configured types under the configured
// containers, page by page, and checkpoints the watermark a later
// DeltaImport starts from (taken before the search, so that a change made
// during it is seen again rather than missed).
func (c *Connector) Import(ctx context.Context, sink connector.ImportSink) error {
	if err := c.init(ctx); err != nil {
		return err
	}
	wm, err := c.startWatermark(ctx)
	if err != nil {
		return err
	}
	for _, ct := range c.cfg.Containers {
		err := c.pagedSearch(ctx, "full import", ct.DN, ldap.ScopeWholeSubtree, c.filter(), c.attributes(),
			func(e *ldap.Entry) error { return c.emit(ctx, sink, e, connector.Add) }, c.referrals(ctx, sink))
		if err != nil {
			return err
		}
	}
	return sink.Checkpoint(ctx, wm)
}

// emit converts an entry and stages it; an entry that cannot be converted
// is reported with sink.Error.
func (c *Connector) emit(ctx context.Context, sink connector.ImportSink, e *ldap.Entry, kind connector.ChangeKind) error {
	if c.excluded(e.DN) {
		return nil
	}
	t := c.typeOf(e.GetAttributeValues("objectClass"))
	if t == nil {
		return nil
	}
	obj, err := c.toObject(ctx, e, t)
	if err != nil {
		var oe *connector.ObjectError
		if errors.As(err, &oe) {
			return sink.Error(ctx, oe)
		}
		return err
	}
	return sink.Object(ctx, connector.Change{Kind: kind, Anchor: obj.Anchor, Type: obj.Type, DN: obj.DN, Attrs: obj.Attrs})
}

// toObject converts an entry of type t. Values that do not fit the
// schema's type make an *connector.ObjectError, which carries the anchor
// whenever the entry has one (so that the engine keeps the object it
// could not read rather than take it for gone).
func (c *Connector) toObject(ctx context.Context, e *ldap.Entry, t *objType) (connector.Object, error) {
	anchorName := c.anchorAttr(c.root.dialect)
	o := connector.Object{DN: e.DN, Type: t.Name, Attrs: connector.Attributes{}}
	bad := func(format string, args ...any) error {
		return &connector.ObjectError{Anchor: o.Anchor, DN: e.DN, Op: "import", Err: fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), connector.ErrInvalidObject)}
	}
	if ea := attrFold(e, anchorName); ea != nil {
		switch {
		case len(ea.ByteValues) != 1:
			return o, bad("anchor %s has %d values", anchorName, len(ea.ByteValues))
		case len(ea.ByteValues[0]) == 16 && strings.EqualFold(anchorName, "objectGUID"):
			o.Anchor = guidAnchor(ea.ByteValues[0])
		case !utf8.ValidString(ea.Values[0]) || ea.Values[0] == "":
			return o, bad("anchor %s %q is not a valid UTF-8 string", anchorName, ea.Values[0])
		default:
			o.Anchor = connector.Anchor(ea.Values[0])
		}
	}
	if o.Anchor == "" {
		return o, bad("no anchor attribute %s", anchorName)
	}
	if !utf8.ValidString(e.DN) {
		return o, bad("the DN %q is not valid UTF-8", e.DN)
	}
	if _, err := completeRanges(ctx, c.readEntry, e, c.rangeSize()); err != nil {
		return o, mapErr(err)
	}
	for _, ea := range e.Attributes {
		a, ok := t.attrs[strings.ToLower(ea.Name)]
		if !ok {
			continue
		}
		vals, err := convertValues(a, ea)
		if err != nil {
			return o, &connector.ObjectError{Anchor: o.Anchor, DN: e.DN, Op: "import", Err: err}
		}
		o.Attrs[a.Name] = vals
	}
	return o, nil
}

// attrFold returns the attribute of e named name, ignoring case.
func attrFold(e *ldap.Entry, name string) *ldap.EntryAttribute {
	for _, ea := range e.Attributes {
		if strings.EqualFold(ea.Name, name) {
			return ea
		}
	}
	return nil
}

// toValue converts one LDAP value to the connector type. A value of a
// string type (text, a DN, a number) that is not valid UTF-8 is refused:
// passed on, it would be mangled into U+FFFD on its way to the target and
// differ from what the source holds at every later comparison, exported
// again every cycle.
func toValue(t connector.AttrType, s string, raw []byte) (connector.Value, error) {
	if t != connector.Bytes && !utf8.ValidString(s) {
		return connector.Value{}, fmt.Errorf("%q is not valid UTF-8", s)
	}
	switch t {
	case connector.Reference:
		return connector.RefValue("", s), nil
	case connector.Integer:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return connector.Value{}, fmt.Errorf("%q is not an integer", s)
		}
		return connector.IntValue(n), nil
	case connector.Boolean:
		switch s {
		case "TRUE":
			return connector.BoolValue(true), nil
		case "FALSE":
			return connector.BoolValue(false), nil
		}
		return connector.Value{}, fmt.Errorf("%q is not TRUE or FALSE", s)
	case connector.Time:
		tm, err := adcodec.ParseGeneralizedTime(s)
		if err != nil {
			return connector.Value{}, err
		}
		return connector.TimeValue(tm), nil
	case connector.Bytes:
		return connector.BytesValue(raw), nil
	}
	return connector.StringValue(s), nil
}

// fromValue converts a connector value to an LDAP value.
func fromValue(v connector.Value) string {
	switch v.Type() {
	case connector.Reference:
		_, dn := v.Ref()
		return dn
	case connector.Integer:
		return strconv.FormatInt(v.Int(), 10)
	case connector.Boolean:
		if v.Bool() {
			return "TRUE"
		}
		return "FALSE"
	case connector.Time:
		return adcodec.FormatGeneralizedTime(v.Time())
	case connector.Bytes:
		return string(v.Octets())
	}
	return v.Str()
}
