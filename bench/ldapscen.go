package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/bench/internal/dirgen"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldap"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
	"github.com/idbridge/idbridge/metaverse/boltstore"
	"github.com/idbridge/idbridge/rules"
)

//go:embed rules-openldap.yaml
var openldapRules []byte

// slapd is the server scripts/servers/slapd.sh started (make bench starts
// it).
type slapd struct{ url, startTLS, base, bindDN, password, ca string }

func getSlapd() (*slapd, error) {
	s := &slapd{url: os.Getenv("IDBRIDGE_SLAPD_URL"), startTLS: os.Getenv("IDBRIDGE_SLAPD_STARTTLS_URL"),
		base: os.Getenv("IDBRIDGE_SLAPD_BASE_DN"), bindDN: os.Getenv("IDBRIDGE_SLAPD_BIND_DN"),
		password: os.Getenv("IDBRIDGE_SLAPD_PASSWORD"), ca: os.Getenv("IDBRIDGE_SLAPD_CA")}
	if s.url == "" {
		return nil, skip("needs slapd: run it with make bench (IDBRIDGE_SLAPD_URL is not set)")
	}
	return s, nil
}

func (s *slapd) admin() (*goldap.Conn, error) {
	c, err := goldap.DialURL(s.startTLS)
	if err != nil {
		return nil, err
	}
	return c, c.Bind(s.bindDN, s.password)
}

