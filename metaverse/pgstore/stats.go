package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/idbridge/idbridge/metaverse"
)

var _ metaverse.Statser = (*Store)(nil)

// Stats counts what the store holds, from one snapshot. Bytes is the size
// on disk of the schema's tables and their indexes.
func (s *Store) Stats(ctx context.Context) (*metaverse.Stats, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	st := metaverse.NewStats()
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
