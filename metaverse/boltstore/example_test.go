package boltstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/boltstore"
)

func Example() {
	dir, err := os.MkdirTemp("", "idbridge-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := boltstore.Open(filepath.Join(dir, "metaverse.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// Joins look entries up by mail: index it.
	if err := s.Index(ctx, "mail"); err != nil {
		log.Fatal(err)
	}
	err = s.Update(ctx, func(tx metaverse.Tx) error {
		return tx.PutEntry(ctx, &metaverse.Entry{
			ID:    "mv-1",
			Type:  "person",
			Attrs: connector.Attributes{"mail": {connector.StringValue("ada@example.com")}},
		})
	})
	if err != nil {
		log.Fatal(err)
	}
	err = s.View(ctx, func(tx metaverse.Tx) error {
		ids, err := tx.FindEntries(ctx, "person", "mail", connector.StringValue("ada@example.com"))
		fmt.Println(ids)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Entries)
	// Output:
	// [mv-1]
	// map[person:1]
}
