package pgstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/internal/testenv"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/internal/smoke"
	"github.com/idbridge/idbridge/metaverse/pgstore"
	"github.com/idbridge/idbridge/metaverse/storetest"
)

// newSchema returns the DSN and a fresh schema name, dropped after the test.
func newSchema(t testing.TB) (dsn, schema string) {
	t.Helper()
	dsn = testenv.Get(t, "IDBRIDGE_PG_DSN", "PostgreSQL")
	schema = testenv.PGSchema(t, dsn, "t_")
	return dsn, schema
}

func open(t testing.TB) (*pgstore.Store, string) {
	t.Helper()
	dsn, schema := newSchema(t)
	s, err := pgstore.Open(context.Background(), dsn, &pgstore.Options{Schema: schema, ApplicationName: schema})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, dsn
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.HarnessFunc(func(ctx context.Context, t *testing.T) (metaverse.Store, error) {
		dsn, schema := newSchema(t)
		return pgstore.Open(ctx, dsn, &pgstore.Options{Schema: schema, ApplicationName: schema})
	}))
}

func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn, schema := newSchema(t)
	s, err := pgstore.Open(ctx, dsn, &pgstore.Options{Schema: schema})
	require.NoError(t, err)
	smoke.Fill(t, s, 20)
	require.NoError(t, s.Close())
	s, err = pgstore.Open(ctx, dsn, &pgstore.Options{Schema: schema})
	require.NoError(t, err)
	defer s.Close()
	smoke.Verify(t, s, 20)
}

func TestSchemaVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn, schema := newSchema(t)
	s, err := pgstore.Open(ctx, dsn, &pgstore.Options{Schema: schema})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "INSERT INTO "+schema+".schema_version (version) VALUES (99)")
	require.NoError(t, err)
	_, err = pgstore.Open(ctx, dsn, &pgstore.Options{Schema: schema})
	require.ErrorIs(t, err, metaverse.ErrIncompatible)
	assert.Contains(t, err.Error(), "version 99")
	assert.Contains(t, err.Error(), fmt.Sprintf("uses version %d", pgstore.SchemaVersion))
}

func TestOptions(t *testing.T) {
	for _, o := range []pgstore.Options{{Schema: "Bad-Name"}, {MaxConns: -1}, {MaxConns: 2, MinConns: 3}} {
		assert.Error(t, o.Validate(), "%+v", o)
	}
	_, err := pgstore.Open(context.Background(), "postgres://u:secret@127.0.0.1:1/x?connect_timeout=1", nil)
	require.ErrorIs(t, err, metaverse.ErrUnavailable)
	assert.NotContains(t, err.Error(), "secret")
}

// TestConflictRetry runs increments of one counter from many goroutines:
// SERIALIZABLE makes some fail, Update runs them again, none is lost.
func TestConflictRetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := open(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	calls := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				assert.NoError(t, s.Update(ctx, func(tx metaverse.Tx) error {
					mu.Lock()
					calls++
					mu.Unlock()
					v, err := tx.Counter(ctx, "n")
					if err != nil {
						return err
					}
					return tx.SetCounter(ctx, "n", v+1)
				}))
			}
		}()
	}
	wg.Wait()
	require.NoError(t, s.View(ctx, func(tx metaverse.Tx) error {
		v, err := tx.Counter(ctx, "n")
		assert.Equal(t, uint64(40), v)
		return err
	}))
	t.Logf("40 increments took %d calls of fn", calls)
}

// TestKilledMidTransaction terminates the backend of a running Update (as a
// crash or a failover does): the Update fails with a clear error, nothing
// of it is committed, what was committed before is intact, and the store
// goes on with a new connection.
func TestKilledMidTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, dsn := open(t)
	smoke.Fill(t, s, 5)
	admin, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer admin.Close(ctx)

	err = s.Update(ctx, func(tx metaverse.Tx) error {
		if err := tx.PutEntry(ctx, smoke.Entry("doomed", "doomed@example.com")); err != nil {
			return err
		}
		if err := tx.SetCounter(ctx, "gen", 42); err != nil { // flushes the queued entry
			return err
		}
		var pid int
		// The backend of this transaction is the one that holds the lock
		// on the counter row: kill it from the admin connection.
		if err := admin.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'`, s.Schema()).Scan(&pid); err != nil {
			return err
		}
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
			return err
		}
		// pg_terminate_backend only signals: wait until the backend is gone.
		require.Eventually(t, func() bool {
			var n int
			err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&n)
			return err == nil && n == 0
		}, 10*time.Second, 5*time.Millisecond, "backend %d still running after pg_terminate_backend", pid)
		_, err := tx.Entry(ctx, "doomed")
		return err
	})
	require.ErrorIs(t, err, metaverse.ErrUnavailable)
	assert.Contains(t, err.Error(), "not committed")
	smoke.Verify(t, s, 5)
	require.NoError(t, s.View(ctx, func(tx metaverse.Tx) error {
		_, err := tx.Entry(ctx, "doomed")
		assert.ErrorIs(t, err, metaverse.ErrNotFound)
		return nil
	}))
}

func TestStats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := open(t)
	smoke.Fill(t, s, 7)
	require.NoError(t, s.Update(ctx, func(tx metaverse.Tx) error {
		g := smoke.Entry("g1", "g@example.com")
		g.Type = "group"
		if err := tx.PutEntry(ctx, g); err != nil {
			return err
		}
		o := smoke.Object("x1", "", "CN=x")
		o.Connector, o.Pending, o.Export = "entra", metaverse.ImportNone, nil
		return tx.PutObject(ctx, o)
	}))
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"person": 7, "group": 1}, st.Entries)
	assert.Equal(t, map[string]int{"ad": 7, "entra": 1}, st.Objects)
	assert.Equal(t, map[string]int{"ad": 7, "entra": 0}, st.PendingImports)
	assert.Equal(t, map[string]int{"ad": 7, "entra": 0}, st.PendingExports)
	assert.Equal(t, []string{"mail"}, st.Indexes)
	assert.Positive(t, st.Bytes)
}

// TestIndexUsed checks that a join lookup on a declared attribute uses the
// expression index rather than scanning.
func TestIndexUsed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, dsn := open(t)
	smoke.Fill(t, s, 5)
	assert.Contains(t, explain(t, dsn, s.Schema(), `SELECT data FROM entries WHERE (attrs -> 'mail') @> '["s:a0@example.com"]'`), "entries_attr_")
	require.NoError(t, s.View(ctx, func(tx metaverse.Tx) error {
		ids, err := tx.FindEntries(ctx, "", "mail", connector.StringValue("b0@example.com"))
		assert.Equal(t, []string{"e-b0"}, ids)
		return err
	}))
}

// explain returns the plan of query in schema, with sequential scans off
// (a tiny table would be scanned whatever its indexes).
func explain(t *testing.T, dsn, schema, query string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "SET search_path = "+schema+"; SET enable_seqscan = off")
	require.NoError(t, err)
	rows, _ := conn.Query(ctx, "EXPLAIN "+query)
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return strings.Join(plan, "\n")
}
