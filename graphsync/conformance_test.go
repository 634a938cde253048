package graphsync_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
)

// harness runs the connector conformance suite against the emulator: a
// fresh tenant for each Seed.
type harness struct {
	t   *testing.T
	srv *graphtest.Server
}

func (h *harness) Seed(ctx context.Context) ([]connector.Object, error) {
	if h.srv != nil {
		h.srv.Close()
	}
	h.srv = graphtest.NewServer(graphtest.Options{Token: token, Domains: []string{"example.com"}})
	var objs []connector.Object
	var members []connector.Value
	for i := range 3 {
		name := fmt.Sprintf("seed%d", i)
		id, err := h.srv.CreateUser(userProps(name))
		if err != nil {
			return nil, err
		}
		members = append(members, connector.RefValue(connector.Anchor(id), "users/"+id))
		objs = append(objs, connector.Object{Anchor: connector.Anchor(id), DN: "users/" + id, Type: graphsync.TypeUser, Attrs: connector.Attributes{
			"userPrincipalName": str(name + "@example.com"),
			"displayName":       str("User " + name),
			"accountEnabled":    {connector.BoolValue(true)},
		}})
	}
	gid, err := h.srv.CreateGroup(map[string]any{"displayName": "Seeded", "mailEnabled": false, "mailNickname": "seeded", "securityEnabled": true})
	if err != nil {
		return nil, err
	}
	for _, m := range members[:2] {
		a, _ := m.Ref()
		if err := h.srv.AddMember(gid, string(a)); err != nil {
			return nil, err
		}
	}
	objs = append(objs, connector.Object{Anchor: connector.Anchor(gid), DN: "groups/" + gid, Type: graphsync.TypeGroup, Attrs: connector.Attributes{
		"displayName": str("Seeded"),
		"members":     members[:2],
	}})
	return objs, nil
}

func (h *harness) Connector(ctx context.Context) (connector.Connector, error) {
	return graphsync.New(graphsync.Config{
		BaseURL:     h.srv.URL() + "/v1.0",
		Credential:  graphsync.StaticToken(token),
		HTTPClient:  h.srv.Client(),
		WriteBudget: graphsync.Unlimited,
		Types:       []string{graphsync.TypeUser, graphsync.TypeGroup},
		GroupAnchor: groupAnchor,
	})
}

func (h *harness) Options() connectortest.Options {
	return connectortest.Options{Writable: true, NoRename: true, ModifyAttribute: "displayName"}
}

func (h *harness) NewObject(n int) connector.Object {
	name := fmt.Sprintf("conf%d", n)
	return connector.Object{Type: graphsync.TypeUser, DN: "new/" + name, Attrs: connector.Attributes{
		"userPrincipalName": str(name + "@example.com"),
		"displayName":       str("Conformance " + name),
		"accountEnabled":    {connector.BoolValue(true)},
	}}
}

func (h *harness) Mutate(ctx context.Context, c connector.Change) (connector.Anchor, error) {
	switch c.Kind {
	case connector.Add:
		props := map[string]any{"passwordProfile": map[string]any{"password": "Mutate-pw-1!"}}
		for name, vs := range c.Attrs {
			if len(vs) == 1 {
				switch vs[0].Type() {
				case connector.Boolean:
					props[name] = vs[0].Bool()
				default:
					props[name] = vs[0].Str()
				}
			}
		}
		upn, _ := props["userPrincipalName"].(string)
		props["mailNickname"] = upn[:len(upn)-len("@example.com")]
		id, err := h.srv.CreateUser(props)
		return connector.Anchor(id), err
	case connector.Update:
		props := map[string]any{}
		for _, m := range c.Mods {
			if len(m.Values) == 0 {
				props[m.Name] = nil
			} else {
				props[m.Name] = m.Values[0].Str()
			}
		}
		return c.Anchor, h.srv.Update(string(c.Anchor), props)
	case connector.Delete:
		return c.Anchor, h.srv.Delete(string(c.Anchor))
	}
	return "", fmt.Errorf("mutate: %v", c.Kind)
}

func TestConformance(t *testing.T) {
	h := &harness{t: t}
	t.Cleanup(func() {
		if h.srv != nil {
			h.srv.Close()
		}
	})
	connectortest.Run(t, h)
}
