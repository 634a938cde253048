// Package gensample generates the quickstart's sample directory: an Active
// Directory export (in the manner of ldifde) of Contoso, a fictional
// company of about 300 users and 20 groups, with a few malformed records
// that the import reports and skips.
//
// The output depends only on the seed: run
//
//	go generate ./examples/quickstart/internal/gensample
//
// to rewrite examples/quickstart/data/contoso-ad.ldif; a test checks that
// the committed file is what the generator writes.
//
//go:generate go run ./cmd/gensample -o ../../data/contoso-ad.ldif
package gensample

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idbridge/idbridge/connector/ldif"
)

// Seed is the seed of the committed sample.
const Seed = 20240101

const (
	base     = "DC=contoso,DC=com"
	company  = "OU=Contoso," + base
	domain   = "contoso.com"
	groupsOU = "OU=Groups," + company
)

// User account control values.
const (
	uacNormal              = 512   // NORMAL_ACCOUNT
	uacDisabled            = 514   // NORMAL_ACCOUNT | ACCOUNTDISABLE
	uacPasswordNeverExpire = 66048 // NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD
)

// Group types.
const (
	globalSecurity       = -2147483646
	domainLocalSecurity  = -2147483644
	universalSecurity    = -2147483640
	universalDistributon = 8
)

// Stats counts what Write wrote.
type Stats struct {
	Users, Disabled, ServiceAccounts, Groups, OUs, Malformed int
	// LargestGroup is the member count of All Staff.
	LargestGroup int
}

func (s Stats) String() string {
	return fmt.Sprintf("%d users (%d disabled, %d service accounts), %d groups (All Staff: %d members), %d OUs, %d malformed records",
		s.Users, s.Disabled, s.ServiceAccounts, s.Groups, s.LargestGroup, s.OUs, s.Malformed)
}

type department struct {
	ou, name, head string
	staff          int
	titles         []string
}

var departments = []department{
	{"Sales", "Sales", "VP of Sales", 50, []string{"Account Executive", "Sales Representative", "Sales Engineer", "Inside Sales Representative"}},
	{"Engineering", "Engineering", "VP of Engineering", 70, []string{"Software Engineer", "Senior Software Engineer", "Site Reliability Engineer", "QA Engineer", "Principal Engineer"}},
	{"Finance", "Finance", "Chief Financial Officer", 25, []string{"Accountant", "Financial Analyst", "Controller", "Accounts Payable Specialist"}},
	{"HR", "Human Resources", "VP of Human Resources", 15, []string{"HR Generalist", "Recruiter", "HR Business Partner"}},
	{"Marketing", "Marketing", "VP of Marketing", 30, []string{"Marketing Specialist", "Content Writer", "Product Marketing Manager", "Designer"}},
	{"IT", "IT", "Chief Information Officer", 20, []string{"Systems Administrator", "Help Desk Technician", "Network Engineer", "Security Analyst"}},
	{"Operations", "Operations", "VP of Operations", 25, []string{"Operations Analyst", "Logistics Coordinator", "Facilities Manager"}},
	{"Legal", "Legal", "General Counsel", 8, []string{"Counsel", "Paralegal"}},
}

var givenNames = []string{
	"Aaliyah", "Adrian", "Aisha", "Alejandro", "Amelia", "Andrea", "Arjun", "Beatriz", "Benjamin", "Camila",
	"Carlos", "Chen", "Chloe", "Daniel", "Dmitri", "Elena", "Emeka", "Emma", "Ethan", "Fatima",
	"Freya", "Gabriel", "Hana", "Hiroshi", "Ingrid", "Isabella", "Ivan", "Jamal", "Jasmine", "Javier",
	"Julia", "Kenji", "Lars", "Layla", "Liam", "Lucas", "Maya", "Mei", "Mohammed", "Nadia",
	"Noah", "Olivia", "Omar", "Priya", "Rafael", "Ravi", "Rosa", "Samuel", "Sofia", "Sven",
	"Tariq", "Thandiwe", "Tomás", "Valentina", "Wei", "Yara", "Yusuf", "Zara", "Zoë", "Nikolai",
}

