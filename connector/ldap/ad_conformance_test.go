package ldap_test

import (
	"context"
	"fmt"
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
		deleteTree(h.admin, h.ou)
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
	return mutate(h.admin, "user", c)
}

func TestADConformance(t *testing.T) {
	env := getAD(t)
	connectortest.Run(t, &adHarness{t: t, env: env, admin: env.admin(t)})
}
