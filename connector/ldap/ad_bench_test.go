package ldap_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldap"
	"github.com/idbridge/idbridge/internal/addir"
)

// BenchmarkADRealisticImport: a full import, with default settings, of the
// realistic directory of issue 11 (5,000 users in 5 OUs, 24 nested groups,
// groups of 2,000–4,000 members among the users) on the Samba AD DC,
// against a raw paged ldapsearch (-E pr=1000) of the same entries and
// attributes, with the large groups' members read in ranges of 1,500 as
// the connector reads them. The two run in turn, so that load on the
// machine falls on both alike; it reports entries/s and the median of the
// per-pair ratios of our time to ldapsearch's.
//
//	go test -run '^$' -bench ADRealisticImport -benchtime 5x ./connector/ldap/
//
// Measured on the shared 2-core machine under load (load average 10–15):
// 5 pairs, 13.3 s an import (378 entries/s), median 1.82× ldapsearch.
func BenchmarkADRealisticImport(b *testing.B) {
	d := addir.Shared(b, "idbridge-addir-realistic", addir.Realistic())
	cfg := dirConfig(d)
	c, err := ldap.New(cfg)
	require.NoError(b, err)
	defer c.Close()
	ctx := context.Background()
	_, err = c.Schema(ctx)
	require.NoError(b, err)
	attrs := slices.Concat([]string{"objectClass", "objectGUID"}, cfg.Types[0].Attributes, []string{"member;range=0-1499"})

	var ratios []float64
	var ours time.Duration
	b.ResetTimer()
	for range b.N {
		var sink countSink
		start := time.Now()
		require.NoError(b, c.Import(ctx, &sink))
		took := time.Since(start)
		ours += took
		require.GreaterOrEqual(b, sink.objects, d.Entries())

		b.StopTimer()
		raw := adRawSearch(b, d, attrs)
		b.StartTimer()
		ratios = append(ratios, took.Seconds()/raw.Seconds())
	}
	b.StopTimer()
	slices.Sort(ratios)
	b.ReportMetric(float64(d.Entries()*b.N)/ours.Seconds(), "entries/s")
	b.ReportMetric(ratios[len(ratios)/2], "x-ldapsearch")
}

// adRawSearch times ldapsearch reading d's users and groups in pages of
// 1,000 over LDAPS, then the rest of each ranged member attribute,
// 1,500 values a read, as the connector does.
func adRawSearch(b *testing.B, d *addir.Directory, attrs []string) time.Duration {
	b.Helper()
	run := func(base, scope string, extra []string, filter string, attrs ...string) []byte {
		args := slices.Concat([]string{"-LLL", "-x", "-H", d.Server.URL, "-D", d.Server.BindDN, "-w", d.Server.Password,
			"-b", base, "-s", scope, "-o", "ldif-wrap=no"}, extra, []string{filter}, attrs)
		cmd := exec.Command("ldapsearch", args...)
		cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+d.Server.CAFile)
		out, err := cmd.Output()
		require.NoError(b, err, "%s", out)
		return out
	}
	start := time.Now()
	out := run(d.Root, "sub", []string{"-E", "pr=1000/noprompt"}, "(|(objectClass=user)(objectClass=group))", attrs...)
	// Follow every "member;range=lo-hi" (hi not *) of every entry.
	var dn string
	type next struct {
		dn string
		lo int
	}
	var todo []next
	scan := func(out []byte) {
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "dn: "); ok {
				dn = v
				continue
			}
			name, _, ok := strings.Cut(line, ": ")
			if !ok || !strings.HasPrefix(strings.ToLower(name), "member;range=") {
				continue
			}
			var lo, hi int
			if n, _ := fmt.Sscanf(name[len("member;range="):], "%d-%d", &lo, &hi); n == 2 && !slices.Contains(todo, next{dn, hi + 1}) {
				todo = append(todo, next{dn, hi + 1})
			}
		}
	}
	scan(out)
	for len(todo) > 0 {
		n := todo[0]
		todo = todo[1:]
		scan(run(n.dn, "base", nil, "(objectClass=*)", fmt.Sprintf("member;range=%d-%d", n.lo, n.lo+1499)))
	}
	return time.Since(start)
}

var _ connector.ImportSink = (*countSink)(nil)
