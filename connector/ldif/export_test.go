package ldif_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldif"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), string(got))
}

func newExporter(t *testing.T) (*ldif.Connector, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "changes.ldif")
	n := 0
	c, err := ldif.New(ldif.Config{
		Schema:     ldif.ActiveDirectorySchema(),
		Types:      adTypes,
		ExportPath: out,
		NewAnchor: func() connector.Anchor {
			n++
			return connector.Anchor(fmt.Sprintf("00000000-0000-4000-8000-%012d", n))
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, out
}

func TestExportGolden(t *testing.T) {
	c, out := newExporter(t)
	str := connector.StringValue
	ada := "CN=Ada Lovelace,OU=Engineering,OU=Contoso,DC=contoso,DC=com"
	changes := []connector.Change{
		{Kind: connector.Add, Type: "user", DN: ada, Attrs: connector.Attributes{
			"cn":                 {str("Ada Lovelace")},
			"sAMAccountName":     {str("ada")},
			"userPrincipalName":  {str("ada@contoso.com")},
			"givenName":          {str("Ada")},
			"sn":                 {str("Lovelace")},
			"proxyAddresses":     {str("smtp:ada.lovelace@contoso.com"), str("SMTP:ada@contoso.com")},
			"userAccountControl": {connector.IntValue(512)},
			"manager":            {connector.RefValue("g-1", "CN=Grace Hopper,OU=Engineering,OU=Contoso,DC=contoso,DC=com")},
			"description":        {str("A description long enough that the writer has to fold it over more than one line of seventy-six columns.")},
		}},
		{Kind: connector.Add, Type: "group", DN: "CN=Engineers,OU=Groups,OU=Contoso,DC=contoso,DC=com", Attrs: connector.Attributes{
			"objectGUID": {connector.BytesValue([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})},
			"groupType":  {connector.IntValue(-2147483646)},
			"member":     {connector.RefValue("", ada)},
		}},
		{Kind: connector.Update, Anchor: "a-3", Type: "user", DN: ada, Mods: []connector.Mod{
			{Name: "title", Op: connector.ModReplace, Values: []connector.Value{str("Countess")}},
			{Name: "proxyAddresses", Op: connector.ModAdd, Values: []connector.Value{str("smtp:countess@contoso.com")}},
			{Name: "proxyAddresses", Op: connector.ModRemove, Values: []connector.Value{str("smtp:ada.lovelace@contoso.com")}},
			{Name: "telephoneNumber", Op: connector.ModRemove},
			{Name: "mS-DS-ConsistencyGuid", Op: connector.ModReplace, Values: []connector.Value{connector.BytesValue([]byte{0xff, 0xfe})}},
		}},
		// A rename within the same OU, then a move with modifications.
		{Kind: connector.Update, Anchor: "a-4", Type: "user", OldDN: "CN=Bob,OU=Sales,OU=Contoso,DC=contoso,DC=com", DN: "CN=Robert,OU=Sales,OU=Contoso,DC=contoso,DC=com"},
		{Kind: connector.Update, Anchor: "a-5", Type: "user", OldDN: "CN=Eve,OU=Sales,OU=Contoso,DC=contoso,DC=com", DN: "CN=Eve,OU=Disabled,OU=Contoso,DC=contoso,DC=com",
			Mods: []connector.Mod{{Name: "userAccountControl", Op: connector.ModReplace, Values: []connector.Value{connector.IntValue(514)}}}},
		{Kind: connector.Delete, Anchor: "a-6", Type: "user", DN: "CN=Mallory,OU=Sales,OU=Contoso,DC=contoso,DC=com"},
	}
	res, err := c.Export(t.Context(), changes)
	require.NoError(t, err)
	require.Len(t, res, len(changes))
	for i, r := range res {
		assert.NoError(t, r.Err, "change %d", i)
	}
	assert.Equal(t, connector.Anchor("00000000-0000-4000-8000-000000000001"), res[0].Anchor, "generated")
	assert.Equal(t, connector.Anchor("03020100-0504-0706-0809-0a0b0c0d0e0f"), res[1].Anchor, "from objectGUID")
	assert.Equal(t, connector.Anchor("a-3"), res[2].Anchor)

	b, err := os.ReadFile(out)
	require.NoError(t, err)
	golden(t, "export.golden.ldif", b)

	// What was written reads back as the same change records.
	recs, errs := readAll(t, string(b))
	assert.Empty(t, errs)
	kinds := []string{}
	for _, r := range recs {
		kinds = append(kinds, r.ChangeType)
	}
	assert.Equal(t, []string{"add", "add", "modify", "modrdn", "modrdn", "modify", "delete"}, kinds)
}

func TestExportRoundTripsThroughImport(t *testing.T) {
	c, out := newExporter(t)
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	res, err := c.Export(t.Context(), []connector.Change{{Kind: connector.Add, Type: "user", DN: "CN=A,DC=x", Attrs: connector.Attributes{
		"cn": {connector.StringValue("A")}, "whenCreated": {connector.TimeValue(when)},
	}}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	rec := importAll(t, newAD(t, out))
	require.Empty(t, rec.Errors)
	objs := rec.Objects()
	require.Len(t, objs, 1)
	assert.Equal(t, res[0].Anchor, objs[0].Anchor, "the generated anchor is written as objectGUID")
	assert.Equal(t, when, objs[0].Attrs["whenCreated"][0].Time())
}

func TestExportFailuresAreAlone(t *testing.T) {
	c, out := newExporter(t)
	good := connector.Change{Kind: connector.Delete, Anchor: "g", Type: "user", DN: "CN=Good,DC=x"}
	tests := []struct {
		name   string
		change connector.Change
		want   error
	}{
		{"no DN", connector.Change{Kind: connector.Delete, Anchor: "x", Type: "user"}, connector.ErrInvalidObject},
		{"unknown type", connector.Change{Kind: connector.Add, Type: "contact", DN: "CN=C,DC=x"}, connector.ErrUnsupported},
		{"attribute not in schema", connector.Change{Kind: connector.Add, Type: "user", DN: "CN=C,DC=x",
			Attrs: connector.Attributes{"shoeSize": {connector.IntValue(42)}}}, connector.ErrInvalidObject},
		{"wrong value type", connector.Change{Kind: connector.Update, Anchor: "x", Type: "user", DN: "CN=C,DC=x",
			Mods: []connector.Mod{{Name: "userAccountControl", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue("512")}}}}, connector.ErrInvalidObject},
		{"reference without DN", connector.Change{Kind: connector.Add, Type: "user", DN: "CN=C,DC=x",
			Attrs: connector.Attributes{"manager": {connector.RefValue("m-1", "")}}}, connector.ErrInvalidObject},
		{"two values of a single-valued attribute", connector.Change{Kind: connector.Add, Type: "user", DN: "CN=C,DC=x",
			Attrs: connector.Attributes{"sn": {connector.StringValue("a"), connector.StringValue("b")}}}, connector.ErrInvalidObject},
		{"bad attribute name", connector.Change{Kind: connector.Update, Anchor: "x", Type: "user", DN: "CN=C,DC=x",
			Mods: []connector.Mod{{Name: "s n", Op: connector.ModRemove}}}, connector.ErrInvalidObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, os.RemoveAll(out))
			res, err := c.Export(t.Context(), []connector.Change{good, tt.change, good})
			require.NoError(t, err)
			require.Len(t, res, 3)
			assert.NoError(t, res[0].Err)
			assert.NoError(t, res[2].Err)
			assert.ErrorIs(t, res[1].Err, tt.want)
			var oe *connector.ObjectError
			require.ErrorAs(t, res[1].Err, &oe)
			assert.Equal(t, tt.change.DN, oe.DN)
			b, err := os.ReadFile(out)
			require.NoError(t, err)
			recs, _ := readAll(t, string(b))
			assert.Len(t, recs, 2, "only the good changes are written")
		})
	}
}

func TestExportWithoutPath(t *testing.T) {
	c := newAD(t, "testdata/import.ldif")
	_, err := c.Export(t.Context(), []connector.Change{{Kind: connector.Delete, DN: "CN=A,DC=x"}})
	assert.ErrorIs(t, err, connector.ErrUnsupported)
}

func TestExportAppends(t *testing.T) {
	c, out := newExporter(t)
	for i := range 2 {
		res, err := c.Export(t.Context(), []connector.Change{{Kind: connector.Delete, Anchor: "x", Type: "user", DN: fmt.Sprintf("CN=%d,DC=x", i)}})
		require.NoError(t, err)
		require.NoError(t, res[0].Err)
	}
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "dn: CN=0,DC=x\nchangetype: delete\n\ndn: CN=1,DC=x\nchangetype: delete\n\n", string(b))
}