// load puts the generated directory (OpenLDAP dialect) under
// ou=benchN-seed, unless it is there already, and returns that base.
func (s *slapd) load(e *env) (string, *dirgen.Directory, error) {
	base := fmt.Sprintf("ou=bench%d-%d,%s", e.n, e.seed, s.base)
	d := dirgen.New(e.n, e.seed, base)
	admin, err := s.admin()
	if err != nil {
		return "", nil, err
	}
	defer admin.Close()
	res, err := admin.Search(goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))", []string{"1.1"}, nil))
	if err == nil && len(res.Entries) == d.Users+d.Groups() {
		return base, d, nil
	}
	req := goldap.NewAddRequest(base, nil)
	req.Attribute("objectClass", []string{"organizationalUnit"})
	if err := admin.Add(req); err != nil && !goldap.IsErrorWithCode(err, goldap.LDAPResultEntryAlreadyExists) {
		return "", nil, err
	}
	recs := slices.Collect(d.Records(dirgen.OpenLDAP))
	ous := len(d.OUs())
	add := func(c *goldap.Conn, i int) error {
		r := recs[i]
		req := goldap.NewAddRequest(r.DN, nil)
		vals := map[string][]string{}
		var order []string
		for _, a := range r.Attrs {
			if _, ok := vals[a.Name]; !ok {
				order = append(order, a.Name)
			}
			vals[a.Name] = append(vals[a.Name], a.Value)
		}
		for _, n := range order {
			req.Attribute(n, vals[n])
		}
		if err := c.Add(req); err != nil && !goldap.IsErrorWithCode(err, goldap.LDAPResultEntryAlreadyExists) {
			return fmt.Errorf("adding %s: %w", r.DN, err)
		}
		return nil
	}
	for i := 0; i < ous; i++ { // parents first
		if err := add(admin, i); err != nil {
			return "", nil, err
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.admin()
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for i := ous + w; i < len(recs); i += 8 {
				if err := add(c, i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return "", nil, err
	}
	return base, d, nil
}

func (s *slapd) connector(base string) (*ldap.Connector, error) {
	return ldap.New(ldap.Config{
		URL: s.url, CAFile: s.ca, BindDN: s.bindDN, Password: connector.NewSecret(s.password),
		Containers: []ldap.Container{{DN: base}},
		Types: []ldap.TypeConfig{
			{Name: "person", ObjectClasses: []string{"inetOrgPerson"}},
			{Name: "group", ObjectClasses: []string{"groupOfNames"}},
		},
		PageSize: 1000,
		Timeout:  5 * time.Minute,
		// The comparison is with ldapsearch of the people and groups:
		// leave the containers out of both.
		NoContainerTypes: true,
	})
}

type countSink struct{ n int }

func (s *countSink) Object(context.Context, connector.Change) error      { s.n++; return nil }
func (s *countSink) Error(context.Context, *connector.ObjectError) error { return nil }
func (s *countSink) Checkpoint(context.Context, []byte) error            { return nil }

// fullImport times our connector's full import of the loaded directory
// against ldapsearch's paged search of the same entries and attributes.
func fullImport(ctx context.Context, e *env) (result, error) {
	s, err := getSlapd()
	if err != nil {
		return result{}, err
	}
	base, d, err := s.load(e)
	if err != nil {
		return result{}, err
	}
	c, err := s.connector(base)
	if err != nil {
		return result{}, err
	}
	defer c.Close()
	if _, err := c.Schema(ctx); err != nil {
		return result{}, err
	}
	var sink countSink
	stop := e.measured()
	start := time.Now()
	err = c.Import(ctx, &sink)
	ours := time.Since(start)
	stop()
	if err != nil {
		return result{}, err
	}
	if want := d.Users + d.Groups(); sink.n != want {
		return result{}, fmt.Errorf("imported %d entries, want %d", sink.n, want)
	}
	cmd := exec.CommandContext(ctx, "ldapsearch", "-LLL", "-x", "-H", s.url, "-D", s.bindDN, "-w", s.password, "-b", base,
		"-E", "pr=1000/noprompt", "-o", "ldif-wrap=no", "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))", "*", "entryUUID")
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+s.ca)
	start = time.Now()
	if out, err := cmd.Output(); err != nil {
		return result{}, fmt.Errorf("ldapsearch: %v: %s", err, out)
	}
	raw := time.Since(start)
	return result{Value: ours.Seconds() / raw.Seconds(), Extra: map[string]string{
		"ours": seconds(ours.Seconds()), "ldapsearch": seconds(raw.Seconds()),
		"entries/s": strconv.Itoa(int(float64(sink.n) / ours.Seconds()))}}, nil
}

// changeLatency runs the engine with change notification (syncrepl
// refreshAndPersist) from slapd to a cloud target, modifies users one at a
// time and measures from each modify until the cloud holds the new value:
// the median of 20. The cloud is the Graph emulator through graphsync.
func changeLatency(ctx context.Context, e *env) (result, error) {
	s, err := getSlapd()
	if err != nil {
		return result{}, err
	}
	base, d, err := s.load(e)
	if err != nil {
		return result{}, err
	}
	src, err := s.connector(base)
	if err != nil {
		return result{}, err
	}
	defer src.Close()
	tenant := graphtest.NewServer(graphtest.Options{Token: "bench", Domains: []string{"example.test"}})
	defer tenant.Close()
	cloud, err := graphsync.New(graphsync.Config{
		BaseURL: tenant.URL() + "/v1.0", Credential: graphsync.StaticToken("bench"), HTTPClient: tenant.Client(),
		Types: []string{graphsync.TypeUser}, WriteBudget: graphsync.Unlimited,
	})
	if err != nil {
		return result{}, err
	}
	store, err := boltstore.Open(filepath.Join(e.dir, "idbridge.db"), nil)
	if err != nil {
		return result{}, err
	}
	defer store.Close()
	rf, err := rules.Parse("bench/rules-openldap.yaml", openldapRules)
	if err != nil {
		return result{}, err
	}
	eng, err := idbridge.New(ctx, idbridge.Config{Store: store,
		Connectors: map[string]connector.Connector{"ldap": src, "cloud": cloud}, Rules: rf,
		Options: idbridge.Options{DeletionThreshold: -1}})
	if err != nil {
		return result{}, err
	}
	t0 := time.Now()
	_, err = eng.Cycle(ctx, idbridge.Initial)
	if err != nil {
		return result{}, err
	}
	initial := time.Since(t0)
	ids := map[string]string{} // userPrincipalName → cloud id
	for _, u := range tenant.Users() {
		ids[fmt.Sprint(u["userPrincipalName"])] = fmt.Sprint(u["id"])
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- eng.Run(runCtx, idbridge.Schedule{Interval: time.Hour, Debounce: 20 * time.Millisecond})
	}()
	time.Sleep(500 * time.Millisecond) // the first cycle and the watch start
	admin, err := s.admin()
	if err != nil {
		return result{}, err
	}
	defer admin.Close()
	var lat []time.Duration
	for k := 0; k < 20; k++ {
		u := d.User((k * 7919) % d.Users)
		title := fmt.Sprintf("Latency %d-%d", k, time.Now().UnixNano())
		mod := goldap.NewModifyRequest(u.DN, nil)
		mod.Replace("title", []string{title})
		start := time.Now()
		if err := admin.Modify(mod); err != nil {
			return result{}, err
		}
		for {
			if o, ok := tenant.Object(ids[u.Account+"@example.test"]); ok && o["jobTitle"] == title {
				lat = append(lat, time.Since(start))
				break
			}
			if time.Since(start) > 30*time.Second {
				return result{}, fmt.Errorf("change %d did not reach the cloud in 30 s", k)
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	<-done
	slices.Sort(lat)
	return result{Value: lat[len(lat)/2].Seconds(), Extra: map[string]string{
		"p90": seconds(lat[len(lat)*9/10].Seconds()), "max": seconds(lat[len(lat)-1].Seconds()), "target": "graph emulator",
		"initial cycle": seconds(initial.Seconds())}}, nil
}
