package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Stats describes what a store holds.
type Stats struct {
	// Entries counts metaverse entries by object type.
	Entries map[string]int `json:"entries"`
	// Objects counts connector-space objects by connector.
	Objects map[string]int `json:"objects"`
	// PendingImports counts objects with a pending import, by connector.
	PendingImports map[string]int `json:"pendingImports"`
	// PendingExports counts objects with a pending export, by connector.
	PendingExports map[string]int `json:"pendingExports"`
	// Indexes lists the declared metaverse attribute indexes.
	Indexes []string `json:"indexes"`
	// Bytes is the size on disk of the store's tables and indexes.
	Bytes int64 `json:"bytes"`
}

// Stats counts what the store holds, from one snapshot.
func (s *Store) Stats(ctx context.Context) (*Stats, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	st := &Stats{Entries: map[string]int{}, Objects: map[string]int{}, PendingImports: map[string]int{}, PendingExports: map[string]int{}}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT type, count(*) FROM entries GROUP BY type`)
		var typ string
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&typ, &n}, func() error { st.Entries[typ] = n; return nil }); err != nil {
			return err
		}
		var conn string
		var pi, px int
		rows, _ = tx.Query(ctx, `SELECT connector, count(*), count(*) FILTER (WHERE pending), count(*) FILTER (WHERE export) FROM objects GROUP BY connector`)
		if _, err := pgx.ForEachRow(rows, []any{&conn, &n, &pi, &px}, func() error {
			st.Objects[conn], st.PendingImports[conn], st.PendingExports[conn] = n, pi, px
			return nil
		}); err != nil {
			return err
		}
		var attr string
		rows, _ = tx.Query(ctx, `SELECT attr FROM entry_indexes ORDER BY attr`)
		if _, err := pgx.ForEachRow(rows, []any{&attr}, func() error { st.Indexes = append(st.Indexes, attr); return nil }); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
			JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'`).Scan(&st.Bytes)
	})
	if err != nil {
		return nil, s.connErr("stats", err)
	}
	return st, nil
}
