package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/internal/codec"
)

// tx is a metaverse.Tx over one PostgreSQL transaction. PutEntry calls are
// queued and sent as one batch before the next statement or the commit.
type tx struct {
	s      *Store
	ptx    pgx.Tx
	write  bool
	queued pgx.Batch
	// retry is the first serialization failure (or deadlock) seen: the
	// transaction is doomed whatever fn does with the error, and Update
	// runs fn again.
	retry error
	// folded holds the attributes declared folded (foldedAttrs).
	folded map[string]bool
}

var _ metaverse.Tx = (*tx)(nil)

func (t *tx) check(ctx context.Context) error {
	if t.s.closed.Load() {
		return metaverse.ErrClosed
	}
	if t.retry != nil {
		return fmt.Errorf("pgstore: transaction aborted by an earlier conflict: %w: %w", metaverse.ErrConflict, t.retry)
	}
	return ctx.Err()
}

func (t *tx) checkWrite(ctx context.Context) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if !t.write {
		return metaverse.ErrReadOnly
	}
	return nil
}

// fail wraps the error of a statement, noting conflicts for retry.
func (t *tx) fail(op string, err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case isRetryable(err):
		if t.retry == nil {
			t.retry = err
		}
		return fmt.Errorf("pgstore: %s: %w: %w", op, metaverse.ErrConflict, err)
	case t.s.closed.Load():
		return fmt.Errorf("pgstore: %s: %w", op, metaverse.ErrClosed)
	case isConnErr(err):
		return fmt.Errorf("%w: %s: lost the connection in the middle of a transaction, which was not committed: %w", ErrUnavailable, op, err)
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

// flush sends the queued writes.
func (t *tx) flush(ctx context.Context) error {
	n := t.queued.Len()
	if n == 0 {
		return nil
	}
	b := t.queued
	t.queued = pgx.Batch{}
	br := t.ptx.SendBatch(ctx, &b)
	for i := 0; i < n; i++ {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return t.fail("writing entries", err)
		}
	}
	if err := br.Close(); err != nil {
		return t.fail("writing entries", err)
	}
	return nil
}

// query runs a statement that returns rows, after the queued writes.
func (t *tx) query(ctx context.Context, op, sql string, args ...any) (pgx.Rows, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	rows, err := t.ptx.Query(ctx, sql, args...)
	if err != nil {
		return nil, t.fail(op, err)
	}
	return rows, nil
}

// exec runs a statement, after the queued writes, and returns the number
// of rows it touched.
func (t *tx) exec(ctx context.Context, op, sql string, args ...any) (int64, error) {
	if err := t.flush(ctx); err != nil {
		return 0, err
	}
	tag, err := t.ptx.Exec(ctx, sql, args...)
	if err != nil {
		return 0, t.fail(op, err)
	}
	return tag.RowsAffected(), nil
}

