package writeback_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
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

// BenchmarkGroupWriteback measures group writeback's throughput on the
// Samba AD DC of make test, through the engine: each iteration creates
// groupsPerOp cloud groups of membersPerGroup synced users in the Graph
// emulator and runs one delta cycle that writes them to AD. It reports
// groups and member values written per second of the cycle.
func BenchmarkGroupWriteback(b *testing.B) {
	const (
		users           = 200
		groupsPerOp     = 10
		membersPerGroup = 100
	)
	g := newGroupWorld(b, users)
	ids := make([]string, 0, users)
	for _, u := range g.srv.Users() {
		ids = append(ids, u["id"].(string))
	}
	require.Len(b, ids, users)
	var elapsed time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		for j := range groupsPerOp {
			name := fmt.Sprintf("bench%d-%d", i, j)
			gid, err := g.srv.CreateGroup(map[string]any{"displayName": name, "mailNickname": name, "securityEnabled": true, "mailEnabled": false})
			require.NoError(b, err)
			for k := range membersPerGroup {
				require.NoError(b, g.srv.AddMember(gid, ids[(j*membersPerGroup+k)%users]))
			}
		}
		b.StartTimer()
		start := time.Now()
		g.cycle(idbridge.Delta)
		elapsed += time.Since(start)
	}
	b.StopTimer()
	require.Len(b, g.adGroups(), b.N*groupsPerOp)
	b.ReportMetric(float64(b.N*groupsPerOp)/elapsed.Seconds(), "groups/s")
	b.ReportMetric(float64(b.N*groupsPerOp*membersPerGroup)/elapsed.Seconds(), "members/s")
}
