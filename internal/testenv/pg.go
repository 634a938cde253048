package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PGSchema returns a fresh schema name (prefix and random hex) in the
// PostgreSQL of dsn, dropped with its tables when t ends, so that tests
// and benchmarks sharing one server never see each other's rows.
func PGSchema(t testing.TB, dsn, prefix string) string {
	t.Helper()
	r := make([]byte, 6)
	rand.Read(r)
	schema := prefix + hex.EncodeToString(r)
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}
