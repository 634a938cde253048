package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/metaverse"
)

// pagingIDs are IDs whose byte order differs from the order of most
// collations (upper case before lower case, punctuation, non-ASCII),
// written in no particular order. Paging is by Go's string order.
var pagingIDs = []string{"b", "a-1", "B", "a", "aB", "ab", "a1", "a_1", "Z", "é", "~", "0", "a.b", "A"}

// paging checks Entries and Objects: ascending byte order of IDs, after
// (exclusive, and any string, not only an existing ID), limit (<= 0: no
// limit), empty results, and connector spaces kept apart.
func (s *suite) paging(t *testing.T) {
	ctx := context.Background()
	sorted := slices.Sorted(slices.Values(pagingIDs))

	type pager func(tx metaverse.Tx, after string, limit int) ([]string, error)
	entriesPager := func(tx metaverse.Tx, after string, limit int) ([]string, error) {
		es, err := tx.Entries(ctx, after, limit)
		return entryIDs(es), err
	}
	objectsPager := func(conn string) pager {
		return func(tx metaverse.Tx, after string, limit int) ([]string, error) {
			os, err := tx.Objects(ctx, conn, after, limit)
			return objectIDs(os), err
		}
	}
	// checkPaging pages through all and checks the edge cases.
	checkPaging := func(t *testing.T, st metaverse.Store, p pager, want []string) {
		t.Helper()
		view(t, st, func(tx metaverse.Tx) error {
			for _, c := range []struct {
				name  string
				after string
				limit int
				want  []string
			}{
				{"all, limit 0", "", 0, want},
				{"all, negative limit", "", -1, want},
				{"all, large limit", "", len(want) + 10, want},
				{"first", "", 1, want[:1]},
				{"first three", "", 3, want[:min(3, len(want))]},
				{"after the first", want[0], 2, want[1:min(3, len(want))]},
				{"after an ID that does not exist", "a0", 0, idsAfter(want, "a0")},
				{"after the last", want[len(want)-1], 0, nil},
				{"after everything", "\U0010ffff", 5, nil},
			} {
				got, err := p(tx, c.after, c.limit)
				require.NoError(t, err, c.name)
				if len(c.want) == 0 {
					assert.Empty(t, got, c.name)
				} else {
					assert.Equal(t, c.want, got, c.name)
				}
			}
			for _, size := range []int{1, 2, 5} {
				var all []string
				after := ""
				for i := 0; ; i++ {
					require.Less(t, i, len(want)+2, "paging does not end")
					page, err := p(tx, after, size)
					require.NoError(t, err)
					require.LessOrEqual(t, len(page), size, "page longer than the limit")
					if len(page) == 0 {
						break
					}
					all = append(all, page...)
					after = page[len(page)-1]
				}
				assert.Equal(t, want, all, "pages of %d", size)
			}
			return nil
		})
	}

	t.Run("Empty", func(t *testing.T) {
		st := s.newStore(t)
		view(t, st, func(tx metaverse.Tx) error {
			es, err := tx.Entries(ctx, "", 10)
			require.NoError(t, err)
			assert.Empty(t, es)
			os, err := tx.Objects(ctx, "ad", "", 10)
			require.NoError(t, err, "Objects of a connector space never written")
			assert.Empty(t, os)
			os, err = tx.Objects(ctx, "", "", 0)
			require.NoError(t, err)
			assert.Empty(t, os)
			return nil
		})
	})

	t.Run("Entries", func(t *testing.T) {
		st := s.newStore(t)
		var items []any
		for _, id := range pagingIDs {
			items = append(items, person(id, id+"@example.com"))
		}
		put(t, st, items...)
		checkPaging(t, st, entriesPager, sorted)
		// Whole entries come back, not just IDs.
		view(t, st, func(tx metaverse.Tx) error {
			es, err := tx.Entries(ctx, "", 1)
			require.NoError(t, err)
			require.Len(t, es, 1)
			assert.Equal(t, normEntry(person(sorted[0], sorted[0]+"@example.com")), normEntry(es[0]))
			return nil
		})
	})

	t.Run("Objects", func(t *testing.T) {
		st := s.newStore(t)
		var items []any
		for _, id := range pagingIDs {
			items = append(items, object("ad", id, "", "CN="+id))
		}
		// Another connector space with other IDs and one shared ID.
		items = append(items, object("entra", "a", "", "x"), object("entra", "zz", "", "y"), object("ad2", "aa", "", ""))
		put(t, st, items...)
		checkPaging(t, st, objectsPager("ad"), sorted)
		checkPaging(t, st, objectsPager("entra"), []string{"a", "zz"})
		view(t, st, func(tx metaverse.Tx) error {
			os, err := tx.Objects(ctx, "ad", "", 1)
			require.NoError(t, err)
			require.Len(t, os, 1)
			assert.Equal(t, normObject(object("ad", sorted[0], "", "CN="+sorted[0])), normObject(os[0]))
			os, err = tx.Objects(ctx, "unknown", "", 0)
			require.NoError(t, err)
			assert.Empty(t, os)
			return nil
		})
	})

	t.Run("AfterDelete", func(t *testing.T) {
		// Deleting the object a pager stands on does not lose the rest.
		st := s.newStore(t)
		put(t, st, object("ad", "o1", "", ""), object("ad", "o2", "", ""), object("ad", "o3", "", ""),
			person("e1", "x"), person("e2", "x"), person("e3", "x"))
		update(t, st, func(tx metaverse.Tx) error {
			os, err := tx.Objects(ctx, "ad", "", 1)
			require.NoError(t, err)
			require.NoError(t, tx.DeleteObject(ctx, "ad", os[0].ID))
			os, err = tx.Objects(ctx, "ad", os[0].ID, 0)
			require.NoError(t, err)
			assert.Equal(t, []string{"o2", "o3"}, objectIDs(os))

			es, err := tx.Entries(ctx, "", 2)
			require.NoError(t, err)
			require.NoError(t, tx.DeleteEntry(ctx, es[1].ID))
			es, err = tx.Entries(ctx, es[1].ID, 0)
			require.NoError(t, err)
			assert.Equal(t, []string{"e3"}, entryIDs(es))
			return nil
		})
	})

	if s.opts.Large {
		t.Run("Large", func(t *testing.T) {
			const n = 10_000
			st := s.newStore(t)
			want := make([]string, n)
			for from := 0; from < n; from += 1000 {
				update(t, st, func(tx metaverse.Tx) error {
					// Written in descending order within each batch.
					for i := from + 999; i >= from; i-- {
						want[i] = seqID("x", i)
						if err := tx.PutEntry(ctx, person(want[i], "m")); err != nil {
							return err
						}
						o := object("ad", want[i], seqID("anchor", i), seqID("CN=", i))
						if i%3 == 0 {
							o.Pending = metaverse.ImportAdd
						}
						if err := tx.PutObject(ctx, o); err != nil {
							return err
						}
					}
					return nil
				})
			}
			var pending []string
			for i := 0; i < n; i += 3 {
				pending = append(pending, seqID("x", i))
			}
			pendingPager := func(tx metaverse.Tx, after string, limit int) ([]string, error) {
				os, err := tx.PendingImports(ctx, "ad", after, limit)
				return objectIDs(os), err
			}
			for _, c := range []struct {
				name string
				p    pager
				want []string
			}{
				{"Entries", entriesPager, want},
				{"Objects", objectsPager("ad"), want},
				{"PendingImports", pendingPager, pending},
			} {
				view(t, st, func(tx metaverse.Tx) error {
					var all []string
					after := ""
					for {
						page, err := c.p(tx, after, 999)
						require.NoError(t, err, c.name)
						if len(page) == 0 {
							break
						}
						all = append(all, page...)
						after = page[len(page)-1]
					}
					assert.Equal(t, c.want, all, c.name)
					page, err := c.p(tx, c.want[len(c.want)/2], 2)
					require.NoError(t, err)
					assert.Equal(t, c.want[len(c.want)/2+1:len(c.want)/2+3], page, c.name+" from the middle")
					return nil
				})
			}
		})
	}
}

// idsAfter returns the IDs of sorted greater than after.
func idsAfter(sorted []string, after string) []string {
	i, found := slices.BinarySearch(sorted, after)
	if found {
		i++
	}
	return sorted[i:]
}
