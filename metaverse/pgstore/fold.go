package pgstore

import (
	"context"
	"errors"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/internal/codec"
)

// Case-insensitive indexes (metaverse.FoldIndexer). An attribute declared
// folded has folded = true in entry_indexes; every entry keeps the folded
// values of the folded attributes (metaverse.FoldValue) in the column
// entries.folded, in the JSON projection of the attrs column, and a GIN
// expression index on its path serves FindEntries.

var _ metaverse.FoldIndexer = (*Store)(nil)

// foldedExpr is attrExpr for the folded column.
func foldedExpr(attr string) string {
	return "(folded -> " + quoteLiteral(codec.JSONName(attr)) + ")"
}

func foldedIndexName(attr string) string { return indexName("folded\x00" + attr) }

func createFoldedIndex(attr string) string {
	return `CREATE INDEX IF NOT EXISTS ` + foldedIndexName(attr) + ` ON entries USING gin (` + foldedExpr(attr) + ` jsonb_path_ops) WITH (fastupdate = off)`
}

// foldedAttrs returns the attributes declared folded, read once per
// transaction.
func (t *tx) foldedAttrs(ctx context.Context) (map[string]bool, error) {
	if t.folded != nil {
		return t.folded, nil
	}
	rows, err := t.query(ctx, "reading folded indexes", `SELECT attr FROM entry_indexes WHERE folded`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]bool{}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, t.fail("reading folded indexes", err)
		}
		m[a] = true
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail("reading folded indexes", err)
	}
	t.folded = m
	return m, nil
}

// foldedJSON is the folded column of an entry with attributes a: the
// folded values of the folded attributes, nil when there are none.
func foldedJSON(folded map[string]bool, a connector.Attributes) []byte {
	var fa connector.Attributes
	for attr := range folded {
		vs := a[attr]
		if len(vs) == 0 {
			continue
		}
		if fa == nil {
			fa = connector.Attributes{}
		}
		fvs := make([]connector.Value, len(vs))
		for i, v := range vs {
			fvs[i] = metaverse.FoldValue(v)
		}
		fa[attr] = fvs
	}
	if fa == nil {
		return nil
	}
	return codec.AttrsJSON(fa)
}

// IndexFolded implements metaverse.FoldIndexer: it declares the
// attributes folded, writes the folded values of the existing entries and
// creates a GIN expression index on each one's path in the folded column.
func (s *Store) IndexFolded(ctx context.Context, attrs ...string) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	for _, a := range attrs {
		if a == "" {
			return errors.New("pgstore: IndexFolded: empty attribute name")
		}
	}
	return s.Update(ctx, func(mt metaverse.Tx) error {
		t := mt.(*tx)
		if _, err := t.exec(ctx, "locking indexes", `SELECT pg_advisory_xact_lock(hashtext('idbridge.pgstore.index.' || current_schema()))`); err != nil {
			return err
		}
		before, err := t.foldedAttrs(ctx)
		if err != nil {
			return err
		}
		var added []string
		for _, a := range attrs {
			if before[a] {
				continue
			}
			added = append(added, a)
			if _, err := t.exec(ctx, "declaring index", `INSERT INTO entry_indexes (attr, folded) VALUES ($1, true) ON CONFLICT (attr) DO UPDATE SET folded = true`, a); err != nil {
				return err
			}
		}
		if len(added) == 0 {
			return nil
		}
		t.folded = nil
		folded, err := t.foldedAttrs(ctx)
		if err != nil {
			return err
		}
		if err := t.refold(ctx, folded, added); err != nil {
			return err
		}
		for _, a := range added {
			if _, err := t.exec(ctx, "creating index", createFoldedIndex(a)); err != nil {
				return err
			}
		}
		return nil
	})
}

// refold rewrites the folded column of the entries that have one of the
// attributes added.
func (t *tx) refold(ctx context.Context, folded map[string]bool, added []string) error {
	keys := make([]string, len(added))
	for i, a := range added {
		keys[i] = codec.JSONName(a)
	}
	const page = 1000
	after := ""
	for {
		entries, err := collect(t, ctx, "reading entries to fold", codec.DecodeEntry,
			`SELECT data FROM entries WHERE id > $1 AND attrs ?| $2 ORDER BY id LIMIT $3`, after, keys, page)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if _, err := t.exec(ctx, "folding entries", `UPDATE entries SET folded = $2 WHERE id = $1`, e.ID, foldedJSON(folded, e.Attrs)); err != nil {
				return err
			}
		}
		if len(entries) < page {
			return nil
		}
		after = entries[len(entries)-1].ID
	}
}
