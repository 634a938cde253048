package idbridge_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/internal/testenv"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/metaverse/pgstore"
)

// gatedExport is a connector whose first Export call waits for open.
type gatedExport struct {
	connector.Connector
	entered chan struct{}
	open    chan struct{}
}

func (g *gatedExport) Export(ctx context.Context, changes []connector.Change) ([]connector.ExportResult, error) {
	select {
	case <-g.entered:
	default:
		close(g.entered)
		<-g.open
	}
	return g.Connector.Export(ctx, changes)
}

func waiters(t *testing.T, dsn, app string) int {
	t.Helper()
	n, err := testenv.PGLockWaiters(context.Background(), dsn, app)
	require.NoError(t, err)
	return n
}

// Two engines on one store export one connector at once: each object is
// written once. On pgstore they stand for two processes.
func TestTwoEnginesExportOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		// stores returns the two engines' stores (one shared memstore, or
		// two pgstores on one schema) and a condition true while the
		// second engine waits for the export lock.
		stores func(t *testing.T) (a, b metaverse.Store, bWaits func() bool)
	}{
		{"memstore", func(t *testing.T) (metaverse.Store, metaverse.Store, func() bool) {
			s := memstore.New()
			t.Cleanup(func() { s.Close() })
			return s, s, func() bool { return goroutineIn("(*Engine).Export", "(*LocalExportLocks).LockExport") }
		}},
		{"pgstore", func(t *testing.T) (metaverse.Store, metaverse.Store, func() bool) {
			dsn := testenv.Get(t, "IDBRIDGE_PG_DSN", "PostgreSQL")
			schema := testenv.PGSchema(t, dsn, "t_")
			open := func(app string) *pgstore.Store {
				s, err := pgstore.Open(context.Background(), dsn, &pgstore.Options{Schema: schema, ApplicationName: app})
				require.NoError(t, err)
				t.Cleanup(func() { s.Close() })
				return s
			}
			return open(schema + "_a"), open(schema + "_b"), func() bool { return waiters(t, dsn, schema+"_b") > 0 }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storeA, storeB, bWaits := tc.stores(t)
			ad, cloud := memconn.New(adSchema), memconn.New(cloudSchema)
			gate := &gatedExport{entered: make(chan struct{}), open: make(chan struct{})}
			a := newFixtureWith(t, idbridge.Options{}, fixtureSetup{store: storeA, ad: ad, cloud: cloud,
				wrap: func(name string, c connector.Connector) connector.Connector {
					if name == "cloud" {
						gate.Connector = c
						return gate
					}
					return c
				}})
			b := newFixtureWith(t, idbridge.Options{}, fixtureSetup{store: storeB, ad: ad, cloud: cloud})
			a.addUsers(40)
			_, err := a.eng.FullImport(a.ctx, "ad")
			require.NoError(t, err)
			_, err = a.eng.FullSync(a.ctx, "ad")
			require.NoError(t, err)

			type outcome struct {
				res *idbridge.RunResult
				err error
			}
			resA, resB := make(chan outcome, 1), make(chan outcome, 1)
			go func() {
				r, err := a.eng.Export(a.ctx, "cloud")
				resA <- outcome{r, err}
			}()
			<-gate.entered // A is exporting its first batch
			go func() {
				r, err := b.eng.Export(b.ctx, "cloud")
				resB <- outcome{r, err}
			}()
			// B waits for A's export lock (or, without one, has exported
			// already).
			var doneB *outcome
			require.Eventually(t, func() bool {
				select {
				case o := <-resB:
					doneB = &o
					return true
				default:
					return bWaits()
				}
			}, 10*time.Second, time.Millisecond)
			close(gate.open)
			oa := <-resA
			if doneB == nil {
				o := <-resB
				doneB = &o
			}
			require.NoError(t, oa.err)
			require.NoError(t, doneB.err)
			assert.Equal(t, 40, oa.res.Exported+doneB.res.Exported)
			assert.Zero(t, oa.res.ExportFailed+doneB.res.ExportFailed)
			assert.Len(t, cloud.Exported, 40, "each object written once")
			assert.Equal(t, 40, cloud.Len())
		})
	}
}
