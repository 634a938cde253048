package pgstore

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/internal/codec"
)

var (
	_ metaverse.Backuper = (*Store)(nil)
	_ metaverse.Restorer = (*Store)(nil)
)

// backupFormat names the JSON-lines backup format; backupVersion is its
// version, which Restore checks.
const (
	backupFormat  = "idbridge-pgstore-backup"
	backupVersion = 1
)

// backupLine is one line of a backup. The first line has Format and
// Version; then come indexes, entries, objects, watermarks, counters and
// runs (records in the codec's binary format, base64 in JSON); the last
// line has End, the number of records, so that a truncated backup is
// refused.
type backupLine struct {
	Format    string     `json:"format,omitempty"`
	Version   int        `json:"version,omitempty"`
	Index     string     `json:"index,omitempty"`
	Folded    bool       `json:"folded,omitempty"` // with Index: declared with IndexFolded
	Entry     []byte     `json:"entry,omitempty"`
	Object    []byte     `json:"object,omitempty"`
	Watermark *watermark `json:"watermark,omitempty"`
	Counter   *counter   `json:"counter,omitempty"`
	Run       []byte     `json:"run,omitempty"`
	End       *int       `json:"end,omitempty"`
}

type watermark struct {
	Connector string `json:"connector"`
	WM        []byte `json:"wm"`
}

type counter struct {
	Name string `json:"name"`
	V    uint64 `json:"v"`
}

// Backup writes the whole store to w as JSON lines, from one consistent
// snapshot (a REPEATABLE READ transaction): writers go on meanwhile.
func (s *Store) Backup(ctx context.Context, w io.Writer) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	count := 0
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := enc.Encode(backupLine{Format: backupFormat, Version: backupVersion}); err != nil {
			return err
		}
		each := func(sql string, scan []any, line func() backupLine) error {
			rows, _ := tx.Query(ctx, sql)
			_, err := pgx.ForEachRow(rows, scan, func() error {
				count++
				return enc.Encode(line())
			})
			return err
		}
		var str string
		var b []byte
		var u int64
		var folded bool
		steps := []error{
			each(`SELECT attr, folded FROM entry_indexes ORDER BY attr`, []any{&str, &folded}, func() backupLine { return backupLine{Index: str, Folded: folded} }),
			each(`SELECT data FROM entries ORDER BY id`, []any{&b}, func() backupLine { return backupLine{Entry: b} }),
			each(`SELECT data FROM objects ORDER BY connector, id`, []any{&b}, func() backupLine { return backupLine{Object: b} }),
			each(`SELECT connector, wm FROM watermarks ORDER BY connector`, []any{&str, &b}, func() backupLine {
				return backupLine{Watermark: &watermark{Connector: str, WM: b}}
			}),
			each(`SELECT name, v FROM counters ORDER BY name`, []any{&str, &u}, func() backupLine {
				return backupLine{Counter: &counter{Name: str, V: uint64(u)}}
			}),
			each(`SELECT data FROM runs ORDER BY seq`, []any{&b}, func() backupLine { return backupLine{Run: b} }),
		}
		return errors.Join(steps...)
	})
	if err == nil {
		err = enc.Encode(backupLine{End: &count})
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return s.connErr("backup", err)
	}
	return nil
}

