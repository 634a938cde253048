package pgstore_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/pgstore"
)

func findIDs(t *testing.T, s metaverse.Store, attr, v string) []string {
	t.Helper()
	var ids []string
	require.NoError(t, s.View(context.Background(), func(tx metaverse.Tx) error {
		var err error
		ids, err = tx.FindEntries(context.Background(), "", attr, connector.StringValue(v))
		return err
	}))
	return ids
}

// TestFoldedIndex: a folded lookup uses its expression index, and a backup
// restored elsewhere keeps the attribute folded.
func TestFoldedIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, dsn := open(t)
	require.NoError(t, s.IndexFolded(ctx, "mail"))
	require.NoError(t, s.Update(ctx, func(tx metaverse.Tx) error {
		return tx.PutEntry(ctx, &metaverse.Entry{ID: "e1", Type: "person", Attrs: connector.Attributes{"mail": {connector.StringValue("Ada@Contoso.com")}}})
	}))
	assert.Equal(t, []string{"e1"}, findIDs(t, s, "mail", "ada@CONTOSO.com"))

	assert.Contains(t, explain(t, dsn, s.Schema(), `SELECT data FROM entries WHERE (folded -> 'mail') @> '["s:ADA@CONTOSO.COM"]'`), "entries_attr_")

	var buf bytes.Buffer
	require.NoError(t, s.Backup(ctx, &buf))
	r, _ := open(t)
	require.NoError(t, r.Restore(ctx, bytes.NewReader(buf.Bytes())))
	assert.Equal(t, []string{"e1"}, findIDs(t, r, "mail", "ADA@contoso.com"), "folded after a restore")
}

// TestMigrateFromVersion1: a schema of version 1 is upgraded on Open and
// keeps its entries, which an attribute declared folded then finds.
func TestMigrateFromVersion1(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn, schema := newSchema(t)
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	sch := pgx.Identifier{schema}.Sanitize()
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+sch+"; SET search_path = "+sch+"; "+pgstore.Migrations[0]+
		"; CREATE TABLE schema_version (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now()); INSERT INTO schema_version (version) VALUES (1)")
	require.NoError(t, err)
	var count int
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'folded'", schema).Scan(&count))
	require.Zero(t, count, "version 1 has no folded columns")

	s, err := pgstore.Open(ctx, dsn, &pgstore.Options{Schema: schema})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Update(ctx, func(tx metaverse.Tx) error {
		return tx.PutEntry(ctx, &metaverse.Entry{ID: "e1", Type: "person", Attrs: connector.Attributes{"mail": {connector.StringValue("Ada@Contoso.com")}}})
	}))
	require.NoError(t, s.IndexFolded(ctx, "mail"))
	assert.Equal(t, []string{"e1"}, findIDs(t, s, "mail", "ada@contoso.com"))
}
