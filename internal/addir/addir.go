// Package addir builds Active Directory test directories of realistic
// shape on a live domain controller (the Samba AD DC that `make test`
// starts): thousands of users spread over several OUs, groups with nested
// membership, a few large groups (more members than a DC returns at once)
// placed among the users so that a paged search meets them mid-page,
// managers and disabled accounts.
//
// A directory lives under an OU of its own, named by the caller. Build is
// idempotent: a complete directory of the same name and shape is reused
// as it is (a marker on the root OU says it is complete), an incomplete
// one is removed and built again. Tests that change the directory build
// one under a random name and Remove it at the end; read-only tests may
// share a named one and keep it (deleting 5,000 objects takes Samba over a
// minute, and CI provisions a fresh DC for each run).
//
// Everything in a Directory is derived from its name and Shape, so a
// reused directory is described without reading it back.
//
// # Concurrency
//
// Build adds entries over a few connections in parallel. A Directory is
// read-only after Build and safe for concurrent use.
package addir

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/internal/testenv"
)

// Server is a domain controller and the administrator account to build
// with.
type Server struct {
	URL      string // ldaps://host:636
	BaseDN   string // the domain's naming context
	BindDN   string
	Password string
	CAFile   string // PEM file of the CA the server's certificate verifies against
}

// FromEnv returns the Samba AD DC of the test environment (IDBRIDGE_AD_*);
// the test is skipped without one, or fails under CI=true.
func FromEnv(t testing.TB) Server {
	t.Helper()
	return Server{
		URL:      testenv.Get(t, "IDBRIDGE_AD_URL", "Samba AD domain controller"),
		BaseDN:   os.Getenv("IDBRIDGE_AD_BASE_DN"),
		BindDN:   os.Getenv("IDBRIDGE_AD_BIND_DN"),
		Password: os.Getenv("IDBRIDGE_AD_PASSWORD"),
		CAFile:   os.Getenv("IDBRIDGE_AD_CA"),
	}
}

// Dial returns a connection bound as the administrator.
func (s Server) Dial(ctx context.Context) (*ldap.Conn, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("addir: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("addir: %s holds no PEM certificate", s.CAFile)
		}
	}
	c, err := ldap.DialURL(s.URL, ldap.DialWithTLSConfig(tc))
	if err != nil {
		return nil, fmt.Errorf("addir: dialling %s: %w", s.URL, err)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.Bind(s.BindDN, s.Password); err != nil {
		c.Close()
		return nil, fmt.Errorf("addir: binding as %s: %w", s.BindDN, err)
	}
	return c, nil
}

// Shape is the size and make-up of a directory.
type Shape struct {
	// OUs is the number of user OUs (OU=Dept00, OU=Dept01, …).
	OUs int
	// Users is the number of users, spread over the OUs in turn.
	Users int
	// Groups is the number of small groups in OU=Groups. Group i (i > 0)
	// has group (i-1)/2 as a member, so that membership nests several
	// levels deep; each has GroupSize users.
	Groups    int
	GroupSize int
	// LargeGroups are the member counts of the large groups, placed in
	// the user OUs among the users. Their members are the first users.
	LargeGroups []int
	// DisabledEvery disables every n-th user (0: none).
	DisabledEvery int
	// ManagerSpan gives each run of this many users the first of the run
	// as manager (0: no managers).
	ManagerSpan int
}

// Realistic is the shape of issue 11: 5,000 users over 5 OUs, 24 nested
// groups, 3 large groups of 2,000, 3,000 and 4,000 members among the
// users, a manager for every ten users, one account in 17 disabled.
func Realistic() Shape {
	return Shape{OUs: 5, Users: 5000, Groups: 24, GroupSize: 40, LargeGroups: []int{2000, 3000, 4000},
		DisabledEvery: 17, ManagerSpan: 10}
}

func (s Shape) fingerprint() string {
	return fmt.Sprintf("addir v1 ous=%d users=%d groups=%d/%d large=%v disabled=%d managers=%d",
		s.OUs, s.Users, s.Groups, s.GroupSize, s.LargeGroups, s.DisabledEvery, s.ManagerSpan)
}

// Validate reports what is wrong with the shape.
func (s Shape) Validate() error {
	var errs []error
	if s.OUs < 1 || s.Users < 1 {
		errs = append(errs, errors.New("at least one OU and one user"))
	}
	for _, n := range s.LargeGroups {
		if n > s.Users {
			errs = append(errs, fmt.Errorf("large group of %d members, only %d users", n, s.Users))
		}
	}
	if s.GroupSize > s.Users {
		errs = append(errs, fmt.Errorf("groups of %d members, only %d users", s.GroupSize, s.Users))
	}
	if len(errs) > 0 {
		return fmt.Errorf("addir: invalid shape: %w", errors.Join(errs...))
	}
	return nil
}

// User is a user of the directory.
type User struct {
	DN       string
	Name     string // cn and sAMAccountName
	UPN      string
	Manager  string // DN, or ""
	Disabled bool
}

