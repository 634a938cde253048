package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/idbridge/idbridge/metaverse"
)

// SchemaVersion is the version of the tables this build creates. Open
// applies the migrations from the version found to this one, and refuses a
// newer version with metaverse.ErrIncompatible.
const SchemaVersion = 2

// migrations[i] takes the schema from version i to i+1. Text columns use
// the "C" collation so that ID order is byte order, as in every store.
var migrations = []string{
	0: `
CREATE TABLE entries (
	id    text COLLATE "C" PRIMARY KEY,
	type  text COLLATE "C" NOT NULL,
	attrs jsonb NOT NULL,
	data  bytea NOT NULL
);
CREATE TABLE objects (
	connector text COLLATE "C" NOT NULL,
	id        text COLLATE "C" NOT NULL,
	anchor    text COLLATE "C",
	dn        text COLLATE "C" NOT NULL,
	pending   boolean NOT NULL,
	export    boolean NOT NULL,
	data      bytea NOT NULL,
	PRIMARY KEY (connector, id)
);
CREATE UNIQUE INDEX objects_anchor ON objects (connector, anchor) WHERE anchor IS NOT NULL;
CREATE INDEX objects_dn ON objects (connector, dn, id);
CREATE INDEX objects_pending ON objects (connector, id) WHERE pending;
CREATE INDEX objects_export ON objects (connector, id) WHERE export;
CREATE TABLE watermarks (connector text COLLATE "C" PRIMARY KEY, wm bytea NOT NULL);
CREATE TABLE counters (name text COLLATE "C" PRIMARY KEY, v bigint NOT NULL);
CREATE TABLE runs (
	seq       bigserial PRIMARY KEY,
	connector text COLLATE "C" NOT NULL,
	data      bytea NOT NULL
);
CREATE INDEX runs_connector ON runs (connector, seq);
CREATE TABLE entry_indexes (attr text COLLATE "C" PRIMARY KEY);
`,
	// Case-insensitive join indexes (metaverse.FoldIndexer): no table
	// rewrite, the new column is NULL until an attribute is declared folded.
	1: `
ALTER TABLE entry_indexes ADD COLUMN folded boolean NOT NULL DEFAULT false;
ALTER TABLE entries ADD COLUMN folded jsonb;
`,
}

// migrate creates or upgrades the schema, holding an advisory lock so
// that engines starting together do not race.
func (s *Store) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('idbridge.pgstore.' || $1))`, s.opts.Schema); err != nil {
			return s.connErr("locking the schema for migration", err)
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{s.opts.Schema}.Sanitize()); err != nil {
			return fmt.Errorf("pgstore: creating schema %s: %w", s.opts.Schema, err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("pgstore: creating schema_version: %w", err)
		}
		var version int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&version); err != nil {
			return fmt.Errorf("pgstore: reading schema_version: %w", err)
		}
		if version > SchemaVersion {
			return fmt.Errorf("%w: schema %s has version %d, written by a newer idbridge; this build uses version %d",
				metaverse.ErrIncompatible, s.opts.Schema, version, SchemaVersion)
		}
		for v := version; v < SchemaVersion; v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("pgstore: migrating schema %s from version %d to %d: %w", s.opts.Schema, v, v+1, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, v+1); err != nil {
				return fmt.Errorf("pgstore: recording schema version %d: %w", v+1, err)
			}
		}
		return nil
	})
}