var surnames = []string{
	"Adeyemi", "Andersen", "Bakker", "Banerjee", "Becker", "Bianchi", "Castillo", "Chowdhury", "Costa", "Dubois",
	"Eriksson", "Fernández", "Fischer", "García", "Gonzalez", "Haddad", "Hansen", "Hernandez", "Ito", "Jansen",
	"Johnson", "Kim", "Kowalski", "Kumar", "Larsen", "Lee", "Lopez", "Martin", "Mendes", "Müller",
	"Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Petrov", "Popescu", "Rahman", "Reyes",
	"Rossi", "Santos", "Schmidt", "Silva", "Singh", "Smith", "Suzuki", "Tanaka", "Thompson", "Torres",
	"Van Dijk", "Virtanen", "Wagner", "Walker", "Wang", "Williams", "Wilson", "Yamamoto", "Zhang", "O'Brien",
}

type user struct {
	dn, cn, given, sn, sam, dept, title, manager string
	uac                                          int
	guid                                         []byte
	employeeID                                   string
	phone                                        string
	created                                      time.Time
	service                                      bool
}

type group struct {
	dn, name, desc, mail string
	groupType            int
	members              []string // DNs
	guid                 []byte
	created              time.Time
}

type generator struct {
	rng     *rand.Rand
	sams    map[string]bool
	cns     map[string]bool // folded DNs
	nextEmp int
	users   []*user
}