// Group is a group of the directory.
type Group struct {
	DN      string
	Name    string
	Members []string // DNs: users, and groups for nested ones
	Large   bool
}

// Directory is a built directory.
type Directory struct {
	Server Server
	Root   string   // the root OU's DN
	OUs    []string // the user OUs
	Groups string   // OU=Groups
	Users  []User
	// AllGroups are the small groups, then the large ones.
	AllGroups []Group
}

// Entries is the number of users and groups.
func (d *Directory) Entries() int { return len(d.Users) + len(d.AllGroups) }

// layout computes the directory of name and shape.
func layout(srv Server, name string, s Shape) *Directory {
	root := "OU=" + ldap.EscapeDN(name) + "," + srv.BaseDN
	d := &Directory{Server: srv, Root: root, Groups: "OU=Groups," + root}
	for i := range s.OUs {
		d.OUs = append(d.OUs, fmt.Sprintf("OU=Dept%02d,%s", i, root))
	}
	// A short per-directory tag keeps sAMAccountNames, which are unique in
	// the whole domain, apart between directories.
	tag := tagOf(name)
	for i := range s.Users {
		n := fmt.Sprintf("%s-u%05d", tag, i)
		u := User{Name: n, DN: "CN=" + n + "," + d.OUs[i%s.OUs], UPN: n + "@" + dnsDomain(srv.BaseDN)}
		if s.DisabledEvery > 0 && i%s.DisabledEvery == s.DisabledEvery-1 {
			u.Disabled = true
		}
		d.Users = append(d.Users, u)
	}
	if s.ManagerSpan > 1 {
		for i := range d.Users {
			if m := i - i%s.ManagerSpan; m != i {
				d.Users[i].Manager = d.Users[m].DN
			}
		}
	}
	for i := range s.Groups {
		n := fmt.Sprintf("%s-g%02d", tag, i)
		g := Group{Name: n, DN: "CN=" + n + "," + d.Groups}
		for k := range s.GroupSize {
			g.Members = append(g.Members, d.Users[(i*s.GroupSize+k*7)%len(d.Users)].DN)
		}
		if i > 0 {
			g.Members = append(g.Members, d.AllGroups[(i-1)/2].DN)
		}
		d.AllGroups = append(d.AllGroups, g)
	}
	for i, size := range s.LargeGroups {
		n := fmt.Sprintf("%s-big%d", tag, i)
		g := Group{Name: n, DN: "CN=" + n + "," + d.OUs[i%s.OUs], Large: true}
		for k := range size {
			g.Members = append(g.Members, d.Users[k].DN)
		}
		d.AllGroups = append(d.AllGroups, g)
	}
	return d
}

// tagOf is a short tag of name for sAMAccountNames (at most 20 characters
// in AD, so the name itself may not fit).
func tagOf(name string) string {
	var h uint32 = 2166136261
	for i := range len(name) {
		h = (h ^ uint32(name[i])) * 16777619
	}
	return fmt.Sprintf("x%06x", h&0xffffff)
}

// dnsDomain turns DC=example,DC=test into example.test.
func dnsDomain(base string) string {
	var parts []string
	for _, rdn := range strings.Split(base, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(rdn), "="); ok && strings.EqualFold(k, "DC") {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, ".")
}

// workers is the number of connections Build adds over: Samba serves a
// few in parallel well, more only add contention on two cores.
const workers = 4

// Build builds the directory name of the given shape under srv's base, or
// reuses a complete one of the same name and shape.
func Build(ctx context.Context, srv Server, name string, s Shape) (*Directory, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	d := layout(srv, name, s)
	c, err := srv.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	res, err := c.Search(ldap.NewSearchRequest(d.Root, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"description"}, nil))
	switch {
	case err == nil && len(res.Entries) == 1 && res.Entries[0].GetAttributeValue("description") == s.fingerprint():
		return d, nil
	case err == nil:
		if err := removeTree(ctx, srv, c, d.Root); err != nil {
			return nil, err
		}
	case !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return nil, fmt.Errorf("addir: reading %s: %w", d.Root, err)
	}
	if err := d.build(ctx, c, s); err != nil {
		return nil, fmt.Errorf("addir: building %s: %w", d.Root, err)
	}
	return d, nil
}

