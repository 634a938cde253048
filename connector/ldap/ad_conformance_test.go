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

// adHarness runs the conformance suite against the Samba AD DC, in an OU
// of its own that Seed replaces.
type adHarness struct {
	t     *testing.T
	env   adEnv
	admin *goldap.Conn
	ou    string
	tag   string
}

var (
	_ connectortest.Mutator     = (*adHarness)(nil)
	_ connectortest.ObjectMaker = (*adHarness)(nil)
	_ connectortest.Configurer  = (*adHarness)(nil)
)

func (h *adHarness) Seed(ctx context.Context) ([]connector.Object, error) {
	if h.ou != "" {
		adDeleteTree(h.admin, h.ou)
	}
	h.ou = h.env.newOU(h.t, h.admin)
	h.tag = uniqueName("")
	var objs []connector.Object
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("seed%d-%s", i, h.tag)
		dn := adUser(h.t, h.admin, h.ou, name, map[string][]string{"description": {"seeded"}})
		objs = append(objs, connector.Object{DN: dn, Type: "user", Attrs: connector.Attributes{
			"sAMAccountName": {connector.StringValue(name)},
		}})
	}
	return objs, nil
}

func (h *adHarness) Connector(ctx context.Context) (connector.Connector, error) {
	cfg := h.env.config(h.ou)
	cfg.Types = cfg.Types[:1]
	cfg.Types[0].Attributes = []string{"cn", "sAMAccountName", "sn", "title", "description", "manager"}
	return ldap.New(cfg)
}

func (h *adHarness) Options() connectortest.Options {
	return connectortest.Options{Writable: true, ModifyAttribute: "title"}
}

func (h *adHarness) NewObject(n int) connector.Object {
	name := fmt.Sprintf("new%d-%s", n, h.tag)
	return connector.Object{DN: "CN=" + name + ",OU=Users," + h.ou, Type: "user", Attrs: connector.Attributes{
		"sAMAccountName": {connector.StringValue(name)},
		"sn":             {connector.StringValue("New")},
	}}
}

func (h *adHarness) Mutate(ctx context.Context, c connector.Change) (connector.Anchor, error) {
	return adMutate(h.admin, c)
}

// TestADConformance runs the suite alone (not in parallel with the other
// AD tests: Go runs it before releasing them), since its delta checks
// want no change but its own in the whole domain.
func TestADConformance(t *testing.T) {
	env := getAD(t)
	connectortest.Run(t, &adHarness{t: t, env: env, admin: env.admin(t)})
}

// adMutate applies a conformance-suite change out of band, as an
// administrator would, through a raw connection.
func adMutate(admin *goldap.Conn, c connector.Change) (connector.Anchor, error) {
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
		req.Attribute("objectClass", []string{"user"})
		for name, vs := range c.Attrs {
			req.Attribute(name, strs(vs))
		}
		return "", admin.Add(req)
	case c.Kind == connector.Delete:
		return c.Anchor, admin.Del(goldap.NewDelRequest(c.DN, nil))
	case c.OldDN != "" && !strings.EqualFold(c.OldDN, c.DN):
		p, err := goldap.ParseDN(c.DN)
		if err != nil {
			return "", err
		}
		parent := (&goldap.DN{RDNs: p.RDNs[1:]}).String()
		return c.Anchor, admin.ModifyDN(goldap.NewModifyDNRequest(c.OldDN, (&goldap.DN{RDNs: p.RDNs[:1]}).String(), true, parent))
	default:
		req := goldap.NewModifyRequest(c.DN, nil)
		for _, m := range c.Mods {
			req.Replace(m.Name, strs(m.Values))
		}
		return c.Anchor, admin.Modify(req)
	}
}
