package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PGSchema returns a fresh schema name (prefix and random hex) in the
// PostgreSQL of dsn, dropped with its tables when t ends, so that tests
// and benchmarks sharing one server never see each other's rows.
func PGSchema(t testing.TB, dsn, prefix string) string {
	t.Helper()
	schema := PGSchemaName(prefix)
	t.Cleanup(func() {
		if err := DropPGSchema(context.Background(), dsn, schema); err != nil {
			t.Log(err)
		}
	})
	return schema
}

// PGSchemaName returns prefix followed by 12 random hex digits.
func PGSchemaName(prefix string) string {
	r := make([]byte, 6)
	rand.Read(r)
	return prefix + hex.EncodeToString(r)
}

// DropPGSchema drops schema, with its tables, from the PostgreSQL of dsn.
func DropPGSchema(ctx context.Context, dsn, schema string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("dropping schema %s: %w", schema, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
		return fmt.Errorf("dropping schema %s: %w", schema, err)
	}
	return nil
}
