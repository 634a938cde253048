// Package storebench holds the benchmarks every persistent store runs, so
// that their numbers compare: object writes and reads, join lookups,
// paging through pending imports, and size on disk.
package storebench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// Harness opens an empty store for one benchmark; Size returns its bytes on
// disk.
type Harness struct {
	Open func(b *testing.B) metaverse.Store
	Size func(b *testing.B, s metaverse.Store) int64
}

// Run runs the benchmarks as sub-benchmarks of b.
func Run(b *testing.B, h Harness) {
	b.Run("PutObjects", func(b *testing.B) { putObjects(b, h) })
	b.Run("GetObjects", func(b *testing.B) { getObjects(b, h) })
	b.Run("FindEntries", func(b *testing.B) { findEntries(b, h) })
	b.Run("PendingImports100k", func(b *testing.B) { pendingImports(b, h) })
	b.Run("Size100kEntries", func(b *testing.B) { size(b, h) })
}

// object is a typical AD user in a connector space.
func object(i int) *metaverse.CSObject {
	id := fmt.Sprintf("o%08d", i)
	return &metaverse.CSObject{
		ID: id, Connector: "ad", Anchor: connector.Anchor(fmt.Sprintf("%08x-1111-2222-3333-444455556666", i)),
		DN: fmt.Sprintf("CN=User %d,OU=People,DC=example,DC=com", i), Type: "user",
		Attrs: connector.Attributes{
			"sAMAccountName":     {connector.StringValue(fmt.Sprintf("user%d", i))},
			"userPrincipalName":  {connector.StringValue(fmt.Sprintf("user%d@example.com", i))},
			"mail":               {connector.StringValue(fmt.Sprintf("user%d@example.com", i))},
			"givenName":          {connector.StringValue("Given")},
			"sn":                 {connector.StringValue(fmt.Sprintf("Surname%d", i))},
			"displayName":        {connector.StringValue(fmt.Sprintf("Given Surname%d", i))},
			"objectGUID":         {connector.BytesValue([]byte(fmt.Sprintf("%016d", i)))},
			"userAccountControl": {connector.IntValue(512)},
			"whenChanged":        {connector.TimeValue(time.Unix(1_700_000_000+int64(i), 0))},
			"manager":            {connector.RefValue("aaaa-bbbb", "CN=Boss,OU=People,DC=example,DC=com")},
		},
		Pending: metaverse.ImportAdd, Seen: 1, Imported: time.Unix(1_700_000_000, 0).UTC(),
	}
}

func entry(i int) *metaverse.Entry {
	o := object(i)
	return &metaverse.Entry{
		ID: fmt.Sprintf("e%08d", i), Type: "person", Attrs: o.Attrs,
		Links:   []metaverse.Link{{Connector: "ad", ObjectID: o.ID, Type: metaverse.Provision, Rule: "in-user", Inbound: true}},
		Created: o.Imported, Updated: o.Imported,
	}
}

// load writes objects (or entries) [from, to) in transactions of 1000.
func load(b *testing.B, s metaverse.Store, from, to int, entries bool) {
	ctx := context.Background()
	for i := from; i < to; i += 1000 {
		err := s.Update(ctx, func(tx metaverse.Tx) error {
			for j := i; j < min(i+1000, to); j++ {
				var err error
				if entries {
					err = tx.PutEntry(ctx, entry(j))
				} else {
					err = tx.PutObject(ctx, object(j))
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func putObjects(b *testing.B, h Harness) {
	s := h.Open(b)
	const batch = 1000
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		load(b, s, n*batch, (n+1)*batch, false)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "objects/s")
}

func getObjects(b *testing.B, h Harness) {
	const total, perView = 10_000, 100
	s := h.Open(b)
	load(b, s, 0, total, false)
	ctx := context.Background()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		err := s.View(ctx, func(tx metaverse.Tx) error {
			for j := 0; j < perView; j++ {
				if _, err := tx.Object(ctx, "ad", fmt.Sprintf("o%08d", rand.IntN(total))); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*perView)/b.Elapsed().Seconds(), "gets/s")
}

func findEntries(b *testing.B, h Harness) {
	const total, perView = 10_000, 100
	s := h.Open(b)
	ctx := context.Background()
	if err := s.Index(ctx, "mail"); err != nil {
		b.Fatal(err)
	}
	load(b, s, 0, total, true)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		err := s.View(ctx, func(tx metaverse.Tx) error {
			for j := 0; j < perView; j++ {
				i := rand.IntN(total)
				ids, err := tx.FindEntries(ctx, "person", "mail", connector.StringValue(fmt.Sprintf("user%d@example.com", i)))
				if err != nil {
					return err
				}
				if len(ids) != 1 {
					return fmt.Errorf("FindEntries found %v for user %d", ids, i)
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*perView)/b.Elapsed().Seconds(), "lookups/s")
}

func pendingImports(b *testing.B, h Harness) {
	const total, pageSize = 100_000, 1000
	s := h.Open(b)
	load(b, s, 0, total, false)
	ctx := context.Background()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		seen, after := 0, ""
		for {
			var page []*metaverse.CSObject
			err := s.View(ctx, func(tx metaverse.Tx) error {
				var err error
				page, err = tx.PendingImports(ctx, "ad", after, pageSize)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			seen += len(page)
			after = page[len(page)-1].ID
		}
		if seen != total {
			b.Fatalf("paged through %d pending imports, want %d", seen, total)
		}
	}
	b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "objects/s")
}

func size(b *testing.B, h Harness) {
	const total = 100_000
	for n := 0; n < b.N; n++ {
		s := h.Open(b)
		ctx := context.Background()
		if err := s.Index(ctx, "mail"); err != nil {
			b.Fatal(err)
		}
		load(b, s, 0, total, true)
		b.ReportMetric(float64(h.Size(b, s))/(1<<20), "MiB/100k-entries")
	}
}
