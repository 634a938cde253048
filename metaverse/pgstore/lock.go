package pgstore

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idbridge/idbridge/metaverse"
)

var _ metaverse.ExportLocker = (*Store)(nil)

// unlockTimeout bounds the release of an export lock; a lock that cannot be
// released in time is released by closing its connection.
const unlockTimeout = 10 * time.Second

// LockExport implements metaverse.ExportLocker with a session-level
// advisory lock keyed by the store's schema and the connector name, taken
// on a connection of the pool that is set aside for as long as the lock is
// held. Every Store on the same schema, in any process, waits for it; a
// process that dies releases it with its session. Waiting ends with ctx
// (pgx cancels the query).
func (s *Store) LockExport(ctx context.Context, connectorName string) (func(), error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, s.connErr("export lock", err)
	}
	key := "idbridge export/" + s.opts.Schema + "/" + connectorName // a schema name has no "/"
	if _, err := c.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", key); err != nil {
		// A cancelled wait may leave the connection unusable: drop it.
		_ = c.Conn().Close(context.WithoutCancel(ctx))
		c.Release()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, s.connErr("export lock", err)
	}
	var once sync.Once
	unlock := func() { once.Do(func() { s.unlockExport(ctx, c, key) }) }
	return unlock, nil
}

func (s *Store) unlockExport(ctx context.Context, c *pgxpool.Conn, key string) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
	defer cancel()
	if _, err := c.Exec(uctx, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", key); err != nil {
		// Ending the session releases the lock.
		_ = c.Conn().Close(uctx)
	}
	c.Release()
}
