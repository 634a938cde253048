package ldif_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/ldif"
)

var adTypes = []ldif.TypeMap{
	{Type: "user", ObjectClasses: []string{"user"}},
	{Type: "group", ObjectClasses: []string{"group"}},
}

func newAD(t *testing.T, path string) *ldif.Connector {
	t.Helper()
	c, err := ldif.New(ldif.Config{Path: path, Anchor: "objectGUID", Schema: ldif.ActiveDirectorySchema(), Types: adTypes})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func importAll(t *testing.T, c *ldif.Connector) *connectortest.Recorder {
	t.Helper()
	var rec connectortest.Recorder
	require.NoError(t, c.Import(t.Context(), &rec))
	return &rec
}

func TestImport(t *testing.T) {
	rec := importAll(t, newAD(t, "testdata/import.ldif"))

	objs := map[string]connector.Object{}
	for _, o := range rec.Objects() {
		objs[o.DN] = o
	}
	require.Len(t, objs, 4)
	ada := objs["CN=Ada Lovelace,OU=Staff,DC=example,DC=com"]
	assert.Equal(t, connector.Anchor("03020100-0504-0706-0809-0a0b0c0d0e0f"), ada.Anchor)
	assert.Equal(t, "user", ada.Type)
	assert.Equal(t, connector.Attributes{
		"cn":                 {connector.StringValue("Ada Lovelace")},
		"objectGUID":         {connector.BytesValue([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})},
		"sAMAccountName":     {connector.StringValue("ada")},
		"displayName":        {connector.StringValue("Ada Lovelace, Countess of Lovelace")},
		"description":        {connector.StringValue("Mathematician")},
		"proxyAddresses":     {connector.StringValue("SMTP:ada@example.com"), connector.StringValue("smtp:countess@example.com")},
		"userAccountControl": {connector.IntValue(512)},
		"whenCreated":        {connector.TimeValue(time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC))},
		"manager":            {connector.RefValue("", "CN=Charles Babbage,OU=Staff,DC=example,DC=com")},
	}, ada.Attrs)

	charles := objs["CN=Charles Babbage,OU=Staff,DC=example,DC=com"]
	assert.Equal(t, "user", charles.Type)
	assert.Equal(t, []connector.Value{connector.StringValue("Élise")}, charles.Attrs["givenName"])
	assert.Len(t, charles.Attrs["mS-DS-ConsistencyGuid"], 1, ";binary option maps to the attribute")

	group := objs["CN=Analysts,OU=Staff,DC=example,DC=com"]
	assert.Equal(t, "group", group.Type)
	assert.Equal(t, []connector.Value{connector.IntValue(-2147483646)}, group.Attrs["groupType"])
	assert.Len(t, group.Attrs["member"], 2)

	last := objs["CN=Last,OU=Staff,DC=example,DC=com"]
	assert.Equal(t, time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.UTC), last.Attrs["whenCreated"][0].Time())

	type wantErr struct{ where, dn, msg string }
	want := []wantErr{
		{"import.ldif:50", "CN=Bad Base64,OU=Staff,DC=example,DC=com", "line 52: objectGUID: invalid base64"},
		{"import.ldif:55", "", "record does not start with a dn line"},
		{"import.ldif:59", "CN=Bad UAC,OU=Staff,DC=example,DC=com", `line 62: userAccountControl: "abc" is not an integer`},
		{"import.ldif:65", "CN=No GUID,OU=Staff,DC=example,DC=com", "missing anchor attribute objectGUID"},
		{"import.ldif:70", "CN=Ada Twin,OU=Staff,DC=example,DC=com", "already used by the record at line 12"},
		{"import.ldif:75", "CN=Photo,OU=Staff,DC=example,DC=com", "URL values"},
		{"import.ldif:81", "CN=Two Names,OU=Staff,DC=example,DC=com", "single-valued attribute sn has more than one value"},
	}
	require.Len(t, rec.Errors, len(want))
	for i, w := range want {
		e := rec.Errors[i]
		assert.Equal(t, "import", e.Op)
		assert.Equal(t, w.where, e.Where)
		assert.Equal(t, w.dn, e.DN)
		assert.Contains(t, e.Error(), w.msg)
		assert.ErrorIs(t, e, connector.ErrInvalidObject)
		var pe *ldif.ParseError
		assert.ErrorAs(t, e, &pe)
	}
	assert.Equal(t, "checkpoint", rec.Events[len(rec.Events)-1])
	assert.Len(t, rec.Checkpoints, 1)
}

