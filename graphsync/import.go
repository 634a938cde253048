package graphsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	abstractions "github.com/microsoft/kiota-abstractions-go"

	"github.com/idbridge/idbridge/connector"
)

// watermark is where the next delta import starts, per type: the
// deltaLink of the last finished round, or the nextLink of a round under
// way (Initial tells whether that round is a first, whole one).
type watermark struct {
	V       int               `json:"v"`
	Links   map[string]string `json:"links"`
	Initial map[string]bool   `json:"initial,omitempty"`
}

func (w *watermark) encode() []byte {
	b, _ := json.Marshal(w)
	return b
}

// Import reads every object of every type by a first delta round
// (https://learn.microsoft.com/graph/delta-query-overview): pages of
// $select-ed properties followed by @odata.nextLink, ending with the
// @odata.deltaLink that becomes the watermark. One pass gives the objects,
// group members (members@delta, where a $expand would stop at 20) and
// the starting point of the next delta import.
func (c *Connector) Import(ctx context.Context, sink connector.ImportSink) error {
	if err := c.check(); err != nil {
		return err
	}
	wm := &watermark{V: 1, Links: map[string]string{}, Initial: map[string]bool{}}
	for _, t := range c.cfg.Types {
		if err := c.round(ctx, sink, wm, t, ""); err != nil {
			return err
		}
	}
	return nil
}

// DeltaImport follows each type's link in watermark. A link Graph no
// longer accepts (410 Gone: the sync state expired) gives
// connector.ErrWatermarkExpired, and the engine runs a full import.
func (c *Connector) DeltaImport(ctx context.Context, wmb []byte, sink connector.ImportSink) error {
	if err := c.check(); err != nil {
		return err
	}
	wm := &watermark{}
	if err := json.Unmarshal(wmb, wm); err != nil || wm.V != 1 {
		return fmt.Errorf("graphsync: unreadable watermark: %w", connector.ErrWatermarkExpired)
	}
	if wm.Initial == nil {
		wm.Initial = map[string]bool{}
	}
	if wm.Links == nil {
		wm.Links = map[string]string{}
	}
	for _, t := range c.cfg.Types {
		if err := c.round(ctx, sink, wm, t, wm.Links[t]); err != nil {
			return err
		}
	}
	return nil
}

// round runs one delta round of typ from link (a first round when empty),
// checkpointing after each page (after the whole round for groups in a
// first round, whose members may be spread over several pages).
func (c *Connector) round(ctx context.Context, sink connector.ImportSink, wm *watermark, typ, link string) error {
	initial := link == "" || wm.Initial[typ]
	if link == "" {
		wm.Initial[typ] = true
	}
	t, _ := c.schema.Type(typ)
	// Groups of a first round are gathered until its end.
	var pending map[string]*connector.Change
	var order []string
	if initial && typ == TypeGroup {
		pending = map[string]*connector.Change{}
	}
	for {
		var (
			req *abstractions.RequestInformation
			err error
		)
		if link == "" {
			req, err = c.deltaRequest(ctx, typ)
		} else {
			req, err = c.linkRequest(link)
		}
		if err != nil {
			return err
		}
		page, err := c.get(ctx, req)
		if err != nil {
			return fmt.Errorf("graphsync: delta of %s: %w", collection[typ], err)
		}
		if typ == TypeDevice {
			if err := c.enrichDevices(ctx, page.value); err != nil { // device.go
				return err
			}
		}
		for _, o := range page.value {
			ch, err := c.change(t, o, initial)
			if err != nil {
				var oe *connector.ObjectError
				if errors.As(err, &oe) {
					if err := sink.Error(ctx, oe); err != nil {
						return err
					}
					continue
				}
				return err
			}
			if pending != nil && ch.Kind != connector.Delete {
				if prev, ok := pending[string(ch.Anchor)]; ok {
					mergeInitial(prev, ch)
					continue
				}
				order = append(order, string(ch.Anchor))
				pending[string(ch.Anchor)] = &ch
				continue
			}
			if err := sink.Object(ctx, ch); err != nil {
				return err
			}
		}
		switch {
		case page.nextLink != "":
			link = page.nextLink
		case page.deltaLink != "":
			link = page.deltaLink
			delete(wm.Initial, typ)
		default:
			return fmt.Errorf("graphsync: delta of %s: a page with neither @odata.nextLink nor @odata.deltaLink", collection[typ])
		}
		if pending != nil && page.deltaLink != "" {
			if err := c.readOwners(ctx, pending); err != nil {
				return fmt.Errorf("graphsync: owners of groups: %w", err)
			}
			for _, id := range order {
				if err := sink.Object(ctx, *pending[id]); err != nil {
					return err
				}
			}
		}
		if pending == nil || page.deltaLink != "" {
			wm.Links[typ] = link
			if err := sink.Checkpoint(ctx, wm.encode()); err != nil {
				return err
			}
		}
		if page.deltaLink != "" {
			return nil
		}
	}
}

