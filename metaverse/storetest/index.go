package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// index checks Index and FindEntries: lookups by declared (and undeclared)
// attributes, by type and any type, on multi-valued attributes, with
// exact matching (Value.Type and Value.Key: strings case-sensitively,
// references by anchor), following updates and deletes, and indexes
// declared after the data exists.
func (s *suite) index(t *testing.T) {
	ctx := context.Background()
	str := connector.StringValue

	// boss is referenced by anchor; the DN a connector saw may differ.
	boss := connector.RefValue("anchor-boss", "CN=Boss,OU=People,DC=example,DC=com")
	dnOnly := connector.RefValue("", "CN=Only DN,DC=example")
	data := func() []any {
		return []any{
			&metaverse.Entry{ID: "e3", Type: "person", Attrs: connector.Attributes{
				"mail":           {str("ada@example.com")},
				"proxyAddresses": {str("SMTP:ada@example.com"), str("smtp:ada@corp.example.com"), str("smtp:a@example.com")},
				"manager":        {boss},
				"employeeID":     {connector.IntValue(1001)},
			}},
			&metaverse.Entry{ID: "e1", Type: "person", Attrs: connector.Attributes{
				"mail":           {str("grace@example.com")},
				"proxyAddresses": {str("SMTP:grace@example.com"), str("smtp:a@example.com")},
				"manager":        {boss, dnOnly},
				"employeeID":     {connector.StringValue("1001")},
			}},
			&metaverse.Entry{ID: "e2", Type: "group", Attrs: connector.Attributes{
				"mail":           {str("ada@example.com")},
				"proxyAddresses": {str("smtp:a@example.com"), str("smtp:a@example.com")}, // a duplicate value
				"objectGUID":     {connector.BytesValue([]byte("ada@example.com"))},
			}},
			&metaverse.Entry{ID: "e4", Type: "contact", Attrs: connector.Attributes{
				"mail": {str("ADA@EXAMPLE.COM")},
			}},
		}
	}
	declared := []string{"mail", "proxyAddresses", "manager", "employeeID", "objectGUID"}
	lookups := []lookup{
		{"any type", "", "mail", str("ada@example.com"), []string{"e2", "e3"}},
		{"by type", "person", "mail", str("ada@example.com"), []string{"e3"}},
		{"other type", "group", "mail", str("ada@example.com"), []string{"e2"}},
		{"unknown type", "device", "mail", str("ada@example.com"), nil},
		{"case-sensitive", "", "mail", str("Ada@example.com"), nil},
		{"exact case", "", "mail", str("ADA@EXAMPLE.COM"), []string{"e4"}},
		{"no such value", "", "mail", str("nobody@example.com"), nil},
		{"no such attribute", "", "uid", str("ada@example.com"), nil},
		{"multi-valued: first", "", "proxyAddresses", str("SMTP:ada@example.com"), []string{"e3"}},
		{"multi-valued: last", "", "proxyAddresses", str("smtp:a@example.com"), []string{"e1", "e2", "e3"}},
		{"multi-valued: by type", "person", "proxyAddresses", str("smtp:a@example.com"), []string{"e1", "e3"}},
		{"reference by anchor and DN", "", "manager", boss, []string{"e1", "e3"}},
		{"reference by anchor alone", "", "manager", connector.RefValue("anchor-boss", ""), []string{"e1", "e3"}},
		{"reference by anchor, other DN", "", "manager", connector.RefValue("anchor-boss", "CN=Renamed,DC=example"), []string{"e1", "e3"}},
		{"reference, other anchor same DN", "", "manager", connector.RefValue("anchor-other", "CN=Boss,OU=People,DC=example,DC=com"), nil},
		{"reference by DN when it has no anchor", "", "manager", connector.RefValue("", "cn=only dn, dc=example"), []string{"e1"}},
		{"reference is not a string", "", "manager", str("anchor-boss"), nil},
		{"integer", "", "employeeID", connector.IntValue(1001), []string{"e3"}},
		{"string is not an integer", "", "employeeID", str("1001"), []string{"e1"}},
		{"bytes", "", "objectGUID", connector.BytesValue([]byte("ada@example.com")), []string{"e2"}},
		{"bytes are not a string", "", "objectGUID", str("ada@example.com"), nil},
	}
	check := func(t *testing.T, st metaverse.Store) {
		t.Helper()
		checkLookups(t, st, lookups)
	}

	t.Run("Declared", func(t *testing.T) {
		st := s.newStore(t)
		require.NoError(t, st.Index(ctx, declared...))
		put(t, st, data()...)
		check(t, st)
	})

	t.Run("Undeclared", func(t *testing.T) {
		// FindEntries gives the same answers on attributes never declared;
		// it may scan.
		st := s.newStore(t)
		put(t, st, data()...)
		check(t, st)
	})

	t.Run("IndexAfterData", func(t *testing.T) {
		st := s.newStore(t)
		require.NoError(t, st.Index(ctx, "mail"))
		put(t, st, data()...)
		require.NoError(t, st.Index(ctx, declared...), "Index with more attributes")
		check(t, st)
		require.NoError(t, st.Index(ctx, declared...), "Index again")
		require.NoError(t, st.Index(ctx), "Index of nothing")
		check(t, st)
	})

	t.Run("Update", func(t *testing.T) {
		st := s.newStore(t)
		require.NoError(t, st.Index(ctx, declared...))
		put(t, st, data()...)
		update(t, st, func(tx metaverse.Tx) error {
			e, err := tx.Entry(ctx, "e3")
			require.NoError(t, err)
			e.Attrs["mail"] = []connector.Value{str("lovelace@example.com")}                       // changed
			e.Attrs["proxyAddresses"] = []connector.Value{str("SMTP:ada@example.com"), str("x:1")} // one removed, one added
			delete(e.Attrs, "manager")                                                             // removed
			e.Attrs["employeeID"] = []connector.Value{}                                            // no values
			require.NoError(t, tx.PutEntry(ctx, e))
			e2, err := tx.Entry(ctx, "e2")
			require.NoError(t, err)
			e2.Type = "person" // type changed, values kept
			return tx.PutEntry(ctx, e2)
		})
		checkLookups(t, st, []lookup{
			{"old value", "", "mail", str("ada@example.com"), []string{"e2"}},
			{"new value", "", "mail", str("lovelace@example.com"), []string{"e3"}},
			{"kept value", "", "proxyAddresses", str("SMTP:ada@example.com"), []string{"e3"}},
			{"removed value", "", "proxyAddresses", str("smtp:a@example.com"), []string{"e1", "e2"}},
			{"added value", "", "proxyAddresses", str("x:1"), []string{"e3"}},
			{"removed attribute", "", "manager", boss, []string{"e1"}},
			{"attribute with no values", "", "employeeID", connector.IntValue(1001), nil},
			{"new type", "person", "mail", str("ada@example.com"), []string{"e2"}},
			{"old type", "group", "mail", str("ada@example.com"), nil},
		})
	})

	t.Run("Delete", func(t *testing.T) {
		st := s.newStore(t)
		require.NoError(t, st.Index(ctx, declared...))
		put(t, st, data()...)
		update(t, st, func(tx metaverse.Tx) error {
			require.NoError(t, tx.DeleteEntry(ctx, "e3"))
			return tx.DeleteEntry(ctx, "e1")
		})
		assert.Equal(t, []string{"e2"}, find(t, st, "", "mail", str("ada@example.com")))
		assert.Equal(t, []string{"e2"}, find(t, st, "", "proxyAddresses", str("smtp:a@example.com")))
		assert.Empty(t, find(t, st, "", "manager", boss))
		// Put back: found again.
		put(t, st, data()[0])
		assert.Equal(t, []string{"e2", "e3"}, find(t, st, "", "mail", str("ada@example.com")))
	})

	t.Run("ManyMatches", func(t *testing.T) {
		// IDs come back in ascending order whatever the order of writes.
		st := s.newStore(t)
		require.NoError(t, st.Index(ctx, "department"))
		var want []string
		var items []any
		for i := 99; i >= 0; i-- {
			id := seqID("e", i)
			dept := "even"
			if i%2 == 1 {
				dept = "odd"
			} else {
				want = append([]string{id}, want...)
			}
			items = append(items, &metaverse.Entry{ID: id, Type: "person", Attrs: connector.Attributes{"department": {str(dept)}}})
		}
		put(t, st, items...)
		assert.Equal(t, want, find(t, st, "person", "department", str("even")))
	})

	if s.opts.Large {
		t.Run("Large", func(t *testing.T) {
			const n = 10_000
			st := s.newStore(t)
			require.NoError(t, st.Index(ctx, "mail", "department"))
			for from := 0; from < n; from += 1000 {
				update(t, st, func(tx metaverse.Tx) error {
					for i := from; i < from+1000; i++ {
						typ := "person"
						if i%10 == 0 {
							typ = "group"
						}
						e := &metaverse.Entry{ID: seqID("e", i), Type: typ, Attrs: connector.Attributes{
							"mail":       {str(fmt.Sprintf("user%d@example.com", i))},
							"department": {str(fmt.Sprintf("dept%d", i%7))},
						}}
						if err := tx.PutEntry(ctx, e); err != nil {
							return err
						}
					}
					return nil
				})
			}
			view(t, st, func(tx metaverse.Tx) error {
				for _, i := range []int{0, 1, 4999, 9990, 9999} {
					ids, err := tx.FindEntries(ctx, "", "mail", str(fmt.Sprintf("user%d@example.com", i)))
					require.NoError(t, err)
					assert.Equal(t, []string{seqID("e", i)}, ids)
				}
				ids, err := tx.FindEntries(ctx, "group", "department", str("dept3"))
				require.NoError(t, err)
				var want []string
				for i := 0; i < n; i++ {
					if i%10 == 0 && i%7 == 3 {
						want = append(want, seqID("e", i))
					}
				}
				assert.Equal(t, want, ids)
				return nil
			})
		})
	}
}

// lookup is a FindEntries call and the IDs it must return.
type lookup struct {
	name      string
	typ, attr string
	v         connector.Value
	want      []string
}

// checkLookups runs each lookup in a View of st.
func checkLookups(t *testing.T, st metaverse.Store, lookups []lookup) {
	t.Helper()
	for _, l := range lookups {
		got := find(t, st, l.typ, l.attr, l.v)
		if len(l.want) == 0 {
			assert.Empty(t, got, l.name)
		} else {
			assert.Equal(t, l.want, got, l.name)
		}
	}
}
