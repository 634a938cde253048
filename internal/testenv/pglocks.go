package testenv

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// PGLockWaiters counts the sessions of the PostgreSQL at dsn whose
// application_name is app and that wait for an advisory lock: a test's way
// to know that a store is blocked on a lock without sleeping.
func PGLockWaiters(ctx context.Context, dsn, app string) (int, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("counting lock waiters: %w", err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = $1`, app).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting lock waiters: %w", err)
	}
	return n, nil
}
