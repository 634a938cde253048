package pgstore

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idbridge/idbridge/metaverse"
)

var _ metaverse.ExportLocker = (*Store)(nil)

// unlockTimeout bounds the release of an export lock.
const unlockTimeout = 10 * time.Second

// LockExport implements metaverse.ExportLocker with a session-level
// advisory lock keyed by the store's schema and the connector name, taken
// on a connection of its own (not one of the pool's, so that a pool of one
// connection still serves the export's transactions), which unlock closes.
// Every Store on the same schema, in any process, waits for it; a process
// that dies or loses its connection releases it with the session. Waiting
// ends with ctx (pgx cancels the query).
func (s *Store) LockExport(ctx context.Context, connectorName string) (func(), error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, s.connErr("export lock", err)
	}
	key := "idbridge export/" + s.opts.Schema + "/" + connectorName // a schema name has no "/"
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", key); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, s.connErr("export lock", err)
	}
	var once sync.Once
	unlock := func() {
		once.Do(func() {
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
			defer cancel()
			_ = conn.Close(uctx) // ending the session releases its advisory locks
		})
	}
	return unlock, nil
}
