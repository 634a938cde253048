// Package dirgen generates realistic directories for the benchmark harness:
// N users over a tree of OUs with the attributes Entra Connect's default
// rules read, a manager chain, and N/10 groups of skewed sizes (most small,
// three very large, some nested).
//
// Everything is a pure function of the seed and an index: User(i) and
// Group(j) compute one object without holding the directory in memory, so a
// million users stream to an LDIF file or a connector in constant memory,
// and two runs with the same seed produce the same directory.
//
// # Concurrency
//
// A Directory is immutable and safe for concurrent use.
package dirgen

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// Dialect chooses the object classes and attribute names of LDIF output.
type Dialect int

const (
	// ActiveDirectory writes user and group objects as an AD export.
	ActiveDirectory Dialect = iota
	// OpenLDAP writes inetOrgPerson and groupOfNames entries.
	OpenLDAP
)

// Directory describes a generated directory.
type Directory struct {
	Users  int
	Seed   uint64
	BaseDN string // e.g. "DC=contoso,DC=com"
	Domain string // UPN and mail suffix, e.g. "contoso.com"
}

// New returns a directory of n users under baseDN.
func New(n int, seed uint64, baseDN string) *Directory {
	return &Directory{Users: n, Seed: seed, BaseDN: baseDN, Domain: domainOf(baseDN)}
}

func domainOf(base string) string {
	var parts []string
	for _, rdn := range strings.Split(base, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(rdn), "=")
		if ok && strings.EqualFold(k, "dc") {
			parts = append(parts, strings.ToLower(v))
		}
	}
	if len(parts) == 0 {
		return "example.test"
	}
	return strings.Join(parts, ".")
}

var (
	regions     = []string{"Americas", "EMEA", "APAC", "LATAM", "Nordics"}
	departments = []string{"Engineering", "Sales", "Marketing", "Finance", "Legal", "Support",
		"Operations", "HR", "Research", "IT", "Facilities", "Procurement"}
	titles = []string{"Engineer", "Senior Engineer", "Manager", "Director", "Analyst", "Specialist",
		"Consultant", "Associate", "Lead", "Coordinator"}
	given = []string{"Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret",
		"Dennis", "Radia", "Leslie", "Shafi", "Tim", "Sophie", "John", "Hedy", "Niklaus", "Adele", "Bjarne",
		"Karen", "Butler", "Jean", "Robin", "Whitfield", "Anita", "Vint", "Mary", "Ivan", "Lynn"}
	surnames = []string{"Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
		"Hamilton", "Ritchie", "Perlman", "Lamport", "Goldwasser", "Berners-Lee", "Wilson", "McCarthy",
		"Lamarr", "Wirth", "Goldberg", "Stroustrup", "Sparck Jones", "Lampson", "Sammet", "Milner", "Diffie",
		"Borg", "Cerf", "Shaw", "Sutherland", "Conway"}
)

// OUs returns the organizational units users and groups live in, parents
// first.
func (d *Directory) OUs() []string {
	corp := "OU=Corp," + d.BaseDN
	ous := []string{corp, "OU=Users," + corp, "OU=Groups," + corp}
	for _, r := range regions {
		rdn := "OU=" + r + ",OU=Users," + corp
		ous = append(ous, rdn)
		for _, dep := range departments {
			ous = append(ous, "OU="+dep+","+rdn)
		}
	}
	return ous
}

// User is one generated user.
type User struct {
	Index       int
	DN          string
	GUID        [16]byte
	CN          string
	GivenName   string
	Surname     string
	DisplayName string
	Account     string // sAMAccountName / uid
	UPN         string
	Mail        string
	Proxy       []string
	Department  string
	Title       string
	EmployeeID  string
	Phone       string
	ManagerDN   string // "" for the root of the chain
	Manager     int    // index of the manager, -1 for none
	Disabled    bool
}

// splitmix64 is a small, fast deterministic mixer.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (d *Directory) rnd(kind, i, k uint64) uint64 {
	return splitmix64(splitmix64(splitmix64(d.Seed^kind)^i) ^ k)
}

// User returns user i (0 <= i < Users).
func (d *Directory) User(i int) User {
	r := d.rnd(1, uint64(i), 0)
	g := given[r%uint64(len(given))]
	s := surnames[(r>>8)%uint64(len(surnames))]
	region := regions[(r>>16)%uint64(len(regions))]
	dep := departments[(r>>24)%uint64(len(departments))]
	account := fmt.Sprintf("%s%s%d", strings.ToLower(g[:1]), strings.ToLower(strings.ReplaceAll(s, " ", "")), i)
	cn := fmt.Sprintf("%s %s %d", g, s, i)
	u := User{
		Index:       i,
		DN:          "CN=" + escapeRDN(cn) + ",OU=" + dep + ",OU=" + region + ",OU=Users,OU=Corp," + d.BaseDN,
		GUID:        d.guid(1, i),
		CN:          cn,
		GivenName:   g,
		Surname:     s,
		DisplayName: g + " " + s,
		Account:     account,
		UPN:         account + "@" + d.Domain,
		Mail:        account + "@" + d.Domain,
		Department:  dep,
		Title:       titles[(r>>32)%uint64(len(titles))],
		EmployeeID:  fmt.Sprintf("E%07d", i),
		Phone:       fmt.Sprintf("+1 555 %04d %04d", (i/10000)%10000, i%10000),
		Manager:     -1,
		Disabled:    (r>>40)%20 == 0, // 5%
	}
	u.Proxy = []string{"SMTP:" + u.Mail, "smtp:" + account + "@corp." + d.Domain}
	if i > 0 {
		// A 10-ary management tree: user 0 is the chief executive.
		u.Manager = (i - 1) / 10
		u.ManagerDN = d.UserDN(u.Manager)
	}
	return u
}

