package idbridge_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

func attr(name string, t connector.AttrType) connector.Attribute {
	return connector.Attribute{Name: name, Type: t}
}

func multi(name string, t connector.AttrType) connector.Attribute {
	return connector.Attribute{Name: name, Type: t, Multi: true}
}

var (
	adSchema = &connector.Schema{Types: []connector.ObjectType{
		{Name: "user", Attributes: []connector.Attribute{
			attr("employeeID", connector.String), attr("givenName", connector.String), attr("sn", connector.String),
			attr("mail", connector.String), attr("department", connector.String), attr("title", connector.String),
			attr("manager", connector.Reference), attr("userAccountControl", connector.Integer),
		}},
		{Name: "group", Attributes: []connector.Attribute{attr("cn", connector.String), multi("member", connector.Reference)}},
	}}
	hrSchema = &connector.Schema{Types: []connector.ObjectType{
		{Name: "worker", Attributes: []connector.Attribute{attr("employeeNumber", connector.String), attr("dept", connector.String)}},
	}}
	cloudSchema = &connector.Schema{Types: []connector.ObjectType{
		{Name: "user", Attributes: []connector.Attribute{
			attr("displayName", connector.String), attr("mail", connector.String), attr("department", connector.String),
			attr("accountEnabled", connector.Boolean), attr("immutableId", connector.String), attr("manager", connector.Reference),
		}},
		{Name: "group", Attributes: []connector.Attribute{attr("displayName", connector.String), multi("members", connector.Reference)}},
	}}
)

type fixture struct {
	t     *testing.T
	ctx   context.Context
	store metaverse.Store
	ad    *memconn.System
	hr    *memconn.System
	cloud *memconn.System
	eng   *idbridge.Engine
}

func newFixture(t *testing.T, opts idbridge.Options) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), store: memstore.New(),
		ad: memconn.New(adSchema), hr: memconn.New(hrSchema), cloud: memconn.New(cloudSchema)}
	t.Cleanup(func() { f.store.Close() })
	data, err := os.ReadFile("testdata/engine-rules.yaml")
	require.NoError(t, err)
	rf, err := rules.Parse("testdata/engine-rules.yaml", data)
	require.NoError(t, err)
	f.eng, err = idbridge.New(f.ctx, idbridge.Config{
		Store:      f.store,
		Connectors: map[string]connector.Connector{"ad": f.ad.Connector(), "hr": f.hr.Connector(), "cloud": f.cloud.Connector()},
		Rules:      rf,
		Options:    opts,
	})
	require.NoError(t, err)
	return f
}

func s(v string) []connector.Value { return []connector.Value{connector.StringValue(v)} }

// adUser puts a user in the AD system.
func (f *fixture) adUser(anchor, employeeID, given, sn string, uac int64, more connector.Attributes) {
	attrs := connector.Attributes{
		"employeeID": s(employeeID), "givenName": s(given), "sn": s(sn),
		"mail":               s(given + "." + sn + "@Contoso.com"),
		"department":         s("Sales"),
		"userAccountControl": {connector.IntValue(uac)},
	}
	for k, v := range more {
		attrs[k] = v
	}
	f.ad.Put(connector.Object{Anchor: connector.Anchor(anchor), DN: "CN=" + given + " " + sn + ",OU=Users,DC=contoso,DC=com", Type: "user", Attrs: attrs})
}

func (f *fixture) cycle(mode idbridge.CycleMode) *idbridge.CycleResult {
	f.t.Helper()
	res, err := f.eng.Cycle(f.ctx, mode)
	require.NoError(f.t, err)
	return res
}

// run returns the run of a profile on a connector in a cycle.
func run(t *testing.T, cr *idbridge.CycleResult, conn string, p idbridge.Profile) *idbridge.RunResult {
	t.Helper()
	for _, r := range cr.Runs {
		if r.Connector == conn && r.Profile == p {
			return r
		}
	}
	t.Fatalf("no %s run of %s in the cycle", p, conn)
	return nil
}

// entries returns every metaverse entry.
func (f *fixture) entries() []*metaverse.Entry {
	f.t.Helper()
	var out []*metaverse.Entry
	require.NoError(f.t, f.store.View(f.ctx, func(tx metaverse.Tx) error {
		after := ""
		for {
			page, err := tx.Entries(f.ctx, after, 100)
			if err != nil || len(page) == 0 {
				return err
			}
			out = append(out, page...)
			after = page[len(page)-1].ID
		}
	}))
	return out
}

func (f *fixture) entryBy(attrName, value string) *metaverse.Entry {
	f.t.Helper()
	for _, e := range f.entries() {
		if v, ok := e.Attrs.First(attrName); ok && v.Str() == value {
			return e
		}
	}
	return nil
}

// cloudUser returns the cloud object with the given DN.
func (f *fixture) cloudObject(dn string) (connector.Object, bool) {
	return f.cloud.ByDN(dn)
}