// Write writes the sample generated from seed to w.
func Write(w io.Writer, seed uint64) (Stats, error) {
	g := &generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), sams: map[string]bool{}, cns: map[string]bool{}, nextEmp: 100001}
	var st Stats
	ew := &errWriter{w: w}
	lw := ldif.NewWriter(ew)

	ew.str(header)
	ous := []string{company}
	for _, d := range departments {
		ous = append(ous, "OU="+d.ou+","+company)
	}
	ous = append(ous, "OU=Executive,"+company, "OU=Disabled,"+company, "OU=Service Accounts,"+company, groupsOU)
	for _, ou := range ous {
		name := strings.TrimPrefix(strings.SplitN(ou, ",", 2)[0], "OU=")
		_ = lw.Write(&ldif.Record{DN: ou, ChangeType: ldif.ChangeAdd, Attrs: []ldif.Attr{
			{Name: "objectClass", Value: "top"}, {Name: "objectClass", Value: "organizationalUnit"},
			{Name: "ou", Value: name},
			{Name: "distinguishedName", Value: ou},
			{Name: "objectGUID", Value: string(g.guid())},
		}})
		st.OUs++
	}

	// The management chain: CEO → department heads → managers → staff.
	ceo := g.user("OU=Executive,"+company, "Executive", "Chief Executive Officer", "", uacNormal)
	byDept := map[string][]*user{}
	heads := map[string]*user{}
	var leads []*user
	for _, d := range departments {
		head := g.user("OU=Executive,"+company, d.name, d.head, ceo.dn, uacNormal)
		heads[d.name] = head
		byDept[d.name] = append(byDept[d.name], head)
		n := (d.staff + 9) / 10
		var mgrs []*user
		for range n {
			m := g.user("OU="+d.ou+","+company, d.name, d.name+" Manager", head.dn, uacNormal)
			mgrs = append(mgrs, m)
			byDept[d.name] = append(byDept[d.name], m)
		}
		leads = append(leads, mgrs...)
		for i := range d.staff {
			s := g.user("OU="+d.ou+","+company, d.name, d.titles[g.rng.IntN(len(d.titles))], mgrs[i%len(mgrs)].dn, uacNormal)
			byDept[d.name] = append(byDept[d.name], s)
		}
	}
	active := slices.Clone(g.users)
	var disabled []*user
	for range 15 {
		d := departments[g.rng.IntN(len(departments))]
		disabled = append(disabled, g.user("OU=Disabled,"+company, d.name, d.titles[g.rng.IntN(len(d.titles))], "", uacDisabled))
	}
	var services []*user
	for _, name := range []string{"svc-backup", "svc-sql", "svc-sharepoint", "svc-scanner", "svc-monitoring", "svc-aadconnect"} {
		services = append(services, g.service(name))
	}

	// Users, with the malformed records among them.
	malformedAt := map[int]string{40: badBase64, 90: noDN, 150: badUAC, 220: noGUID}
	for i, u := range g.users {
		if m, ok := malformedAt[i]; ok {
			ew.str(m)
			st.Malformed++
		}
		_ = lw.Write(u.record())
		st.Users++
		switch {
		case u.service:
			st.ServiceAccounts++
		case u.uac == uacDisabled:
			st.Disabled++
		}
	}

	dnsOf := func(us []*user) []string {
		out := make([]string, len(us))
		for i, u := range us {
			out[i] = u.dn
		}
		return out
	}
	pick := func(from []*user, n int) []*user {
		idx := g.rng.Perm(len(from))[:n]
		slices.Sort(idx)
		out := make([]*user, n)
		for i, j := range idx {
			out[i] = from[j]
		}
		return out
	}
	var groups []*group
	newGroup := func(name, desc string, typ int, members []string) *group {
		gr := &group{dn: "CN=" + name + "," + groupsOU, name: name, desc: desc, groupType: typ, members: members, guid: g.guid(), created: g.created()}
		if typ == universalDistributon {
			gr.mail = strings.ToLower(strings.ReplaceAll(name, " ", "")) + "@" + domain
		}
		groups = append(groups, gr)
		return gr
	}
	deptGroup := map[string]*group{}
	for _, d := range departments {
		deptGroup[d.name] = newGroup(d.name, "Everyone in "+d.name, globalSecurity, dnsOf(byDept[d.name]))
	}
	headList := []*user{ceo}
	for _, d := range departments {
		headList = append(headList, heads[d.name])
	}
	newGroup("Executives", "The CEO and the heads of departments", globalSecurity, dnsOf(headList))
	newGroup("Managers", "Everyone who manages people", globalSecurity, dnsOf(append(headList[1:], leads...)))
	allStaff := newGroup("All Staff", "Every employee", universalDistributon, dnsOf(active))
	st.LargestGroup = len(allStaff.members)
	prodDev := newGroup("Product Development", "Engineering and Marketing (nested groups)", universalSecurity,
		[]string{deptGroup["Engineering"].dn, deptGroup["Marketing"].dn})
	approvers := newGroup("Finance Approvers", "May approve spending", globalSecurity,
		append([]string{ceo.dn, heads["Finance"].dn}, dnsOf(byDept["Finance"][1:3])...))
	newGroup("VPN Users", "Remote access (nested two levels through Product Development)", universalSecurity,
		[]string{prodDev.dn, deptGroup["IT"].dn, deptGroup["Sales"].dn})
	newGroup("Remote Workers", "Employees working from home", universalDistributon, dnsOf(pick(active, 30)))
	newGroup("Help Desk", "First-line support", globalSecurity, dnsOf(byDept["IT"][2:8]))
	newGroup("Service Account Admins", "Manage the service accounts", domainLocalSecurity,
		append([]string{heads["IT"].dn}, dnsOf(byDept["IT"][1:3])...))
	newGroup("Payroll", "Payroll processing (nested: HR and Finance Approvers)", globalSecurity,
		[]string{deptGroup["Human Resources"].dn, approvers.dn})
	newGroup("Contoso Social Club", "After-work activities", universalDistributon, dnsOf(pick(active, 40)))
	newGroup("Legacy App Users", "Users of the old expense application, some since departed", globalSecurity,
		append(dnsOf(pick(active, 8)), append(dnsOf(disabled[:4]), services[0].dn)...))
	for _, gr := range groups {
		_ = lw.Write(gr.record())
		st.Groups++
	}
	return st, ew.err
}