// Restore replaces the whole content of the store with the backup read
// from r, in one transaction: on any error the store is left as it was. A
// backup that is not a pgstore backup, is truncated or holds a damaged
// record fails with metaverse.ErrCorrupt, one of a newer format with
// metaverse.ErrIncompatible, a lost connection with metaverse.ErrUnavailable.
// Stores of other engines sharing the schema see the restored content when
// it commits.
func (s *Store) Restore(ctx context.Context, r io.Reader) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	lines, err := readBackup(r)
	if err != nil {
		return err
	}
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.Serializable}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `TRUNCATE entries, objects, watermarks, counters, runs, entry_indexes`); err != nil {
			return err
		}
		var entries, objects, runs [][]any
		var indexes []string
		folded := map[string]bool{} // indexes come first
		for i, l := range lines {
			switch {
			case l.Index != "":
				indexes = append(indexes, l.Index)
				if l.Folded {
					folded[l.Index] = true
				}
			case l.Entry != nil:
				e, err := codec.DecodeEntry(l.Entry)
				if err != nil {
					return fmt.Errorf("line %d: %w", i+2, err)
				}
				entries = append(entries, []any{e.ID, e.Type, codec.AttrsJSON(e.Attrs), l.Entry, foldedJSON(folded, e.Attrs)})
			case l.Object != nil:
				o, err := codec.DecodeObject(l.Object)
				if err != nil {
					return fmt.Errorf("line %d: %w", i+2, err)
				}
				var anchor any
				if o.Anchor != "" {
					anchor = string(o.Anchor)
				}
				objects = append(objects, []any{o.Connector, o.ID, anchor, connector.FoldDN(o.DN), o.Pending != 0, o.Export != nil, l.Object})
			case l.Watermark != nil:
				wm := l.Watermark.WM
				if wm == nil {
					wm = []byte{}
				}
				if _, err := tx.Exec(ctx, `INSERT INTO watermarks (connector, wm) VALUES ($1, $2)`, l.Watermark.Connector, wm); err != nil {
					return err
				}
			case l.Counter != nil:
				if _, err := tx.Exec(ctx, `INSERT INTO counters (name, v) VALUES ($1, $2)`, l.Counter.Name, int64(l.Counter.V)); err != nil {
					return err
				}
			case l.Run != nil:
				run, err := codec.DecodeRun(l.Run)
				if err != nil {
					return fmt.Errorf("line %d: %w", i+2, err)
				}
				runs = append(runs, []any{int64(len(runs) + 1), run.Connector, l.Run})
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"entries"}, []string{"id", "type", "attrs", "data", "folded"}, pgx.CopyFromRows(entries)); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"objects"}, []string{"connector", "id", "anchor", "dn", "pending", "export", "data"}, pgx.CopyFromRows(objects)); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"runs"}, []string{"seq", "connector", "data"}, pgx.CopyFromRows(runs)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('runs', 'seq'), $1::bigint + 1, false)`, len(runs)); err != nil {
			return err
		}
		for _, a := range indexes {
			if _, err := tx.Exec(ctx, `INSERT INTO entry_indexes (attr, folded) VALUES ($1, $2)`, a, folded[a]); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE INDEX IF NOT EXISTS `+indexName(a)+` ON entries USING gin (`+attrExpr(a)+` jsonb_path_ops) WITH (fastupdate = off)`); err != nil {
				return err
			}
			if folded[a] {
				if _, err := tx.Exec(ctx, createFoldedIndex(a)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return s.connErr("restore", err)
	}
	return nil
}

// readBackup reads and checks a whole backup: header, records, trailer.
func readBackup(r io.Reader) ([]backupLine, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<16))
	var head backupLine
	if err := dec.Decode(&head); err != nil {
		return nil, fmt.Errorf("pgstore: restore: %w: not a pgstore backup: %w", metaverse.ErrCorrupt, err)
	}
	if head.Format != backupFormat {
		return nil, fmt.Errorf("pgstore: restore: %w: not a pgstore backup (format %q)", metaverse.ErrCorrupt, head.Format)
	}
	if head.Version != backupVersion {
		return nil, fmt.Errorf("pgstore: restore: %w: backup format version %d; this build reads version %d", metaverse.ErrIncompatible, head.Version, backupVersion)
	}
	var lines []backupLine
	for {
		var l backupLine
		if err := dec.Decode(&l); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("pgstore: restore: %w: the backup is truncated (no end line)", metaverse.ErrCorrupt)
			}
			return nil, fmt.Errorf("pgstore: restore: %w: line %d: %w", metaverse.ErrCorrupt, len(lines)+2, err)
		}
		if l.End != nil {
			if *l.End != len(lines) {
				return nil, fmt.Errorf("pgstore: restore: %w: the backup says %d records but holds %d", metaverse.ErrCorrupt, *l.End, len(lines))
			}
			return lines, nil
		}
		lines = append(lines, l)
	}
}
