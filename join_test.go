package idbridge_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

var (
	joinADSchema = &connector.Schema{Types: []connector.ObjectType{{Name: "user", Attributes: []connector.Attribute{
		attr("employeeID", connector.String), attr("mail", connector.String), attr("department", connector.String),
	}}}}
	joinHRSchema = &connector.Schema{Types: []connector.ObjectType{{Name: "worker", Attributes: []connector.Attribute{
		attr("employeeNumber", connector.String), attr("email", connector.String), attr("dept", connector.String),
	}}}}
)

// joinRules returns a rule file in which AD projects people (mail flows
// unchanged, case and all) and HR joins them with the given join groups
// (YAML flow sequences) and sets their department at a better precedence.
func joinRules(t *testing.T, groups ...string) *rules.File {
	t.Helper()
	var join strings.Builder
	for _, g := range groups {
		fmt.Fprintf(&join, "      - %s\n", g)
	}
	src := `
metaverse:
  types:
    - name: person
      attributes:
        - {name: employeeID, type: string}
        - {name: mail, type: string}
        - {name: department, type: string}
rules:
  - name: AD
    direction: inbound
    connector: ad
    source: user
    target: person
    precedence: 100
    linkType: Provision
    join:
      - [{source: source.employeeID, target: employeeID}]
    flows:
      - {target: employeeID, source: employeeID}
      - {target: mail, source: mail}
      - {target: department, source: department}
  - name: HR
    direction: inbound
    connector: hr
    source: worker
    target: person
    precedence: 50
    linkType: Join
    join:
` + join.String() + `    flows:
      - {target: department, source: dept}
`
	f, err := rules.Parse("join.yaml", []byte(src))
	require.NoError(t, err)
	return f
}

// noFold hides a store's optional capabilities: a third-party store that
// cannot index case-insensitively.
type noFold struct{ metaverse.Store }

func newJoinEngine(t *testing.T, st metaverse.Store, rf *rules.File) (*idbridge.Engine, *memconn.System, *memconn.System, error) {
	t.Helper()
	ad, hr := memconn.New(joinADSchema), memconn.New(joinHRSchema)
	eng, err := idbridge.New(context.Background(), idbridge.Config{
		Store:      st,
		Connectors: map[string]connector.Connector{"ad": ad.Connector(), "hr": hr.Connector()},
		Rules:      rf,
	})
	return eng, ad, hr, err
}