// user creates a user with a unique name in ou.
func (g *generator) user(ou, dept, title, manager string, uac int) *user {
	given := givenNames[g.rng.IntN(len(givenNames))]
	sn := surnames[g.rng.IntN(len(surnames))]
	cn := given + " " + sn
	for i := 0; g.cns[strings.ToLower(cn+","+ou)]; i++ {
		cn = given + " " + string(rune('A'+i%26)) + ". " + sn
	}
	g.cns[strings.ToLower(cn+","+ou)] = true
	u := &user{
		dn: "CN=" + escapeRDN(cn) + "," + ou, cn: cn, given: given, sn: sn, dept: dept, title: title, manager: manager, uac: uac,
		sam:  g.sam(asciiFold(strings.ToLower(given + "." + strings.ReplaceAll(strings.ReplaceAll(sn, " ", ""), "'", "")))),
		guid: g.guid(), employeeID: strconv.Itoa(g.nextEmp), phone: fmt.Sprintf("+1 425 555 %04d", 100+len(g.users)),
		created: g.created(),
	}
	g.nextEmp++
	g.users = append(g.users, u)
	return u
}

func (g *generator) service(name string) *user {
	ou := "OU=Service Accounts," + company
	u := &user{dn: "CN=" + name + "," + ou, cn: name, sam: g.sam(name), dept: "IT", title: "Service account",
		uac: uacPasswordNeverExpire, guid: g.guid(), created: g.created(), service: true}
	g.users = append(g.users, u)
	return u
}

// sam returns a unique sAMAccountName (at most 20 characters) from base.
func (g *generator) sam(base string) string {
	base = base[:min(len(base), 20)]
	s := base
	for i := 2; g.sams[s]; i++ {
		suffix := strconv.Itoa(i)
		s = base[:min(len(base), 20-len(suffix))] + suffix
	}
	g.sams[s] = true
	return s
}

func (g *generator) guid() []byte {
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(g.rng.UintN(256))
	}
	b[7] = b[7]&0x0f | 0x40 // version 4, in AD's mixed-endian layout
	b[8] = b[8]&0x3f | 0x80
	return b
}

func (g *generator) created() time.Time {
	start := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	return start.Add(time.Duration(g.rng.Int64N(int64(9*365*24*time.Hour))) / time.Second * time.Second)
}

func (u *user) record() *ldif.Record {
	a := func(name, value string) ldif.Attr { return ldif.Attr{Name: name, Value: value} }
	attrs := []ldif.Attr{
		a("objectClass", "top"), a("objectClass", "person"), a("objectClass", "organizationalPerson"), a("objectClass", "user"),
		a("cn", u.cn),
	}
	if u.sn != "" {
		attrs = append(attrs, a("sn", u.sn))
	}
	attrs = append(attrs, a("title", u.title))
	if u.phone != "" {
		attrs = append(attrs, a("telephoneNumber", u.phone))
	}
	if u.given != "" {
		attrs = append(attrs, a("givenName", u.given))
	}
	attrs = append(attrs,
		a("distinguishedName", u.dn),
		a("instanceType", "4"),
		a("whenCreated", u.created.Format("20060102150405")+".0Z"),
		a("displayName", u.cn),
		a("department", u.dept),
		a("company", "Contoso"),
	)
	if u.manager != "" {
		attrs = append(attrs, a("manager", u.manager))
	}
	attrs = append(attrs,
		a("name", u.cn),
		a("objectGUID", string(u.guid)),
		a("userAccountControl", strconv.Itoa(u.uac)),
	)
	if u.employeeID != "" {
		attrs = append(attrs, a("employeeID", u.employeeID))
	}
	attrs = append(attrs,
		a("sAMAccountName", u.sam),
		a("userPrincipalName", u.sam+"@"+domain),
	)
	if !u.service {
		attrs = append(attrs,
			a("mail", u.sam+"@"+domain),
			a("proxyAddresses", "SMTP:"+u.sam+"@"+domain),
			a("proxyAddresses", "smtp:"+u.sam+"@contoso.onmicrosoft.com"),
		)
	}
	attrs = append(attrs, a("objectCategory", "CN=Person,CN=Schema,CN=Configuration,"+base))
	return &ldif.Record{DN: u.dn, ChangeType: ldif.ChangeAdd, Attrs: attrs}
}