func TestImportAnchorKinds(t *testing.T) {
	const in = `dn: uid=ada,ou=people,dc=example
objectClass: inetOrgPerson
entryUUID: 6b1f0c52-7a7e-4f3c-9d41-0d1e2c3b4a59
employeeID: 1001
uid: ada

dn: uid=bob,ou=people,dc=example
objectClass: inetOrgPerson
entryUUID: 0e9a8c7f-1111-4222-8333-444455556666
employeeID: 1002
uid: bob
`
	schema := &connector.Schema{Types: []connector.ObjectType{{Name: "person", Attributes: []connector.Attribute{
		{Name: "uid", Type: connector.String},
		{Name: "employeeID", Type: connector.String},
	}}}}
	tests := []struct {
		anchor string
		want   []connector.Anchor
	}{
		{"entryUUID", []connector.Anchor{"6b1f0c52-7a7e-4f3c-9d41-0d1e2c3b4a59", "0e9a8c7f-1111-4222-8333-444455556666"}},
		{"employeeID", []connector.Anchor{"1001", "1002"}},
		{"EMPLOYEEID", []connector.Anchor{"1001", "1002"}},
	}
	for _, tt := range tests {
		t.Run(tt.anchor, func(t *testing.T) {
			c, err := ldif.New(ldif.Config{
				Open:   func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(in)), nil },
				Anchor: tt.anchor, Schema: schema,
				Types: []ldif.TypeMap{{Type: "person", ObjectClasses: []string{"inetOrgPerson", "person"}}},
			})
			require.NoError(t, err)
			rec := importAll(t, c)
			require.Empty(t, rec.Errors)
			var got []connector.Anchor
			for _, o := range rec.Objects() {
				got = append(got, o.Anchor)
				assert.NotContains(t, o.Attrs, "entryUUID", "not in the schema: dropped")
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestImportTypeMapping(t *testing.T) {
	const in = `dn: CN=PC1,DC=x
objectClass: top
objectClass: person
objectClass: user
objectClass: computer
objectGUID:: AAECAwQFBgcICQoLDA0ODw==

dn: CN=Ada,DC=x
objectClass: USER
objectGUID:: EBESExQVFhcYGRobHB0eHw==

dn: CN=Contact,DC=x
objectClass: contact
objectGUID:: ICEiIyQlJicoKSorLC0uLw==
`
	schema := &connector.Schema{Types: []connector.ObjectType{
		{Name: "user", Anchor: "objectGUID", Attributes: []connector.Attribute{{Name: "objectGUID", Type: connector.Bytes}}},
		{Name: "computer", Anchor: "objectGUID", Attributes: []connector.Attribute{{Name: "objectGUID", Type: connector.Bytes}}},
	}}
	c, err := ldif.New(ldif.Config{
		Open:   func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(in)), nil },
		Schema: schema,
		Types: []ldif.TypeMap{
			{Type: "computer", ObjectClasses: []string{"computer"}},
			{Type: "user", ObjectClasses: []string{"user"}},
		},
	})
	require.NoError(t, err)
	rec := importAll(t, c)
	require.Empty(t, rec.Errors)
	var got []string
	for _, o := range rec.Objects() {
		got = append(got, o.DN+"="+o.Type)
	}
	assert.Equal(t, []string{"CN=PC1,DC=x=computer", "CN=Ada,DC=x=user"}, got, "first TypeMap wins; contacts out of scope")
}

func TestDeltaImport(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ad.ldif")
	src, err := os.ReadFile("testdata/import.ldif")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, src, 0o644))
	c := newAD(t, path)
	wm := importAll(t, c).Watermark()
	require.NotEmpty(t, wm)

	var d connectortest.Recorder
	require.NoError(t, c.DeltaImport(t.Context(), wm, &d))
	assert.Empty(t, d.Changes, "unchanged file: nothing")
	assert.Equal(t, wm, d.Watermark())

	tests := map[string][]byte{
		"same size": bytes.Replace(src, []byte("ada"), []byte("adb"), 1),
		"appended":  append(append([]byte(nil), src...), "\r\n"...),
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(path, content, 0o644))
			err := c.DeltaImport(t.Context(), wm, &connectortest.Recorder{})
			assert.ErrorIs(t, err, connector.ErrWatermarkExpired)
		})
	}
}

