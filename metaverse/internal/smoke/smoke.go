// Package smoke is a quick check of a metaverse.Store's basic behaviour,
// shared by the persistent stores' own tests (format, corruption, backup).
// The full contract is metaverse/storetest's.
package smoke

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// When is a fixed instant for test data.
var When = time.Date(2026, 11, 24, 12, 0, 0, 5, time.UTC)

// Entry returns a sample entry.
func Entry(id, mail string) *metaverse.Entry {
	return &metaverse.Entry{
		ID: id, Type: "person",
		Attrs:   connector.Attributes{"mail": {connector.StringValue(mail)}, "uid": {connector.IntValue(int64(len(id)))}},
		Sources: map[string]metaverse.Source{"mail": {Connector: "ad", Rule: "in"}},
		Links:   []metaverse.Link{{Connector: "ad", ObjectID: "o-" + id, Type: metaverse.Provision, Rule: "in", Inbound: true}},
		Created: When, Updated: When,
	}
}

// Object returns a sample connector-space object.
func Object(id, anchor, dn string) *metaverse.CSObject {
	return &metaverse.CSObject{
		ID: id, Connector: "ad", Anchor: connector.Anchor(anchor), DN: dn, Type: "user",
		Attrs:   connector.Attributes{"cn": {connector.StringValue(id)}, "guid": {connector.BytesValue([]byte{0, 1, 2})}},
		Pending: metaverse.ImportAdd,
		Export:  &metaverse.Export{Kind: connector.Update, Attrs: connector.Attributes{"mail": {}}, State: metaverse.ExportPending, Updated: When},
	}
}

// Fill writes n entries and objects, a watermark, a counter and a run.
func Fill(t testing.TB, s metaverse.Store, n int) {
	ctx := context.Background()
	require.NoError(t, s.Index(ctx, "mail"))
	require.NoError(t, s.Update(ctx, func(tx metaverse.Tx) error {
		for i := 0; i < n; i++ {
			id := string(rune('a'+i%26)) + string(rune('0'+i/26%10))
			if err := tx.PutEntry(ctx, Entry("e-"+id, id+"@example.com")); err != nil {
				return err
			}
			if err := tx.PutObject(ctx, Object("o-"+id, "anchor-"+id, "CN="+id+",DC=example")); err != nil {
				return err
			}
		}
		if err := tx.SetWatermark(ctx, "ad", []byte("cookie")); err != nil {
			return err
		}
		if err := tx.SetCounter(ctx, "gen", 1<<63+5); err != nil {
			return err
		}
		return tx.AddRun(ctx, &metaverse.RunRecord{Connector: "ad", Profile: "FullImport", Started: When, Ended: When, Counts: map[string]int{"adds": n}})
	}))
}

// Verify checks what Fill(n) wrote.
func Verify(t testing.TB, s metaverse.Store, n int) {
	ctx := context.Background()
	require.NoError(t, s.View(ctx, func(tx metaverse.Tx) error {
		es, err := tx.Entries(ctx, "", 0)
		require.NoError(t, err)
		assert.Len(t, es, n)
		ids, err := tx.FindEntries(ctx, "person", "mail", connector.StringValue("a0@example.com"))
		require.NoError(t, err)
		assert.Equal(t, []string{"e-a0"}, ids)
		e, err := tx.Entry(ctx, "e-a0")
		require.NoError(t, err)
		assert.Equal(t, Entry("e-a0", "a0@example.com"), e)
		o, err := tx.ObjectByAnchor(ctx, "ad", "anchor-a0")
		require.NoError(t, err)
		assert.Equal(t, Object("o-a0", "anchor-a0", "CN=a0,DC=example"), o)
		o, err = tx.ObjectByDN(ctx, "ad", "cn=a0, dc=example")
		require.NoError(t, err)
		assert.Equal(t, "o-a0", o.ID)
		pi, err := tx.PendingImports(ctx, "ad", "", 0)
		require.NoError(t, err)
		assert.Len(t, pi, n)
		px, err := tx.PendingExports(ctx, "ad", "", 2)
		require.NoError(t, err)
		assert.Len(t, px, min(2, n))
		wm, err := tx.Watermark(ctx, "ad")
		require.NoError(t, err)
		assert.Equal(t, []byte("cookie"), wm)
		c, err := tx.Counter(ctx, "gen")
		require.NoError(t, err)
		assert.Equal(t, uint64(1<<63+5), c)
		runs, err := tx.Runs(ctx, "ad", 10)
		require.NoError(t, err)
		require.Len(t, runs, 1)
		assert.Equal(t, n, runs[0].Counts["adds"])
		return nil
	}))
}
