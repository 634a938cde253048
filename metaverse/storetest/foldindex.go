package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// foldIndex checks metaverse.FoldIndexer, when the store has it:
// FindEntries on an attribute declared with IndexFolded matches strings
// case-insensitively (metaverse.FoldString) and other types exactly,
// follows updates, deletes and rolled-back writes, covers entries written
// before the declaration, and turns an exact index folded; an exact
// declaration afterwards leaves it folded.
func (s *suite) foldIndex(t *testing.T) {
	if _, ok := s.newStore(t).(metaverse.FoldIndexer); !ok {
		t.Skip("the store does not implement metaverse.FoldIndexer")
	}
	ctx := context.Background()
	str := connector.StringValue
	data := func() []any {
		return []any{
			&metaverse.Entry{ID: "e1", Type: "person", Attrs: connector.Attributes{
				"mail":       {str("Ada@Contoso.com")},
				"proxies":    {str("SMTP:ada@contoso.com"), str("smtp:A@Example.com")},
				"employeeID": {connector.IntValue(7)},
				"upn":        {str("ada@contoso.com")},
			}},
			&metaverse.Entry{ID: "e2", Type: "group", Attrs: connector.Attributes{
				"mail": {str("ada@contoso.com")},
			}},
			&metaverse.Entry{ID: "e3", Type: "person", Attrs: connector.Attributes{
				"mail":    {str("ÉLODIE@contoso.com")},
				"proxies": {str("smtp:a@example.com")},
				"guid":    {connector.BytesValue([]byte("ADA@CONTOSO.COM"))},
			}},
		}
	}
	folded := []string{"mail", "proxies", "employeeID", "guid"}
	lookups := []lookup{
		{"other case", "", "mail", str("ada@contoso.com"), []string{"e1", "e2"}},
		{"upper case", "", "mail", str("ADA@CONTOSO.COM"), []string{"e1", "e2"}},
		{"exact case", "", "mail", str("Ada@Contoso.com"), []string{"e1", "e2"}},
		{"by type", "person", "mail", str("ada@CONTOSO.com"), []string{"e1"}},
		{"unicode", "", "mail", str("élodie@Contoso.com"), []string{"e3"}},
		{"other value", "", "mail", str("bob@contoso.com"), nil},
		{"multi-valued", "", "proxies", str("SMTP:A@EXAMPLE.COM"), []string{"e1", "e3"}},
		{"integer exactly", "", "employeeID", connector.IntValue(7), []string{"e1"}},
		{"a string is not an integer", "", "employeeID", str("7"), nil},
		{"bytes exactly", "", "guid", connector.BytesValue([]byte("ADA@CONTOSO.COM")), []string{"e3"}},
		{"bytes are not folded", "", "guid", connector.BytesValue([]byte("ada@contoso.com")), nil},
		{"exact index stays exact", "", "upn", str("ADA@contoso.com"), nil},
	}
	check := func(t *testing.T, st metaverse.Store) {
		t.Helper()
		checkLookups(t, st, lookups)
	}

	t.Run("Declared", func(t *testing.T) {
		st := s.newStore(t)
		require.NoError(t, st.(metaverse.FoldIndexer).IndexFolded(ctx, folded...))
		require.NoError(t, st.Index(ctx, "upn"))
		put(t, st, data()...)
		check(t, st)
	})

	t.Run("AfterData", func(t *testing.T) {
		st := s.newStore(t)
		require.NoError(t, st.Index(ctx, "mail", "upn"))
		put(t, st, data()...)
		assert.Equal(t, []string{"e2"}, find(t, st, "", "mail", str("ada@contoso.com")), "exact before IndexFolded")
		require.NoError(t, st.(metaverse.FoldIndexer).IndexFolded(ctx, folded...))
		check(t, st)
		require.NoError(t, st.Index(ctx, folded...), "Index after IndexFolded")
		require.NoError(t, st.(metaverse.FoldIndexer).IndexFolded(ctx, folded...), "IndexFolded again")
		check(t, st)
	})

	t.Run("UpdateAndDelete", func(t *testing.T) {
		st := s.newStore(t)
		require.NoError(t, st.(metaverse.FoldIndexer).IndexFolded(ctx, folded...))
		put(t, st, data()...)
		update(t, st, func(tx metaverse.Tx) error {
			e, err := tx.Entry(ctx, "e1")
			require.NoError(t, err)
			e.Attrs["mail"] = []connector.Value{str("Lovelace@Contoso.com")}
			require.NoError(t, tx.PutEntry(ctx, e))
			return tx.DeleteEntry(ctx, "e2")
		})
		assert.Empty(t, find(t, st, "", "mail", str("ada@contoso.com")))
		assert.Equal(t, []string{"e1"}, find(t, st, "", "mail", str("LOVELACE@contoso.COM")))

		// A rolled-back write leaves the index as it was.
		errRollback := errors.New("storetest: roll back")
		err := st.Update(ctx, func(tx metaverse.Tx) error {
			require.NoError(t, tx.PutEntry(ctx, &metaverse.Entry{ID: "e9", Type: "person", Attrs: connector.Attributes{"mail": {str("ADA@contoso.com")}}}))
			return errRollback
		})
		require.ErrorIs(t, err, errRollback)
		assert.Empty(t, find(t, st, "", "mail", str("ada@contoso.com")))
	})
}
