package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/idbridge/idbridge/metaverse"
)

// fenceIdleTimeout bounds how long a fenced transaction may sit idle
// (its process paused, or cut off): the server ends it after this long,
// so that a deposed leader's open transaction cannot hold up the new
// leader's writes (a share lock on the fence row, or SERIALIZABLE
// conflicts with its reads) for longer.
const fenceIdleTimeout = "5s"

var _ metaverse.Fencer = (*Store)(nil)

// Fenced implements metaverse.Fencer. The fence is a row (key, term) in
// the table fences of the store's schema. Each write transaction of the
// view ends, after its writes and just before COMMIT, by reading that row
// FOR SHARE: a higher term fails the transaction with metaverse.ErrFenced;
// a lower term (or none) is raised to term. Because transactions are
// SERIALIZABLE, a transaction that began before a newer term's first commit
// and checks after it gets a serialization failure, is run again, and then
// sees the newer term: an old leader's commit fails however late it comes.
// The view shares the store's pool; its Close does nothing.
func (s *Store) Fenced(key string, term uint64) metaverse.Store {
	return &fencedStore{Store: s, f: &fence{key: key, term: term}}
}

// fence is the key and term a fenced view's write transactions carry.
type fence struct {
	key  string
	term uint64
}

type fencedStore struct {
	*Store
	f *fence
}

var _ metaverse.Store = (*fencedStore)(nil)

// Update implements metaverse.Store: fn runs as in Store.Update, and the
// transaction commits only while the view's term is the newest.
func (s *fencedStore) Update(ctx context.Context, fn func(tx metaverse.Tx) error) error {
	if err := s.ensureFences(ctx); err != nil {
		return err
	}
	return s.run(ctx, true, s.f, fn)
}

// Close does nothing: the store belongs to whoever opened it.
func (s *fencedStore) Close() error { return nil }

// ensureFences creates the fences table once per Store; it is not part of
// the migrations because only fenced stores use it.
func (s *Store) ensureFences(ctx context.Context) error {
	if s.fences.Load() {
		return nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('idbridge.pgstore.' || $1))`, s.opts.Schema); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS fences (key text COLLATE "C" PRIMARY KEY, term bigint NOT NULL)`)
		return err
	})
	if err != nil {
		return s.connErr("creating the fences table", err)
	}
	s.fences.Store(true)
	return nil
}

// checkFence is the last statement of a fenced transaction before COMMIT.
func (t *tx) checkFence(ctx context.Context, f *fence) error {
	if int64(f.term) < 0 {
		return fmt.Errorf("pgstore: fencing term %d is out of range", f.term)
	}
	rows, err := t.query(ctx, "fencing", `SELECT term FROM fences WHERE key = $1 FOR SHARE`, f.key)
	if err != nil {
		return err
	}
	have, found := int64(0), false
	for rows.Next() {
		if err := rows.Scan(&have); err != nil {
			rows.Close()
			return t.fail("fencing", err)
		}
		found = true
	}
	if err := rows.Err(); err != nil {
		return t.fail("fencing", err)
	}
	switch {
	case found && uint64(have) == f.term:
		return nil
	case found && uint64(have) > f.term:
		return fmt.Errorf("pgstore: fence %q: term %d, the store has seen term %d: %w", f.key, f.term, have, metaverse.ErrFenced)
	}
	n, err := t.exec(ctx, "fencing", `INSERT INTO fences (key, term) VALUES ($1, $2)
ON CONFLICT (key) DO UPDATE SET term = EXCLUDED.term WHERE fences.term < EXCLUDED.term`, f.key, int64(f.term))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("pgstore: fence %q: term %d, a newer term was recorded meanwhile: %w", f.key, f.term, metaverse.ErrFenced)
	}
	return nil
}