// UserDN returns the DN of user i without building the whole user.
func (d *Directory) UserDN(i int) string {
	r := d.rnd(1, uint64(i), 0)
	g := given[r%uint64(len(given))]
	s := surnames[(r>>8)%uint64(len(surnames))]
	region := regions[(r>>16)%uint64(len(regions))]
	dep := departments[(r>>24)%uint64(len(departments))]
	return "CN=" + escapeRDN(fmt.Sprintf("%s %s %d", g, s, i)) + ",OU=" + dep + ",OU=" + region + ",OU=Users,OU=Corp," + d.BaseDN
}

func (d *Directory) guid(kind uint64, i int) [16]byte {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], d.rnd(100+kind, uint64(i), 1))
	binary.LittleEndian.PutUint64(b[8:], d.rnd(100+kind, uint64(i), 2))
	b[7] = b[7]&0x0f | 0x40 // version 4 (the third field is little-endian in AD's form)
	b[8] = b[8]&0x3f | 0x80
	return b
}

// rdnEscaper is built once: a group of half a million members asks for as
// many DNs, and building a Replacer per DN was 28% of the bytes allocated
// by a 1M-user initial sync.
var rdnEscaper = strings.NewReplacer(",", `\,`, "+", `\+`, `"`, `\"`, `\`, `\\`, "<", `\<`, ">", `\>`, ";", `\;`, "=", `\=`)

func escapeRDN(v string) string { return rdnEscaper.Replace(v) }

// Groups returns the number of groups: one for every ten users, at least one.
func (d *Directory) Groups() int { return max(1, d.Users/10) }

// Group is one generated group.
type Group struct {
	Index    int
	DN       string
	GUID     [16]byte
	Name     string
	Security bool
	Members  []int // user indexes, sorted, unique
	Nested   []int // group indexes (always greater than Index: no cycles)
}

// MemberCount returns the number of user members of group j without
// building the member list.
func (d *Directory) MemberCount(j int) int {
	n := d.Users
	switch j {
	case 0, 1, 2:
		// "All Staff" and two regional groups: half, a quarter, an eighth.
		return (n + (1 << (j + 1)) - 1) >> (j + 1)
	}
	// A heavy tail: P(size > s) ~ 8/s, so most groups have under 30
	// members and a few thousands.
	u := float64(d.rnd(2, uint64(j), 0)>>11+1) / float64(1<<53)
	size := 2 + int(8/u)
	return min(size, 5000, n)
}

// Group returns group j (0 <= j < Groups()).
func (d *Directory) Group(j int) Group {
	name := fmt.Sprintf("Group %05d", j)
	switch j {
	case 0:
		name = "All Staff"
	case 1:
		name = "Staff Half"
	case 2:
		name = "Staff Quarter"
	}
	r := d.rnd(2, uint64(j), 7)
	g := Group{
		Index:    j,
		DN:       "CN=" + name + ",OU=Groups,OU=Corp," + d.BaseDN,
		GUID:     d.guid(2, j),
		Name:     name,
		Security: r%4 != 0,
	}
	count := d.MemberCount(j)
	if j < 3 {
		step := 1 << (j + 1)
		for i := 0; i < d.Users; i += step {
			g.Members = append(g.Members, i)
		}
	} else {
		seen := make(map[int]struct{}, count)
		for k := uint64(0); len(g.Members) < count; k++ {
			i := int(d.rnd(3, uint64(j), k) % uint64(d.Users))
			if _, dup := seen[i]; !dup {
				seen[i] = struct{}{}
				g.Members = append(g.Members, i)
			}
		}
		slices.Sort(g.Members)
	}
	// One group in ten nests up to two later groups.
	if groups := d.Groups(); r%10 == 1 {
		for k := uint64(1); k <= 2; k++ {
			if n := j + 1 + int(d.rnd(4, uint64(j), k)%16); n < groups && !slices.Contains(g.Nested, n) {
				g.Nested = append(g.Nested, n)
			}
		}
	}
	return g
}

// GroupDN returns the DN of group j.
func (d *Directory) GroupDN(j int) string {
	switch j {
	case 0:
		return "CN=All Staff,OU=Groups,OU=Corp," + d.BaseDN
	case 1:
		return "CN=Staff Half,OU=Groups,OU=Corp," + d.BaseDN
	case 2:
		return "CN=Staff Quarter,OU=Groups,OU=Corp," + d.BaseDN
	}
	return fmt.Sprintf("CN=Group %05d,OU=Groups,OU=Corp,%s", j, d.BaseDN)
}
