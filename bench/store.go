package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/idbridge/idbridge/internal/testenv"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/boltstore"
	"github.com/idbridge/idbridge/metaverse/pgstore"
)

// benchStore is the store a scenario syncs into: boltstore in the run's
// directory (-store bolt, the default), or a fresh schema of the
// PostgreSQL at $IDBRIDGE_PG_DSN (-store pg), dropped when closed.
type benchStore struct {
	metaverse.Store
	close func()
}

// bytes returns the store's size on disk.
func (b *benchStore) bytes(ctx context.Context) (int64, error) {
	switch s := b.Store.(type) {
	case *boltstore.Store:
		st, err := s.Stats(ctx)
		if err != nil {
			return 0, err
		}
		return st.Bytes, nil
	case *pgstore.Store:
		st, err := s.Stats(ctx)
		if err != nil {
			return 0, err
		}
		return st.Bytes, nil
	}
	return 0, fmt.Errorf("no size for a %T", b.Store)
}

func openStore(ctx context.Context, e *env) (*benchStore, error) {
	switch e.store {
	case "", "bolt":
		s, err := boltstore.Open(filepath.Join(e.dir, "idbridge.db"), nil)
		if err != nil {
			return nil, err
		}
		return &benchStore{Store: s, close: func() { s.Close() }}, nil
	case "pg":
		dsn := os.Getenv("IDBRIDGE_PG_DSN")
		if dsn == "" {
			return nil, &skipError{"-store pg needs IDBRIDGE_PG_DSN (scripts/servers/postgres.sh start DIR prints it)"}
		}
		schema := testenv.PGSchemaName("bench_")
		drop := func() {
			if err := testenv.DropPGSchema(context.Background(), dsn, schema); err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
			}
		}
		s, err := pgstore.Open(ctx, dsn, &pgstore.Options{Schema: schema})
		if err != nil {
			drop()
			return nil, err
		}
		return &benchStore{Store: s, close: func() { s.Close(); drop() }}, nil
	}
	return nil, fmt.Errorf("-store %q: want bolt or pg", e.store)
}
