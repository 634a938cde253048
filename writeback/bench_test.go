package writeback_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/writeback"
)

// BenchmarkADPasswordWriteback measures password writeback's latency on the
// Samba AD DC of make test: from the request to the service until an LDAP
// bind with the new password succeeds, and reports its median and 99th
// percentile. Run it with -benchtime=200x for the 200 requests of the
// project's figures.
func BenchmarkADPasswordWriteback(b *testing.B) {
	f := newADFixture(b)
	id := f.w.objectID(f.upn("nopolicy"))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		pw := fmt.Sprintf("Bench-Pa55word-%d", i)
		start := time.Now()
		_, err := f.svc.SetPassword(f.w.ctx, writeback.PasswordRequest{User: writeback.UserRef{ObjectID: id}, Password: connector.NewSecret(pw)})
		require.NoError(b, err)
		require.NoError(b, f.env.bind(b, f.users["nopolicy"], pw))
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
