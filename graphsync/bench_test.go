package graphsync_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
)

// BenchmarkExport exports 100,000 users to the emulator (run with
// -benchtime=1x; 10,000 with -short): objects/s with no limit, and under a
// write budget the fraction of the budget used, with every user created
// once. The budget is the tenant's (18,000 writes per 5 minutes: a fixed
// window, 429 with Retry-After once spent) with time compressed about 17
// times, to 2,000 writes per 2 seconds: well below what the emulator
// takes, as the real budget is, so that the budget and not the CPU is what
// limits the export.
func BenchmarkExport(b *testing.B) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	changes := make([]connector.Change, n)
	for i := range changes {
		changes[i] = newUser(fmt.Sprintf("bench%06d", i), "onPremisesImmutableId", fmt.Sprintf("B%06d", i), "department", "Dept "+fmt.Sprint(i%50))
	}
	for _, bc := range []struct {
		name   string
		budget graphsync.Budget
	}{
		{"Unthrottled", graphsync.Unlimited},
		{"TenantBudgetScaled", graphsync.Budget{Writes: 2000, Per: 2 * time.Second}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				opts := graphtest.Options{}
				if bc.budget.Writes > 0 {
					opts.WriteBudget, opts.WriteWindow = bc.budget.Writes, bc.budget.Per
				}
				srv, c := newEnv(b, opts, func(cfg *graphsync.Config) { cfg.WriteBudget = bc.budget })
				b.StartTimer()
				start := time.Now()
				res := export(b, c, changes)
				elapsed := time.Since(start)
				b.StopTimer()
				for i, r := range res {
					require.NoError(b, r.Err, "change %d", i)
				}
				require.Equal(b, n, srv.Writes(), "every user created once")
				throttled := 0
				for _, r := range srv.Requests() {
					if r.Status == http.StatusTooManyRequests {
						throttled++
					}
				}
				rate := float64(n) / elapsed.Seconds()
				b.ReportMetric(rate, "users/s")
				b.ReportMetric(float64(throttled), "throttled")
				if bc.budget.Writes > 0 {
					allowed := float64(bc.budget.Writes) / bc.budget.Per.Seconds()
					b.ReportMetric(rate/allowed*100, "%budget")
				}
				srv.Close()
				b.StartTimer()
			}
		})
	}
}
