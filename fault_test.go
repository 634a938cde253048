package idbridge_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
)

var errFault = errors.New("injected store fault")

// faultStore fails the failAt-th transaction call (counted from arm),
// as a store that loses its connection would.
type faultStore struct {
	metaverse.Store
	calls  atomic.Int64
	failAt atomic.Int64 // 0: no fault
}

func (s *faultStore) arm(n int64) { s.calls.Store(0); s.failAt.Store(n) }

func (s *faultStore) hit() error {
	if c := s.calls.Add(1); c == s.failAt.Load() {
		return errFault
	}
	return nil
}

func (s *faultStore) View(ctx context.Context, fn func(tx metaverse.Tx) error) error {
	return s.Store.View(ctx, func(tx metaverse.Tx) error { return fn(&faultTx{tx, s}) })
}

func (s *faultStore) Update(ctx context.Context, fn func(tx metaverse.Tx) error) error {
	return s.Store.Update(ctx, func(tx metaverse.Tx) error { return fn(&faultTx{tx, s}) })
}

type faultTx struct {
	metaverse.Tx
	s *faultStore
}

func (t *faultTx) Entry(ctx context.Context, id string) (*metaverse.Entry, error) {
	if err := t.s.hit(); err != nil {
		return nil, err
	}
	return t.Tx.Entry(ctx, id)
}

func (t *faultTx) PutEntry(ctx context.Context, e *metaverse.Entry) error {
	if err := t.s.hit(); err != nil {
		return err
	}
	return t.Tx.PutEntry(ctx, e)
}

func (t *faultTx) DeleteEntry(ctx context.Context, id string) error {
	if err := t.s.hit(); err != nil {
		return err
	}
	return t.Tx.DeleteEntry(ctx, id)
}

func (t *faultTx) FindEntries(ctx context.Context, typ, attr string, v connector.Value) ([]string, error) {
	if err := t.s.hit(); err != nil {
		return nil, err
	}
	return t.Tx.FindEntries(ctx, typ, attr, v)
}

func (t *faultTx) Object(ctx context.Context, conn, id string) (*metaverse.CSObject, error) {
	if err := t.s.hit(); err != nil {
		return nil, err
	}
	return t.Tx.Object(ctx, conn, id)
}

func (t *faultTx) ObjectByAnchor(ctx context.Context, conn string, a connector.Anchor) (*metaverse.CSObject, error) {
	if err := t.s.hit(); err != nil {
		return nil, err
	}
	return t.Tx.ObjectByAnchor(ctx, conn, a)
}

func (t *faultTx) ObjectByDN(ctx context.Context, conn, dn string) (*metaverse.CSObject, error) {
	if err := t.s.hit(); err != nil {
		return nil, err
	}
	return t.Tx.ObjectByDN(ctx, conn, dn)
}

func (t *faultTx) PutObject(ctx context.Context, o *metaverse.CSObject) error {
	if err := t.s.hit(); err != nil {
		return err
	}
	return t.Tx.PutObject(ctx, o)
}

func (t *faultTx) DeleteObject(ctx context.Context, conn, id string) error {
	if err := t.s.hit(); err != nil {
		return err
	}
	return t.Tx.DeleteObject(ctx, conn, id)
}

func (t *faultTx) Objects(ctx context.Context, conn, after string, limit int) ([]*metaverse.CSObject, error) {
	if err := t.s.hit(); err != nil {
		return nil, err
	}
	return t.Tx.Objects(ctx, conn, after, limit)
}

func (t *faultTx) PendingImports(ctx context.Context, conn, after string, limit int) ([]*metaverse.CSObject, error) {
	if err := t.s.hit(); err != nil {
		return nil, err
	}
	return t.Tx.PendingImports(ctx, conn, after, limit)
}

func (t *faultTx) Counter(ctx context.Context, name string) (uint64, error) {
	if err := t.s.hit(); err != nil {
		return 0, err
	}
	return t.Tx.Counter(ctx, name)
}

func (t *faultTx) SetCounter(ctx context.Context, name string, v uint64) error {
	if err := t.s.hit(); err != nil {
		return err
	}
	return t.Tx.SetCounter(ctx, name, v)
}

// TestStoreFaults fails each store call of an import or of a sync in
// turn: the run fails with the store's error (wrapped, matchable), and
// running it again reaches what a run without fault reaches: no
// half-made change survives a failed transaction.
func TestStoreFaults(t *testing.T) {
	r := semRules{adFlows: "      - {target: mail, source: mail}\n      - {target: proxyAddresses, source: proxyAddresses, merge: merge}",
		hrFlows: "      - {target: title, source: title}\n      - {target: proxyAddresses, source: aliases, merge: merge}\n"}
	imports := func(e *semEnv) (err error) {
		for _, c := range []string{"ad", "hr", "cloud"} {
			if _, e := e.eng.FullImport(e.ctx, c); e != nil && err == nil {
				err = e
			}
		}
		return err
	}
	syncs := func(e *semEnv) (err error) {
		for _, c := range []string{"ad", "hr"} {
			if _, e := e.eng.FullSync(e.ctx, c); e != nil && err == nil {
				err = e
			}
		}
		return err
	}
	scenario := func(t *testing.T, phase string, failAt int64) (state string, calls int64, runErr error) {
		st := &faultStore{Store: memstore.New()}
		e := newSemEnvStore(t, r, st)
		for i := range 6 {
			e.ad.Put(adUser(fmt.Sprint("a", i), fmt.Sprint("E", i), connector.Attributes{
				"mail": s(fmt.Sprintf("u%d@contoso.com", i)), "proxyAddresses": ss(fmt.Sprintf("smtp:u%d@contoso.com", i))}))
		}
		for i := range 3 {
			e.hr.Put(hrWorker(fmt.Sprint("h", i), fmt.Sprint("E", i), connector.Attributes{"title": s("T"), "aliases": ss(fmt.Sprintf("smtp:alias%d@contoso.com", i))}))
		}
		if phase == "sync" {
			require.NoError(t, imports(e))
		}
		st.arm(failAt)
		if phase == "import" {
			runErr = imports(e)
		} else {
			runErr = syncs(e)
		}
		calls = st.calls.Load()
		st.arm(0)
		if phase == "import" {
			require.NoError(t, imports(e))
		}
		require.NoError(t, syncs(e))
		_, err := e.eng.Export(e.ctx, "cloud")
		require.NoError(t, err)
		for _, o := range e.cloud.All() {
			state += fmt.Sprintln(o.DN, o.Attrs)
		}
		for _, en := range allEntries(t, e.store) {
			state += fmt.Sprintln(en.Attrs, len(en.Links))
		}
		return state, calls, runErr
	}
	for _, phase := range []string{"import", "sync"} {
		t.Run(phase, func(t *testing.T) {
			want, total, err := scenario(t, phase, 0)
			require.NoError(t, err)
			require.Positive(t, total)
			for n := int64(1); n <= total; n++ {
				t.Run(fmt.Sprint("call ", n), func(t *testing.T) {
					got, _, err := scenario(t, phase, n)
					require.ErrorIs(t, err, errFault)
					assert.Equal(t, want, got)
				})
			}
		})
	}
}