func TestImportFailures(t *testing.T) {
	t.Run("missing file", func(t *testing.T) {
		c := newAD(t, filepath.Join(t.TempDir(), "nope.ldif"))
		err := c.Import(t.Context(), &connectortest.Recorder{})
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		c, err := ldif.New(ldif.Config{
			Open: func() (io.ReadCloser, error) {
				return io.NopCloser(io.MultiReader(strings.NewReader("dn: cn=a,dc=x\nobjectGUID: 1\n\n"), iotestErr{boom})), nil
			},
			Schema: ldif.ActiveDirectorySchema(), Types: adTypes,
		})
		require.NoError(t, err)
		assert.ErrorIs(t, c.Import(t.Context(), &connectortest.Recorder{}), boom)
	})
	t.Run("closed", func(t *testing.T) {
		c := newAD(t, "testdata/import.ldif")
		require.NoError(t, c.Close())
		assert.Error(t, c.Import(t.Context(), &connectortest.Recorder{}))
	})
	t.Run("sink error ends the import", func(t *testing.T) {
		c := newAD(t, "testdata/import.ldif")
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		assert.ErrorIs(t, c.Import(ctx, &connectortest.Recorder{}), context.Canceled)
	})
	t.Run("nothing to import", func(t *testing.T) {
		c, err := ldif.New(ldif.Config{Schema: ldif.ActiveDirectorySchema(), ExportPath: filepath.Join(t.TempDir(), "x")})
		require.NoError(t, err)
		rec := importAll(t, c)
		assert.Equal(t, []string{"checkpoint"}, rec.Events)
	})
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

func TestConfigValidate(t *testing.T) {
	ad := ldif.ActiveDirectorySchema()
	noAnchor := &connector.Schema{Types: []connector.ObjectType{{Name: "user", Attributes: []connector.Attribute{{Name: "cn", Type: connector.String}}}}}
	tests := []struct {
		name string
		cfg  ldif.Config
		want string // "" when valid
	}{
		{"ad", ldif.Config{Path: "x.ldif", Schema: ad, Types: adTypes}, ""},
		{"export only without anchor", ldif.Config{ExportPath: "out.ldif", Schema: noAnchor}, ""},
		{"no schema", ldif.Config{Path: "x.ldif"}, "a Schema is required"},
		{"path and open", ldif.Config{Path: "x", Open: func() (io.ReadCloser, error) { return nil, nil }, Schema: ad}, "not both"},
		{"unknown type", ldif.Config{Schema: ad, Types: []ldif.TypeMap{{Type: "contact", ObjectClasses: []string{"contact"}}}}, `object type "contact" of Types is not in the schema`},
		{"no classes", ldif.Config{Schema: ad, Types: []ldif.TypeMap{{Type: "user"}}}, "no ObjectClasses"},
		{"import without anchor", ldif.Config{Path: "x", Schema: noAnchor}, "no anchor attribute"},
		{"anchor from config", ldif.Config{Path: "x", Schema: noAnchor, Anchor: "cn"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.want)
			_, err = ldif.New(tt.cfg)
			assert.Error(t, err)
		})
	}
}

func TestActiveDirectorySchema(t *testing.T) {
	s := ldif.ActiveDirectorySchema()
	require.NoError(t, s.Validate())
	for _, name := range []string{"user", "group"} {
		typ, ok := s.Type(name)
		require.True(t, ok)
		assert.Equal(t, "objectGUID", typ.Anchor)
	}
	s.Types[0].Attributes = nil
	assert.NotEmpty(t, ldif.ActiveDirectorySchema().Types[0].Attributes, "each call returns a new schema")
}