// change converts one object of a delta page.
func (c *Connector) change(t *connector.ObjectType, o *rawObject, initial bool) (connector.Change, error) {
	props := o.props
	id, _ := plain(props["id"]).(string)
	if id == "" {
		return connector.Change{}, &connector.ObjectError{Op: "import", Err: fmt.Errorf("a %s without an id: %w", t.Name, connector.ErrInvalidObject)}
	}
	ch := connector.Change{Anchor: connector.Anchor(id), Type: t.Name, DN: dnOf(t.Name, id)}
	if _, removed := props["@removed"]; removed {
		ch.Kind = connector.Delete
		return ch, nil
	}
	bad := func(name string, err error) error {
		return &connector.ObjectError{Anchor: ch.Anchor, DN: ch.DN, Op: "import", Err: fmt.Errorf("%s: %w: %w", name, err, connector.ErrInvalidObject)}
	}
	if initial {
		ch.Kind = connector.Add
		ch.Attrs = connector.Attributes{}
	} else {
		ch.Kind = connector.Update
	}
	for i := range t.Attributes {
		a := t.Attributes[i]
		if a.Name == "members" || a.Name == "owners" || a.Name == "manager" {
			continue
		}
		raw, present := props[a.Name]
		if !present {
			continue // not selected, or unchanged in an incremental round
		}
		vals, err := fromJSON(a, raw)
		if err != nil {
			return ch, bad(a.Name, err)
		}
		if !a.Multi && len(vals) > 1 {
			return ch, bad(a.Name, fmt.Errorf("single-valued but has %d values", len(vals)))
		}
		if initial {
			if len(vals) > 0 {
				ch.Attrs[a.Name] = vals
			}
		} else {
			ch.Mods = append(ch.Mods, connector.Mod{Name: a.Name, Op: connector.ModReplace, Values: vals})
		}
	}
	if t.Name == TypeUser {
		managerDelta(&ch, props, initial)
	}
	if t.Name == TypeGroup {
		if md, ok := plain(props["members@delta"]).([]any); ok {
			var add, remove []connector.Value
			for _, m := range md {
				mm, _ := m.(map[string]any)
				mid, _ := mm["id"].(string)
				if mid == "" {
					continue
				}
				typ, _ := mm["@odata.type"].(string)
				v := connector.RefValue(connector.Anchor(mid), memberDN(typ, mid))
				if _, gone := mm["@removed"]; gone {
					remove = append(remove, v)
				} else {
					add = append(add, v)
				}
			}
			switch {
			case initial:
				if len(add) > 0 {
					ch.Attrs["members"] = add
				}
			default:
				if len(add) > 0 {
					ch.Mods = append(ch.Mods, connector.Mod{Name: "members", Op: connector.ModAdd, Values: add})
				}
				if len(remove) > 0 {
					ch.Mods = append(ch.Mods, connector.Mod{Name: "members", Op: connector.ModRemove, Values: remove})
				}
			}
		}
	}
	return ch, nil
}

// mergeInitial folds a later occurrence of a group in a first round (Graph
// spreads the members of large groups over several) into the first.
func mergeInitial(prev *connector.Change, next connector.Change) {
	for name, vs := range next.Attrs {
		if name == "members" {
			prev.Attrs[name] = append(prev.Attrs[name], vs...)
			continue
		}
		prev.Attrs[name] = vs
	}
}

// readOwners reads the owners of the groups of a first round, 20 groups
// per $batch: Graph's delta does not report owners.
func (c *Connector) readOwners(ctx context.Context, groups map[string]*connector.Change) error {
	var tasks []*task
	var failed []*task
	for id, ch := range groups {
		ch := ch
		t := &task{c: c, ch: *ch, result: &connector.ExportResult{}}
		path := "/groups/" + url.PathEscape(id) + "/owners?$select=id&$top=999"
		t.start = func() []*op {
			return []*op{t.op(http.MethodGet, path, nil, func(_ int, rb map[string]any) []*op {
				vs, _ := rb["value"].([]any)
				var owners []connector.Value
				for _, v := range vs {
					m, _ := v.(map[string]any)
					oid, _ := m["id"].(string)
					typ, _ := m["@odata.type"].(string)
					if oid != "" {
						owners = append(owners, connector.RefValue(connector.Anchor(oid), memberDN(typ, oid)))
					}
				}
				if len(owners) > 0 {
					ch.Attrs["owners"] = owners
				}
				return nil
			})}
		}
		tasks = append(tasks, t)
	}
	if err := c.run(ctx, tasks); err != nil {
		return err
	}
	for _, t := range tasks {
		if t.failed != nil {
			failed = append(failed, t)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d groups, first %s: %w", len(failed), failed[0].ch.DN, failed[0].failed)
	}
	return nil
}

// managerDelta reads a user's "manager@delta": the user delta reports the
// manager, a navigation property, when manager is in $select — the
// manager in a first round, and in later rounds a new manager, or the one
// removed marked "@removed"
// (https://learn.microsoft.com/graph/api/user-delta). No manager@delta
// means no manager (a first round) or no change (later rounds).
func managerDelta(ch *connector.Change, props map[string]any, initial bool) {
	md, ok := plain(props["manager@delta"]).([]any)
	if !ok {
		return
	}
	var current []connector.Value
	for _, m := range md {
		mm, _ := m.(map[string]any)
		mid, _ := mm["id"].(string)
		if _, gone := mm["@removed"]; gone || mid == "" {
			continue
		}
		typ, _ := mm["@odata.type"].(string)
		current = []connector.Value{connector.RefValue(connector.Anchor(mid), memberDN(typ, mid))}
	}
	switch {
	case initial:
		if len(current) > 0 {
			ch.Attrs["manager"] = current
		}
	default:
		ch.Mods = append(ch.Mods, connector.Mod{Name: "manager", Op: connector.ModReplace, Values: current})
	}
}