func TestJoinConditions(t *testing.T) {
	const (
		mailCI    = `[{source: source.email, target: mail, caseInsensitive: true}]`
		mailCS    = `[{source: source.email, target: mail}]`
		idThenCI  = `[{source: source.employeeNumber, target: employeeID}, {source: source.email, target: mail, caseInsensitive: true}]`
		ciThenID  = `[{source: source.email, target: mail, caseInsensitive: true}, {source: source.employeeNumber, target: employeeID}]`
		ciThenCI  = `[{source: source.email, target: mail, caseInsensitive: true}, {source: source.dept, target: department, caseInsensitive: true}]`
		noMatchID = `[{source: '"nobody"', target: employeeID}]`
		neverCI   = `[{source: '"nobody"', target: mail, caseInsensitive: true}]` // makes mail a folded index
	)
	tests := []struct {
		name       string
		groups     []string
		adMail     string
		hrMail     string
		hrEmpNo    string
		wantJoined bool
	}{
		{"single case-insensitive condition, other case", []string{mailCI}, "Ada@Contoso.com", "ada@contoso.com", "E9", true},
		{"single case-insensitive condition, other case reversed", []string{mailCI}, "ada@contoso.com", "ADA@CONTOSO.COM", "E9", true},
		{"single case-insensitive condition, same case", []string{mailCI}, "ada@contoso.com", "ada@contoso.com", "E9", true},
		{"single case-insensitive condition, other value", []string{mailCI}, "Ada@Contoso.com", "bob@contoso.com", "E9", false},
		{"single case-sensitive condition, other case", []string{mailCS}, "Ada@Contoso.com", "ada@contoso.com", "E9", false},
		{"single case-sensitive condition, same case", []string{mailCS}, "Ada@Contoso.com", "Ada@Contoso.com", "E9", true},
		{"exact then case-insensitive", []string{idThenCI}, "Ada@Contoso.com", "ada@contoso.com", "E1", true},
		{"exact then case-insensitive, exact misses", []string{idThenCI}, "Ada@Contoso.com", "ada@contoso.com", "E2", false},
		{"case-insensitive then exact", []string{ciThenID}, "Ada@Contoso.com", "ada@contoso.com", "E1", true},
		{"case-insensitive then exact, exact misses", []string{ciThenID}, "Ada@Contoso.com", "ada@contoso.com", "E2", false},
		{"two case-insensitive conditions", []string{ciThenCI}, "Ada@Contoso.com", "ada@contoso.com", "E9", false}, // HR's dept is not AD's department
		{"second group joins when the first finds nothing", []string{noMatchID, mailCI}, "Ada@Contoso.com", "ada@contoso.com", "E9", true},
		{"unicode case folding", []string{mailCI}, "ÉLODIE@Contoso.com", "élodie@contoso.com", "E9", true},
		{"exact condition on an attribute indexed folded", []string{mailCS, neverCI}, "Ada@Contoso.com", "ada@contoso.com", "E9", false},
		{"exact condition on an attribute indexed folded, same case", []string{mailCS, neverCI}, "Ada@Contoso.com", "Ada@Contoso.com", "E9", true},
	}
	for _, store := range benchStores { // memstore, boltstore, pgstore
		for _, tt := range tests {
			t.Run(store.name+"/"+tt.name, func(t *testing.T) {
				ctx := context.Background()
				st := store.open(t)
				t.Cleanup(func() { st.Close() })
				eng, ad, hr, err := newJoinEngine(t, st, joinRules(t, tt.groups...))
				require.NoError(t, err)
				ad.Put(connector.Object{Anchor: "a1", DN: "cn=ada", Type: "user", Attrs: connector.Attributes{
					"employeeID": s("E1"), "mail": s(tt.adMail), "department": s("Sales")}})
				hr.Put(connector.Object{Anchor: "h1", DN: "worker=1", Type: "worker", Attrs: connector.Attributes{
					"employeeNumber": s(tt.hrEmpNo), "email": s(tt.hrMail), "dept": s("Research")}})
				cr, err := eng.Cycle(ctx, idbridge.Initial)
				require.NoError(t, err)
				syn := run(t, cr, "hr", idbridge.FullSync)
				assert.Empty(t, syn.Errors)
				entries := allEntries(t, st)
				require.Len(t, entries, 1, "HR joins, never projects")
				if tt.wantJoined {
					assert.Equal(t, 1, syn.Joins)
					assert.Len(t, entries[0].Links, 2)
					assert.Equal(t, "Research", entries[0].Attrs["department"][0].Str(), "HR's department wins by precedence")
				} else {
					assert.Equal(t, 0, syn.Joins)
					assert.Len(t, entries[0].Links, 1)
					assert.Equal(t, "Sales", entries[0].Attrs["department"][0].Str())
				}
			})
		}
	}
}

// TestJoinCaseInsensitiveWithoutFoldIndex: a store without
// metaverse.FoldIndexer can still join case-insensitively on a group that
// has an exact condition to look up; a group of case-insensitive
// conditions only is refused when the engine is built.
func TestJoinCaseInsensitiveWithoutFoldIndex(t *testing.T) {
	ctx := context.Background()
	idThenCI := `[{source: source.employeeNumber, target: employeeID}, {source: source.email, target: mail, caseInsensitive: true}]`
	ciThenID := `[{source: source.email, target: mail, caseInsensitive: true}, {source: source.employeeNumber, target: employeeID}]`
	for _, g := range []string{idThenCI, ciThenID} {
		st := noFold{memstore.New()}
		eng, ad, hr, err := newJoinEngine(t, st, joinRules(t, g))
		require.NoError(t, err)
		ad.Put(connector.Object{Anchor: "a1", DN: "cn=ada", Type: "user", Attrs: connector.Attributes{"employeeID": s("E1"), "mail": s("Ada@Contoso.com")}})
		hr.Put(connector.Object{Anchor: "h1", DN: "worker=1", Type: "worker", Attrs: connector.Attributes{"employeeNumber": s("E1"), "email": s("ada@contoso.com"), "dept": s("Research")}})
		cr, err := eng.Cycle(ctx, idbridge.Initial)
		require.NoError(t, err)
		assert.Equal(t, 1, run(t, cr, "hr", idbridge.FullSync).Joins, g)
	}

	_, _, _, err := newJoinEngine(t, noFold{memstore.New()}, joinRules(t, `[{source: source.email, target: mail, caseInsensitive: true}]`))
	require.ErrorIs(t, err, idbridge.ErrCaseInsensitiveJoin)
	assert.Contains(t, err.Error(), `rule "HR"`)
}

func allEntries(t *testing.T, st metaverse.Store) []*metaverse.Entry {
	t.Helper()
	var out []*metaverse.Entry
	require.NoError(t, st.View(context.Background(), func(tx metaverse.Tx) error {
		var err error
		out, err = tx.Entries(context.Background(), "", 0)
		return err
	}))
	return out
}
