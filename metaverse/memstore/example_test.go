package memstore_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
)

func Example() {
	ctx := context.Background()
	store := memstore.New()
	defer store.Close()

	// Joins look entries up by mail: declare the index once.
	if err := store.Index(ctx, "mail"); err != nil {
		panic(err)
	}

	// One transaction stages an imported object and projects its entry.
	err := store.Update(ctx, func(tx metaverse.Tx) error {
		if err := tx.PutObject(ctx, &metaverse.CSObject{
			ID: "cs-1", Connector: "ad", Anchor: "6f1c9e2a", Type: "user",
			DN:      "CN=Ada Lovelace,OU=People,DC=example,DC=com",
			Attrs:   connector.Attributes{"mail": {connector.StringValue("ada@example.com")}},
			Pending: metaverse.ImportAdd,
		}); err != nil {
			return err
		}
		return tx.PutEntry(ctx, &metaverse.Entry{
			ID: "mv-1", Type: "person",
			Attrs: connector.Attributes{"mail": {connector.StringValue("ada@example.com")}},
			Links: []metaverse.Link{{Connector: "ad", ObjectID: "cs-1", Type: metaverse.Provision, Inbound: true}},
		})
	})
	if err != nil {
		panic(err)
	}

	// A failed transaction leaves nothing behind.
	err = store.Update(ctx, func(tx metaverse.Tx) error {
		if err := tx.DeleteEntry(ctx, "mv-1"); err != nil {
			return err
		}
		return errors.New("changed my mind")
	})
	fmt.Println("update:", err)

	err = store.View(ctx, func(tx metaverse.Tx) error {
		ids, err := tx.FindEntries(ctx, "person", "mail", connector.StringValue("ada@example.com"))
		if err != nil {
			return err
		}
		fmt.Println("joined by mail:", ids)

		o, err := tx.ObjectByDN(ctx, "ad", "cn=ada lovelace, ou=people, dc=example, dc=com")
		if err != nil {
			return err
		}
		fmt.Println("by DN:", o.ID, o.Anchor)

		pending, err := tx.PendingImports(ctx, "ad", "", 100)
		if err != nil {
			return err
		}
		fmt.Println("pending imports:", len(pending), pending[0].Pending)

		_, err = tx.Entry(ctx, "mv-2")
		fmt.Println("mv-2 not found:", errors.Is(err, metaverse.ErrNotFound))
		return nil
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// update: changed my mind
	// joined by mail: [mv-1]
	// by DN: cs-1 6f1c9e2a
	// pending imports: 1 add
	// mv-2 not found: true
}