// one returns the bytea of a single-row, single-column query, nil when no row.
func (t *tx) one(ctx context.Context, op, sql string, args ...any) ([]byte, error) {
	rows, err := t.query(ctx, op, sql, args...)
	if err != nil {
		return nil, err
	}
	var out []byte
	found := false
	for rows.Next() {
		if err := rows.Scan(&out); err != nil {
			rows.Close()
			return nil, t.fail(op, err)
		}
		found = true
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(op, err)
	}
	if !found {
		return nil, nil
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// collect decodes every row's single bytea column with dec.
func collect[T any](t *tx, ctx context.Context, op string, dec func([]byte) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := t.query(ctx, op, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, t.fail(op, err)
		}
		v, err := dec(b)
		if err != nil {
			return nil, fmt.Errorf("pgstore: %s: %w", op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(op, err)
	}
	return out, nil
}

func limitArg(limit int) any {
	if limit <= 0 {
		return nil // LIMIT NULL: no limit
	}
	return limit
}

// ---- metaverse entries

func (t *tx) Entry(ctx context.Context, id string) (*metaverse.Entry, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	b, err := t.one(ctx, "reading entry", `SELECT data FROM entries WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("pgstore: entry %q: %w", id, metaverse.ErrNotFound)
	}
	e, err := codec.DecodeEntry(b)
	if err != nil {
		return nil, fmt.Errorf("pgstore: entry %q: %w", id, err)
	}
	return e, nil
}

func (t *tx) PutEntry(ctx context.Context, e *metaverse.Entry) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	if e == nil || e.ID == "" {
		return errors.New("pgstore: PutEntry: entry has no ID")
	}
	folded, err := t.foldedAttrs(ctx)
	if err != nil {
		return err
	}
	t.queued.Queue(`INSERT INTO entries (id, type, attrs, data, folded) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET type = excluded.type, attrs = excluded.attrs, data = excluded.data, folded = excluded.folded`,
		e.ID, e.Type, codec.AttrsJSON(e.Attrs), codec.AppendEntry(nil, e), foldedJSON(folded, e.Attrs))
	if t.queued.Len() >= 256 {
		return t.flush(ctx)
	}
	return nil
}

func (t *tx) DeleteEntry(ctx context.Context, id string) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	n, err := t.exec(ctx, "deleting entry", `DELETE FROM entries WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("pgstore: entry %q: %w", id, metaverse.ErrNotFound)
	}
	return nil
}

// quoteLiteral quotes s as an SQL string literal (standard_conforming_strings).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// attrExpr is the expression that indexes and lookups use for one
// attribute; the name is inlined so that the planner matches the
// expression index.
func attrExpr(attr string) string { return "(attrs -> " + quoteLiteral(codec.JSONName(attr)) + ")" }

func indexName(attr string) string {
	h := sha256.Sum256([]byte(attr))
	return "entries_attr_" + hex.EncodeToString(h[:8])
}

func (t *tx) FindEntries(ctx context.Context, entryType, attr string, v connector.Value) ([]string, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	folded, err := t.foldedAttrs(ctx)
	if err != nil {
		return nil, err
	}
	if folded[attr] {
		return t.findBy(ctx, foldedExpr(attr), entryType, attr, v, metaverse.FoldValue)
	}
	return t.findBy(ctx, attrExpr(attr), entryType, attr, v, func(v connector.Value) connector.Value { return v })
}

// findBy is FindEntries by the JSON path expr, on which the values of attr
// are kept as key(value).
func (t *tx) findBy(ctx context.Context, expr, entryType, attr string, v connector.Value, key func(connector.Value) connector.Value) ([]string, error) {
	v = key(v)
	sql := `SELECT data FROM entries WHERE ` + expr + ` @> $1`
	args := []any{codec.ValueJSON(v)}
	if entryType != "" {
		sql += ` AND type = $2`
		args = append(args, entryType)
	}
	sql += ` ORDER BY id`
	entries, err := collect(t, ctx, "finding entries", codec.DecodeEntry, sql, args...)
	if err != nil {
		return nil, err
	}
	// The JSON projection can match more than the value (see
	// codec.AttrsJSON): keep the exact matches.
	want := codec.ValueKey(v)
	var ids []string
	for _, e := range entries {
		for _, w := range e.Attrs[attr] {
			if codec.ValueKey(key(w)) == want {
				ids = append(ids, e.ID)
				break
			}
		}
	}
	return ids, nil
}

func (t *tx) Entries(ctx context.Context, after string, limit int) ([]*metaverse.Entry, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	return collect(t, ctx, "listing entries", codec.DecodeEntry,
		`SELECT data FROM entries WHERE id > $1 ORDER BY id LIMIT $2`, after, limitArg(limit))
}

// ---- connector spaces

func decodeObject(b []byte) (*metaverse.CSObject, error) { return codec.DecodeObject(b) }

func (t *tx) object(ctx context.Context, conn, what, where string, args ...any) (*metaverse.CSObject, error) {
	os, err := collect(t, ctx, "reading object", decodeObject, `SELECT data FROM objects WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, fmt.Errorf("pgstore: connector %q: object %s: %w", conn, what, metaverse.ErrNotFound)
	}
	return os[0], nil
}

func (t *tx) Object(ctx context.Context, connectorName, id string) (*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	return t.object(ctx, connectorName, strconv.Quote(id), `connector = $1 AND id = $2`, connectorName, id)
}

func (t *tx) ObjectByAnchor(ctx context.Context, connectorName string, anchor connector.Anchor) (*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	return t.object(ctx, connectorName, "with anchor "+strconv.Quote(string(anchor)), `connector = $1 AND anchor = $2`, connectorName, string(anchor))
}

func (t *tx) ObjectByDN(ctx context.Context, connectorName, dn string) (*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	return t.object(ctx, connectorName, "with DN "+strconv.Quote(dn),
		`connector = $1 AND dn = $2 ORDER BY id LIMIT 1`, connectorName, connector.FoldDN(dn))
}

func (t *tx) PutObject(ctx context.Context, o *metaverse.CSObject) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	if o == nil || o.ID == "" || o.Connector == "" {
		return errors.New("pgstore: PutObject: object has no ID or connector")
	}
	var anchor any
	if o.Anchor != "" {
		anchor = string(o.Anchor)
	}
	// One statement that inserts or updates unless another object holds
	// the anchor; no row back means the anchor is taken. (Letting the
	// unique index fail would abort the whole transaction.)
	rows, err := t.query(ctx, "writing object", `
		WITH taken AS (SELECT id FROM objects WHERE connector = $1::text AND anchor = $3::text AND id <> $2::text)
		INSERT INTO objects (connector, id, anchor, dn, pending, export, data)
		SELECT $1::text, $2::text, $3::text, $4::text, $5::boolean, $6::boolean, $7::bytea
		WHERE NOT EXISTS (SELECT 1 FROM taken)
		ON CONFLICT (connector, id) DO UPDATE SET anchor = excluded.anchor, dn = excluded.dn,
			pending = excluded.pending, export = excluded.export, data = excluded.data
		RETURNING 1`,
		o.Connector, o.ID, anchor, connector.FoldDN(o.DN), o.Pending != metaverse.ImportNone, o.Export != nil,
		codec.AppendObject(nil, o))
	if err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		return t.fail("writing object", err)
	}
	if n == 0 {
		return fmt.Errorf("pgstore: connector %q: object %q has anchor %q, already held by another object: %w",
			o.Connector, o.ID, o.Anchor, metaverse.ErrConflict)
	}
	return nil
}

func (t *tx) DeleteObject(ctx context.Context, connectorName, id string) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	n, err := t.exec(ctx, "deleting object", `DELETE FROM objects WHERE connector = $1 AND id = $2`, connectorName, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("pgstore: connector %q: object %q: %w", connectorName, id, metaverse.ErrNotFound)
	}
	return nil
}

func (t *tx) objects(ctx context.Context, cond, connectorName, after string, limit int) ([]*metaverse.CSObject, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	return collect(t, ctx, "listing objects", decodeObject,
		`SELECT data FROM objects WHERE connector = $1 AND id > $2`+cond+` ORDER BY id LIMIT $3`,
		connectorName, after, limitArg(limit))
}

func (t *tx) Objects(ctx context.Context, connectorName, after string, limit int) ([]*metaverse.CSObject, error) {
	return t.objects(ctx, "", connectorName, after, limit)
}

func (t *tx) PendingImports(ctx context.Context, connectorName, after string, limit int) ([]*metaverse.CSObject, error) {
	return t.objects(ctx, " AND pending", connectorName, after, limit)
}

func (t *tx) PendingExports(ctx context.Context, connectorName, after string, limit int) ([]*metaverse.CSObject, error) {
	return t.objects(ctx, " AND export", connectorName, after, limit)
}

// ---- watermarks, counters, runs

func (t *tx) Watermark(ctx context.Context, connectorName string) ([]byte, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	return t.one(ctx, "reading watermark", `SELECT wm FROM watermarks WHERE connector = $1`, connectorName)
}

func (t *tx) SetWatermark(ctx context.Context, connectorName string, wm []byte) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	if wm == nil {
		_, err := t.exec(ctx, "deleting watermark", `DELETE FROM watermarks WHERE connector = $1`, connectorName)
		return err
	}
	_, err := t.exec(ctx, "writing watermark", `INSERT INTO watermarks (connector, wm) VALUES ($1, $2)
		ON CONFLICT (connector) DO UPDATE SET wm = excluded.wm`, connectorName, wm)
	return err
}

func (t *tx) Counter(ctx context.Context, name string) (uint64, error) {
	if err := t.check(ctx); err != nil {
		return 0, err
	}
	if err := t.flush(ctx); err != nil {
		return 0, err
	}
	var v int64
	err := t.ptx.QueryRow(ctx, `SELECT v FROM counters WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, t.fail("reading counter", err)
	}
	return uint64(v), nil
}

func (t *tx) SetCounter(ctx context.Context, name string, v uint64) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	_, err := t.exec(ctx, "writing counter", `INSERT INTO counters (name, v) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET v = excluded.v`, name, int64(v))
	return err
}

func (t *tx) AddRun(ctx context.Context, r *metaverse.RunRecord) error {
	if err := t.checkWrite(ctx); err != nil {
		return err
	}
	if err := t.flush(ctx); err != nil {
		return err
	}
	var seq int64
	if err := t.ptx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('runs', 'seq'))`).Scan(&seq); err != nil {
		return t.fail("adding run", err)
	}
	if r.ID == "" {
		r.ID = strconv.FormatInt(seq, 10)
	}
	_, err := t.exec(ctx, "adding run", `INSERT INTO runs (seq, connector, data) VALUES ($1, $2, $3)`,
		seq, r.Connector, codec.AppendRun(nil, r))
	return err
}

func (t *tx) Runs(ctx context.Context, connectorName string, limit int) ([]*metaverse.RunRecord, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	return collect(t, ctx, "listing runs", codec.DecodeRun,
		`SELECT data FROM runs WHERE ($1 = '' OR connector = $1) ORDER BY seq DESC LIMIT $2`,
		connectorName, limitArg(limit))
}

// ---- declared indexes

// Index implements metaverse.Store: it records the attributes and creates
// a GIN expression index on each one's JSONB path, which covers existing
// entries. The indexes have fastupdate off: a join looks up entries
// written moments before, and GIN's pending list would make every lookup
// scan it until the next vacuum.
func (s *Store) Index(ctx context.Context, attrs ...string) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	for _, a := range attrs {
		if a == "" {
			return errors.New("pgstore: Index: empty attribute name")
		}
	}
	return s.Update(ctx, func(mt metaverse.Tx) error {
		t := mt.(*tx)
		// Serialize index creation across engines: two concurrent CREATE
		// INDEX IF NOT EXISTS of one name collide.
		if _, err := t.exec(ctx, "locking indexes", `SELECT pg_advisory_xact_lock(hashtext('idbridge.pgstore.index.' || current_schema()))`); err != nil {
			return err
		}
		for _, a := range attrs {
			if _, err := t.exec(ctx, "declaring index", `INSERT INTO entry_indexes (attr) VALUES ($1) ON CONFLICT DO NOTHING`, a); err != nil {
				return err
			}
			if _, err := t.exec(ctx, "creating index", `CREATE INDEX IF NOT EXISTS `+indexName(a)+
				` ON entries USING gin (`+attrExpr(a)+` jsonb_path_ops) WITH (fastupdate = off)`); err != nil {
				return err
			}
		}
		return nil
	})
}
