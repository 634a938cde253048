package memstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
)

// million is the size of the store the lookup benchmarks run on.
const million = 1_000_000

func benchObject(i int) *metaverse.CSObject {
	return &metaverse.CSObject{
		ID: fmt.Sprintf("o%08d", i), Connector: "ad", Anchor: benchAnchor(i),
		DN: fmt.Sprintf("CN=User %d,OU=Dept%d,DC=contoso,DC=com", i, i%50), Type: "user",
		Attrs: connector.Attributes{
			"employeeID":         {connector.StringValue(fmt.Sprintf("E%08d", i))},
			"mail":               {connector.StringValue(benchMail(i))},
			"department":         {connector.StringValue(fmt.Sprintf("Dept%d", i%50))},
			"whenChanged":        {connector.TimeValue(time.Unix(1_700_000_000+int64(i), 0))},
			"userAccountControl": {connector.IntValue(512)},
		},
		// One object in a thousand has a pending import, as after a delta
		// import.
		Pending: map[bool]metaverse.PendingImport{true: metaverse.ImportUpdate}[i%1000 == 0],
		Seen:    1,
	}
}

func benchAnchor(i int) connector.Anchor { return connector.Anchor(fmt.Sprintf("guid-%08d", i)) }
func benchMail(i int) string             { return fmt.Sprintf("user%d@contoso.com", i) }

func benchEntry(i int) *metaverse.Entry {
	o := benchObject(i)
	return &metaverse.Entry{
		ID: fmt.Sprintf("e%08d", i), Type: "person", Attrs: o.Attrs,
		Sources: map[string]metaverse.Source{"mail": {Connector: "ad", Rule: "in"}},
		Links:   []metaverse.Link{{Connector: "ad", ObjectID: o.ID, Type: metaverse.Provision, Rule: "in", Inbound: true}},
	}
}

// load writes objects and entries [from, to) in Updates of 1000.
func load(tb testing.TB, s metaverse.Store, from, to int, objects, entries bool) {
	ctx := context.Background()
	for i := from; i < to; i += 1000 {
		err := s.Update(ctx, func(tx metaverse.Tx) error {
			for j := i; j < min(i+1000, to); j++ {
				if objects {
					if err := tx.PutObject(ctx, benchObject(j)); err != nil {
						return err
					}
				}
				if entries {
					if err := tx.PutEntry(ctx, benchEntry(j)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// bigStore is a store of a million objects and a million entries, with
// mail indexed, shared by the lookup benchmarks (built once: it takes
// seconds).
var bigStore = sync.OnceValue(func() *memstore.Store {
	s := memstore.New()
	if err := s.Index(context.Background(), "mail"); err != nil {
		panic(err)
	}
	load(nil, s, 0, million, true, true)
	return s
})

// BenchmarkPutObject measures PutObject in Updates of 1000, inserting new
// objects into an empty store (a full import) and replacing objects of a
// store of a million (a delta import).
func BenchmarkPutObject(b *testing.B) {
	ctx := context.Background()
	b.Run("Insert", func(b *testing.B) {
		s := memstore.New()
		objs := make([]*metaverse.CSObject, b.N)
		for i := range objs {
			objs[i] = benchObject(i)
		}
		b.ReportAllocs()
		b.ResetTimer()
		putAll(b, s, objs)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "objects/s")
	})
	b.Run("Replace1M", func(b *testing.B) {
		s := bigStore()
		objs := make([]*metaverse.CSObject, b.N)
		for i := range objs {
			o := benchObject(rand.IntN(million))
			o.Attrs["department"] = []connector.Value{connector.StringValue("Moved")}
			o.Pending = metaverse.ImportUpdate
			objs[i] = o
		}
		b.ReportAllocs()
		b.ResetTimer()
		putAll(b, s, objs)
		b.StopTimer()
		// Put the pending imports back as they were, for the other benchmarks.
		for i := range objs {
			objs[i] = benchObject(objectIndex(objs[i].ID))
		}
		putAll(b, s, objs)
		_ = ctx
	})
}

func objectIndex(id string) int {
	var i int
	fmt.Sscanf(id, "o%d", &i)
	return i
}

func putAll(b *testing.B, s metaverse.Store, objs []*metaverse.CSObject) {
	ctx := context.Background()
	for i := 0; i < len(objs); i += 1000 {
		err := s.Update(ctx, func(tx metaverse.Tx) error {
			for _, o := range objs[i:min(i+1000, len(objs))] {
				if err := tx.PutObject(ctx, o); err != nil {
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

// BenchmarkObjectByAnchor measures anchor lookups in a store of a million
// objects, 100 per View.
func BenchmarkObjectByAnchor(b *testing.B) {
	s := bigStore()
	ctx := context.Background()
	anchors := make([]connector.Anchor, 4096)
	for i := range anchors {
		anchors[i] = benchAnchor(rand.IntN(million))
	}
	b.ReportAllocs()
	b.ResetTimer()
	err := s.View(ctx, func(tx metaverse.Tx) error {
		for i := 0; i < b.N; i++ {
			if _, err := tx.ObjectByAnchor(ctx, "ad", anchors[i%len(anchors)]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFindEntries measures join lookups on an indexed attribute among
// a million entries.
func BenchmarkFindEntries(b *testing.B) {
	s := bigStore()
	ctx := context.Background()
	mails := make([]connector.Value, 4096)
	for i := range mails {
		mails[i] = connector.StringValue(benchMail(rand.IntN(million)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	err := s.View(ctx, func(tx metaverse.Tx) error {
		for i := 0; i < b.N; i++ {
			ids, err := tx.FindEntries(ctx, "person", "mail", mails[i%len(mails)])
			if err != nil {
				return err
			}
			if len(ids) != 1 {
				return fmt.Errorf("found %v", ids)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPendingImports measures paging through the thousand pending
// imports of a connector space of a million objects, in pages of 100: it
// costs O(pending), not O(objects).
func BenchmarkPendingImports(b *testing.B) {
	s := bigStore()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		seen, after := 0, ""
		for {
			var page []*metaverse.CSObject
			err := s.View(ctx, func(tx metaverse.Tx) error {
				var err error
				page, err = tx.PendingImports(ctx, "ad", after, 100)
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
		if seen != million/1000 {
			b.Fatalf("paged through %d pending imports, want %d", seen, million/1000)
		}
	}
	b.ReportMetric(float64(b.N*million/1000)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkObjects measures paging through a page of 1000 objects from
// the middle of a connector space of a million.
func BenchmarkObjects(b *testing.B) {
	s := bigStore()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		err := s.View(ctx, func(tx metaverse.Tx) error {
			os, err := tx.Objects(ctx, "ad", fmt.Sprintf("o%08d", rand.IntN(million-1000)), 1000)
			if err == nil && len(os) != 1000 {
				err = fmt.Errorf("page of %d", len(os))
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "objects/s")
}
