package ldif_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/ldif"
)

// harness seeds an LDIF file. The connector's export appends change
// records rather than changing the file it imports, so the harness does not
// declare it writable (export is checked against golden files instead); it
// has no Mutator, as the connector's delta of a changed file is a full
// import.
type harness struct{ dir string }

var _ connectortest.BadChanger = (*harness)(nil)

func (h *harness) path() string { return filepath.Join(h.dir, "seed.ldif") }

func (h *harness) Seed(ctx context.Context) ([]connector.Object, error) {
	f, err := os.Create(h.path())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w := ldif.NewWriter(f)
	if err := w.WriteVersion(); err != nil {
		return nil, err
	}
	var objs []connector.Object
	ceo := "CN=User 0,OU=Staff,DC=example,DC=com"
	for i := range 5 {
		guid := []byte(fmt.Sprintf("guid-%010d-", i))
		dn := fmt.Sprintf("CN=User %d,OU=Staff,DC=example,DC=com", i)
		rec := &ldif.Record{DN: dn, Attrs: []ldif.Attr{
			{Name: "objectClass", Value: "top"}, {Name: "objectClass", Value: "user"},
			{Name: "cn", Value: fmt.Sprintf("User %d", i)},
			{Name: "objectGUID", Value: string(guid)},
			{Name: "userAccountControl", Value: "512"},
			{Name: "proxyAddresses", Value: fmt.Sprintf("SMTP:user%d@example.com", i)},
			{Name: "whenCreated", Value: "20240101120000.0Z"},
		}}
		o := connector.Object{Anchor: connector.Anchor(ldif.GUIDString(guid)), DN: dn, Type: "user", Attrs: connector.Attributes{
			"cn":                 {connector.StringValue(fmt.Sprintf("User %d", i))},
			"userAccountControl": {connector.IntValue(512)},
			"proxyAddresses":     {connector.StringValue(fmt.Sprintf("SMTP:user%d@example.com", i))},
		}}
		if i > 0 {
			rec.Attrs = append(rec.Attrs, ldif.Attr{Name: "manager", Value: ceo})
			o.Attrs.Set("manager", connector.RefValue("", ceo))
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	return objs, f.Close()
}

func (h *harness) Connector(ctx context.Context) (connector.Connector, error) {
	return ldif.New(ldif.Config{
		Path: h.path(), Schema: ldif.ActiveDirectorySchema(), Types: adTypes,
		ExportPath: filepath.Join(h.dir, "export.ldif"),
	})
}

func (h *harness) BadChanges(seeded []connector.Object) []connectortest.BadChange {
	return []connectortest.BadChange{
		{Name: "UnknownType", Change: connector.Change{Kind: connector.Add, Type: "printer", DN: "CN=P,DC=x"}, Want: connector.ErrUnsupported},
		{Name: "WrongValueType", Change: connector.Change{Kind: connector.Update, Anchor: seeded[0].Anchor, Type: "user", DN: seeded[0].DN,
			Mods: []connector.Mod{{Name: "userAccountControl", Op: connector.ModReplace, Values: []connector.Value{connector.BoolValue(true)}}}}, Want: connector.ErrInvalidObject},
		{Name: "NoDN", Change: connector.Change{Kind: connector.Delete, Anchor: seeded[0].Anchor, Type: "user"}, Want: connector.ErrInvalidObject},
	}
}

func TestConformance(t *testing.T) {
	connectortest.Run(t, &harness{dir: t.TempDir()})
}
