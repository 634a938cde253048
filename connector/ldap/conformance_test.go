package ldap_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/ldap"
)

// slapdHarness runs the conformance suite against slapd, in an OU of its
// own that Seed empties and refills.
type slapdHarness struct {
	t     *testing.T
	env   slapdEnv
	admin *goldap.Conn
	ou    string
}

var (
	_ connectortest.Mutator     = (*slapdHarness)(nil)
	_ connectortest.ObjectMaker = (*slapdHarness)(nil)
	_ connectortest.Configurer  = (*slapdHarness)(nil)
	_ connectortest.BadChanger  = (*slapdHarness)(nil)
)

func (h *slapdHarness) Seed(ctx context.Context) ([]connector.Object, error) {
	if h.ou != "" {
		deleteTree(h.admin, h.ou)
	}
	h.ou = h.env.newOU(h.t, h.admin)
	var objs []connector.Object
	for i := 0; i < 4; i++ {
		dn := addPerson(h.t, h.admin, h.ou, i, map[string][]string{"description": {fmt.Sprintf("seed %d", i)}})
		objs = append(objs, connector.Object{DN: dn, Type: "person", Attrs: connector.Attributes{
			"cn":          {connector.StringValue(fmt.Sprintf("User %d", i))},
			"description": {connector.StringValue(fmt.Sprintf("seed %d", i))},
		}})
	}
	return objs, nil
}

func (h *slapdHarness) Connector(ctx context.Context) (connector.Connector, error) {
	cfg := h.env.config(h.ou)
	cfg.Types = []ldap.TypeConfig{{Name: "person", ObjectClasses: []string{"inetOrgPerson"}, Attributes: []string{"cn", "sn", "uid", "mail", "description", "title", "manager"}}}
	return ldap.New(cfg)
}

func (h *slapdHarness) Options() connectortest.Options {
	return connectortest.Options{Writable: true, ModifyAttribute: "title"}
}

func (h *slapdHarness) NewObject(n int) connector.Object {
	return connector.Object{DN: fmt.Sprintf("uid=new%d,ou=people,%s", n, h.ou), Type: "person", Attrs: connector.Attributes{
		"uid": {connector.StringValue(fmt.Sprintf("new%d", n))},
		"cn":  {connector.StringValue(fmt.Sprintf("New %d", n))},
		"sn":  {connector.StringValue("New")},
	}}
}

func (h *slapdHarness) Mutate(ctx context.Context, c connector.Change) (connector.Anchor, error) {
	return mutate(h.admin, "inetOrgPerson", c)
}

// mutate applies a conformance-suite change out of band, as an
// administrator would, through a raw connection.
func mutate(admin *goldap.Conn, objectClass string, c connector.Change) (connector.Anchor, error) {
	strs := func(vs []connector.Value) []string {
		var ss []string
		for _, v := range vs {
			ss = append(ss, v.Str())
		}
		return ss
	}
	switch {
	case c.Kind == connector.Add:
		req := goldap.NewAddRequest(c.DN, nil)
		req.Attribute("objectClass", []string{objectClass})
		for name, vs := range c.Attrs {
			req.Attribute(name, strs(vs))
		}
		return "", admin.Add(req)
	case c.Kind == connector.Delete:
		return c.Anchor, admin.Del(goldap.NewDelRequest(c.DN, nil))
	case c.OldDN != "" && !strings.EqualFold(c.OldDN, c.DN):
		p, _ := goldap.ParseDN(c.DN)
		return c.Anchor, admin.ModifyDN(goldap.NewModifyDNRequest(c.OldDN, (&goldap.DN{RDNs: p.RDNs[:1]}).String(), true, ""))
	default:
		req := goldap.NewModifyRequest(c.DN, nil)
		for _, m := range c.Mods {
			req.Replace(m.Name, strs(m.Values))
		}
		return c.Anchor, admin.Modify(req)
	}
}

func (h *slapdHarness) BadChanges(seeded []connector.Object) []connectortest.BadChange {
	return []connectortest.BadChange{
		{Name: "ParentMissing", Change: connector.Change{Kind: connector.Add, Type: "person", DN: "uid=x,ou=nowhere," + h.ou,
			Attrs: connector.Attributes{"cn": {connector.StringValue("x")}, "sn": {connector.StringValue("x")}}}, Want: ldap.ErrParentMissing},
		{Name: "MissingMandatory", Change: connector.Change{Kind: connector.Add, Type: "person", DN: "uid=nosn,ou=people," + h.ou,
			Attrs: connector.Attributes{"cn": {connector.StringValue("x")}}}, Want: connector.ErrInvalidObject},
		{Name: "SingleValuedTwice", Change: connector.Change{Kind: connector.Update, Anchor: seeded[0].Anchor, Type: "person", DN: seeded[0].DN,
			Mods: []connector.Mod{{Name: "title", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue("a")}},
				{Name: "displayName", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue("a"), connector.StringValue("b")}}}},
			Want: connector.ErrConstraint},
	}
}

func TestSlapdConformance(t *testing.T) {
	env := getSlapd(t)
	h := &slapdHarness{t: t, env: env, admin: env.admin(t)}
	connectortest.Run(t, h)
}