func (d *Directory) build(ctx context.Context, c *ldap.Conn, s Shape) error {
	for _, dn := range append([]string{d.Root, d.Groups}, d.OUs...) {
		if err := Add(c, dn, map[string][]string{"objectClass": {"organizationalUnit"}}); err != nil {
			return err
		}
	}
	// Managers first (a DN-valued attribute must name an existing entry),
	// then the other users, then the large groups among them and their
	// members, then the small groups, each after the one it nests.
	var managers, others []int
	for i, u := range d.Users {
		if u.Manager == "" {
			managers = append(managers, i)
		} else {
			others = append(others, i)
		}
	}
	addUsers := func(idx []int) error {
		return d.Server.Each(ctx, len(idx), func(c *ldap.Conn, k int) error {
			return Add(c, d.Users[idx[k]].DN, d.Users[idx[k]].Attrs())
		})
	}
	if err := addUsers(managers); err != nil {
		return err
	}
	// The large groups are created in the middle of the other users, so
	// that in the server's order they sit among them.
	large := d.AllGroups[s.Groups:]
	half := len(others) / 2
	if err := addUsers(others[:half]); err != nil {
		return err
	}
	for _, g := range large {
		if err := Add(c, g.DN, map[string][]string{"objectClass": {"group"}, "sAMAccountName": {g.Name}}); err != nil {
			return err
		}
	}
	if err := addUsers(others[half:]); err != nil {
		return err
	}
	for _, g := range large {
		if err := addMembers(c, g.DN, g.Members); err != nil {
			return err
		}
	}
	for _, g := range d.AllGroups[:s.Groups] {
		if err := Add(c, g.DN, map[string][]string{"objectClass": {"group"}, "sAMAccountName": {g.Name}, "member": g.Members}); err != nil {
			return err
		}
	}
	mod := ldap.NewModifyRequest(d.Root, nil)
	mod.Replace("description", []string{s.fingerprint()})
	return c.Modify(mod)
}

// Attrs are the attributes Build gives the user. Samba gives an account
// without a password userAccountControl 546 (disabled); 544 is an enabled
// account that needs no password, which Samba accepts without one.
func (u User) Attrs() map[string][]string {
	given, sn, _ := strings.Cut(u.Name, "-")
	a := map[string][]string{
		"objectClass":        {"user"},
		"sAMAccountName":     {u.Name},
		"userPrincipalName":  {u.UPN},
		"givenName":          {given},
		"sn":                 {sn},
		"displayName":        {given + " " + sn},
		"mail":               {u.UPN},
		"department":         {"Dept"},
		"userAccountControl": {"544"},
	}
	if u.Disabled {
		a["userAccountControl"] = []string{"546"}
	}
	if u.Manager != "" {
		a["manager"] = []string{u.Manager}
	}
	return a
}

// UserAccountControl is the value Build gives the user.
func (u User) UserAccountControl() int {
	if u.Disabled {
		return 546
	}
	return 544
}

// Add adds the entry dn with attrs.
func Add(c *ldap.Conn, dn string, attrs map[string][]string) error {
	req := ldap.NewAddRequest(dn, nil)
	for k, v := range attrs {
		req.Attribute(k, v)
	}
	if err := c.Add(req); err != nil {
		return fmt.Errorf("adding %s: %w", dn, err)
	}
	return nil
}

// addMembers adds members to a group 1,000 at a time.
func addMembers(c *ldap.Conn, dn string, members []string) error {
	for i := 0; i < len(members); i += 1000 {
		mod := ldap.NewModifyRequest(dn, nil)
		mod.Add("member", members[i:min(i+1000, len(members))])
		if err := c.Modify(mod); err != nil {
			return fmt.Errorf("adding members to %s: %w", dn, err)
		}
	}
	return nil
}

// Each runs fn for 0..n-1 over a few connections of its own, in parallel:
// Samba adds a few hundred entries a second this way, a fraction of that
// over one connection. It stops at the first error of each connection and
// returns them all.
func (srv Server) Each(ctx context.Context, n int, fn func(c *ldap.Conn, i int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := srv.Dial(ctx)
			if err != nil {
				errs[w] = err
				return
			}
			defer c.Close()
			for i := w; i < n; i += workers {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				if err := fn(c, i); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Remove deletes the directory.
func (d *Directory) Remove(ctx context.Context) error {
	c, err := d.Server.Dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return removeTree(ctx, d.Server, c, d.Root)
}

// removeTree deletes dn and everything under it, deepest entries first,
// entry by entry over a few connections. Not with the Tree Delete control:
// Samba deletes a subtree in one transaction, which holds every other
// client of the DC — other tests' reads time out — for minutes.
func removeTree(ctx context.Context, srv Server, c *ldap.Conn, dn string) error {
	res, err := c.SearchWithPaging(ldap.NewSearchRequest(dn, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"1.1"}, nil), 1000)
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("addir: listing %s: %w", dn, err)
	}
	byDepth := map[int][]string{}
	deepest := 0
	for _, e := range res.Entries {
		n := strings.Count(e.DN, ",") // DNs here have no escaped commas
		byDepth[n] = append(byDepth[n], e.DN)
		deepest = max(deepest, n)
	}
	for n := deepest; n >= 0; n-- {
		level := byDepth[n]
		err := srv.Each(ctx, len(level), func(c *ldap.Conn, i int) error {
			err := c.Del(ldap.NewDelRequest(level[i], nil))
			if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
				return fmt.Errorf("addir: deleting %s: %w", level[i], err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