func (gr *group) record() *ldif.Record {
	a := func(name, value string) ldif.Attr { return ldif.Attr{Name: name, Value: value} }
	attrs := []ldif.Attr{
		a("objectClass", "top"), a("objectClass", "group"),
		a("cn", gr.name),
		a("description", gr.desc),
	}
	for _, m := range gr.members {
		attrs = append(attrs, a("member", m))
	}
	attrs = append(attrs,
		a("distinguishedName", gr.dn),
		a("instanceType", "4"),
		a("whenCreated", gr.created.Format("20060102150405")+".0Z"),
		a("name", gr.name),
		a("objectGUID", string(gr.guid)),
		a("sAMAccountName", strings.ReplaceAll(gr.name, " ", "")),
		a("groupType", strconv.Itoa(gr.groupType)),
	)
	if gr.mail != "" {
		attrs = append(attrs, a("mail", gr.mail), a("proxyAddresses", "SMTP:"+gr.mail))
	}
	attrs = append(attrs, a("objectCategory", "CN=Group,CN=Schema,CN=Configuration,"+base))
	return &ldif.Record{DN: gr.dn, ChangeType: ldif.ChangeAdd, Attrs: attrs}
}

// escapeRDN escapes the characters RFC 4514 reserves in an RDN value.
func escapeRDN(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `,`, `\,`, `+`, `\+`, `"`, `\"`, `<`, `\<`, `>`, `\>`, `;`, `\;`, `=`, `\=`)
	return r.Replace(s)
}

// asciiFold drops the accents this generator's names have, for account
// names and mail addresses.
func asciiFold(s string) string {
	return strings.NewReplacer("á", "a", "é", "e", "ë", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n").Replace(s)
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) str(s string) { _, _ = io.WriteString(e, s) }

const header = `# Contoso, Ltd. — a sample Active Directory export for the idbridge quickstart.
#
# The kind of file "ldifde -f contoso-ad.ldif -d OU=Contoso,DC=contoso,DC=com"
# writes: organizational units, users and groups, as "changetype: add"
# records. Every name, address and number is fictional. The file is
# generated (go generate ./examples/quickstart/internal/gensample): edit a
# copy, not this file, to see a change flow through a sync.
#
# Four records are malformed on purpose, each after a comment that says
# how; the import reports them with their line number and goes on.

`

const badBase64 = `# MALFORMED (on purpose): objectGUID is not valid base64. The import
# reports this record and skips it.
dn: CN=Quentin Blake,OU=Sales,OU=Contoso,DC=contoso,DC=com
changetype: add
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
cn: Quentin Blake
sn: Blake
givenName: Quentin
objectGUID:: This is not base64!
userAccountControl: 512
sAMAccountName: quentin.blake
userPrincipalName: quentin.blake@contoso.com

`

const noDN = `# MALFORMED (on purpose): this record has no dn line (it was cut from
# another file). The import reports it and skips it.
changetype: add
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
cn: Orphan Record
objectGUID:: 3q2+7wAAQACAAAAAAAAAAQ==
sAMAccountName: orphan.record

`

const badUAC = `# MALFORMED (on purpose): userAccountControl must be an integer, and
# "abc" is not. The import reports this record and skips it.
dn: CN=Ursula Franklin,OU=Engineering,OU=Contoso,DC=contoso,DC=com
changetype: add
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
cn: Ursula Franklin
sn: Franklin
givenName: Ursula
objectGUID:: q83vASNFZ0eJq83vASNFZw==
userAccountControl: abc
sAMAccountName: ursula.franklin
userPrincipalName: ursula.franklin@contoso.com

`

const noGUID = `# MALFORMED (on purpose): objectGUID, the anchor, is missing: the
# object cannot be identified. The import reports this record and skips it.
dn: CN=Victor Anchorless,OU=Finance,OU=Contoso,DC=contoso,DC=com
changetype: add
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
cn: Victor Anchorless
sn: Anchorless
givenName: Victor
userAccountControl: 512
sAMAccountName: victor.anchorless
userPrincipalName: victor.anchorless@contoso.com

`
