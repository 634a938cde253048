package ldap_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldap"
)

// countSink counts what an import reports, keeping nothing.
type countSink struct{ objects, errors int }

func (s *countSink) Object(context.Context, connector.Change) error { s.objects++; return nil }
func (s *countSink) Error(context.Context, *connector.ObjectError) error {
	s.errors++
	return nil
}
func (s *countSink) Checkpoint(context.Context, []byte) error { return nil }

// benchOU returns an OU of slapd holding n people, loading it the first
// time (it is kept between runs: loading 100,000 entries takes a while).
func benchOU(b *testing.B, env slapdEnv, n int) string {
	ou := fmt.Sprintf("ou=bench%d,%s", n, env.base)
	admin := env.admin(b)
	res, err := admin.Search(goldap.NewSearchRequest(ou, goldap.ScopeSingleLevel, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=inetOrgPerson)", []string{"1.1"}, nil))
	if err == nil && len(res.Entries) == n {
		return ou
	}
	deleteTree(admin, ou)
	req := goldap.NewAddRequest(ou, nil)
	req.Attribute("objectClass", []string{"organizationalUnit"})
	require.NoError(b, admin.Add(req))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := env.admin(b)
			for i := w; i < n; i += 8 {
				req := goldap.NewAddRequest(fmt.Sprintf("uid=u%07d,%s", i, ou), nil)
				req.Attribute("objectClass", []string{"inetOrgPerson"})
				req.Attribute("uid", []string{fmt.Sprintf("u%07d", i)})
				req.Attribute("cn", []string{fmt.Sprintf("User %d", i)})
				req.Attribute("sn", []string{fmt.Sprintf("Surname%d", i)})
				req.Attribute("givenName", []string{fmt.Sprintf("Given%d", i)})
				req.Attribute("mail", []string{fmt.Sprintf("u%07d@example.test", i)})
				req.Attribute("title", []string{"Engineer"})
				req.Attribute("employeeNumber", []string{fmt.Sprint(i)})
				req.Attribute("telephoneNumber", []string{fmt.Sprintf("+1 555 %07d", i)})
				if i > 0 {
					req.Attribute("manager", []string{fmt.Sprintf("uid=u%07d,%s", (i-1)/10, ou)})
				}
				if err := c.Add(req); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	require.NoError(b, <-errs)
	return ou
}

// BenchmarkFullImport imports 10,000 (and, with IDBRIDGE_BENCH_LARGE=1,
// 100,000) entries from slapd over LDAPS, and reports entries/s and the
// ratio of our time to a raw paged ldapsearch of the same entries and
// attributes on the same server (target ≤ 1.5).
func BenchmarkFullImport(b *testing.B) {
	env := getSlapd(b)
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			if n > 10_000 && os.Getenv("IDBRIDGE_BENCH_LARGE") == "" {
				b.Skip("set IDBRIDGE_BENCH_LARGE=1 for 100,000 entries")
			}
			ou := benchOU(b, env, n)
			cfg := env.config(ou)
			cfg.Types = cfg.Types[:1]
			cfg.PageSize = 1000
			c, err := ldap.New(cfg)
			require.NoError(b, err)
			defer c.Close()
			ctx := context.Background()
			_, err = c.Schema(ctx)
			require.NoError(b, err)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var sink countSink
				start := time.Now()
				require.NoError(b, c.Import(ctx, &sink))
				ours := time.Since(start)
				require.Equal(b, n, sink.objects)

				b.StopTimer()
				raw := rawSearch(b, env, ou)
				b.StartTimer()
				b.ReportMetric(float64(n)/ours.Seconds(), "entries/s")
				b.ReportMetric(ours.Seconds()/raw.Seconds(), "x-ldapsearch")
			}
		})
	}
}

// rawSearch times ldapsearch fetching the same entries, in pages of
// 1,000, over LDAPS, with the operational entryUUID as our import does.
func rawSearch(b *testing.B, env slapdEnv, ou string) time.Duration {
	cmd := exec.Command("ldapsearch", "-LLL", "-x", "-H", env.url, "-D", env.bindDN, "-w", env.password,
		"-b", ou, "-E", "pr=1000/noprompt", "-o", "ldif-wrap=no", "(objectClass=inetOrgPerson)", "*", "entryUUID")
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+env.ca)
	start := time.Now()
	out, err := cmd.Output()
	require.NoError(b, err, "%s", out)
	return time.Since(start)
}
