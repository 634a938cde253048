package idbridge_test

import (
	"context"
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

// The semantics tests run Entra Connect behaviours on memconn systems: AD
// (authoritative, projects people) and HR (joins them) feed the metaverse,
// which provisions to a cloud directory. Each test gives the flows of both
// inbound rules.

var (
	semADSchema = &connector.Schema{Types: []connector.ObjectType{{Name: "user", Attributes: []connector.Attribute{
		attr("employeeID", connector.String), attr("mail", connector.String), attr("title", connector.String),
		attr("department", connector.String), multi("proxyAddresses", connector.String), attr("enabled", connector.Boolean),
	}}}}
	semHRSchema = &connector.Schema{Types: []connector.ObjectType{{Name: "worker", Attributes: []connector.Attribute{
		attr("employeeNumber", connector.String), attr("title", connector.String), attr("dept", connector.String),
		multi("aliases", connector.String),
	}}}}
	semCloudSchema = &connector.Schema{Types: []connector.ObjectType{{Name: "user", Attributes: []connector.Attribute{
		attr("mail", connector.String), attr("title", connector.String), attr("department", connector.String),
		multi("proxies", connector.String), attr("accountEnabled", connector.Boolean), attr("jobCode", connector.String),
	}}}}
)

type semRules struct {
	adScope     string // CEL scope of the AD rule; "" for all
	adNoJoin    bool   // the AD rule only projects
	adFlows     string
	hrFlows     string
	hrLinkType  string // Join by default
	deprovision string // of the cloud rule
	cloudScope  string // CEL scope of the cloud rule
	cloudFlows  string // more flows of the cloud rule
}

func (r semRules) file(t *testing.T) *rules.File {
	t.Helper()
	adJoin := "    join:\n      - [{source: source.employeeID, target: employeeID}]\n"
	if r.adNoJoin {
		adJoin = ""
	}
	cloudScope := ""
	if r.cloudScope != "" {
		cloudScope = "    scope: '" + r.cloudScope + "'\n"
	}
	scope := ""
	if r.adScope != "" {
		scope = "    scope: '" + r.adScope + "'\n"
	}
	src := `
metaverse:
  types:
    - name: person
      attributes:
        - {name: employeeID, type: string}
        - {name: mail, type: string}
        - {name: title, type: string}
        - {name: department, type: string}
        - {name: proxyAddresses, type: string, multi: true}
        - {name: enabled, type: boolean}
rules:
  - name: AD
    direction: inbound
    connector: ad
    source: user
    target: person
    precedence: 100
    linkType: Provision
` + scope + adJoin + `    flows:
      - {target: employeeID, source: employeeID}
` + r.adFlows + `
  - name: HR
    direction: inbound
    connector: hr
    source: worker
    target: person
    precedence: 50
    linkType: ` + cmpOr(r.hrLinkType, "Join") + `
    join:
      - [{source: source.employeeNumber, target: employeeID}]
    flows:
` + cmpOr(r.hrFlows, "      - {target: title, source: title}\n") + `
  - name: Cloud
    direction: outbound
    connector: cloud
    source: person
    target: user
    linkType: Provision
` + deprovision(r.deprovision) + cloudScope + `    flows:
      - {target: dn, expression: '"cn=" + source.employeeID'}
      - {target: mail, source: mail}
      - {target: title, source: title}
      - {target: department, source: department}
      - {target: proxies, source: proxyAddresses}
      - {target: accountEnabled, expression: 'has(source.enabled) ? source.enabled : true'}
` + r.cloudFlows
	f, err := rules.Parse("semantics.yaml", []byte(src))
	require.NoError(t, err)
	return f
}

func deprovision(action string) string {
	switch action {
	case "":
		return ""
	case "disable":
		return "    deprovision: disable\n    deprovisionFlows:\n      - {target: accountEnabled, constant: \"false\"}\n"
	}
	return "    deprovision: " + action + "\n"
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

type semEnv struct {
	t             *testing.T
	ctx           context.Context
	store         metaverse.Store
	ad, hr, cloud *memconn.System
	eng           *idbridge.Engine
}

func newSemEnv(t *testing.T, r semRules) *semEnv {
	t.Helper()
	return newSemEnvStore(t, r, memstore.New())
}

func newSemEnvStore(t *testing.T, r semRules, st metaverse.Store) *semEnv {
	t.Helper()
	e := &semEnv{t: t, ctx: context.Background(), store: st,
		ad: memconn.New(semADSchema), hr: memconn.New(semHRSchema), cloud: memconn.New(semCloudSchema)}
	t.Cleanup(func() { e.store.Close() })
	var err error
	e.eng, err = idbridge.New(e.ctx, idbridge.Config{
		Store:      e.store,
		Connectors: map[string]connector.Connector{"ad": e.ad.Connector(), "hr": e.hr.Connector(), "cloud": e.cloud.Connector()},
		Rules:      r.file(t),
	})
	require.NoError(t, err)
	return e
}

func (e *semEnv) cycle(mode idbridge.CycleMode) *idbridge.CycleResult {
	e.t.Helper()
	cr, err := e.eng.Cycle(e.ctx, mode)
	require.NoError(e.t, err)
	return cr
}

func (e *semEnv) person(employeeID string) *metaverse.Entry {
	e.t.Helper()
	for _, en := range allEntries(e.t, e.store) {
		if v, ok := en.Attrs.First("employeeID"); ok && v.Str() == employeeID {
			return en
		}
	}
	return nil
}

func strs(vs []connector.Value) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Str())
	}
	return out
}

func adUser(id, employeeID string, attrs connector.Attributes) connector.Object {
	a := connector.Attributes{"employeeID": s(employeeID)}
	for k, v := range attrs {
		a[k] = v
	}
	return connector.Object{Anchor: connector.Anchor(id), DN: "cn=" + id, Type: "user", Attrs: a}
}

func hrWorker(id, employeeNumber string, attrs connector.Attributes) connector.Object {
	a := connector.Attributes{"employeeNumber": s(employeeNumber)}
	for k, v := range attrs {
		a[k] = v
	}
	return connector.Object{Anchor: connector.Anchor(id), DN: "worker=" + id, Type: "worker", Attrs: a}
}

func ss(vs ...string) []connector.Value {
	out := make([]connector.Value, len(vs))
	for i, v := range vs {
		out[i] = connector.StringValue(v)
	}
	return out
}

// TestAttributeFlows: precedence between connectors, Null and the special
// results, merges and apply-once, as Entra Connect computes a metaverse
// attribute from its contributors.
func TestAttributeFlows(t *testing.T) {
	tests := []struct {
		name   string
		rules  semRules
		ad, hr connector.Attributes
		attr   string
		want   []string
		source string // connector of the winning contribution; "" when none
	}{
		{"lower precedence number wins",
			semRules{adFlows: "      - {target: title, source: title}"},
			connector.Attributes{"title": s("Engineer")}, connector.Attributes{"title": s("Senior Engineer")},
			"title", []string{"Senior Engineer"}, "hr"},
		{"a Null contribution lets the next one win",
			semRules{adFlows: "      - {target: title, source: title}"},
			connector.Attributes{"title": s("Engineer")}, connector.Attributes{},
			"title", []string{"Engineer"}, "ad"},
		{"AuthoritativeNull wins and clears",
			semRules{adFlows: "      - {target: title, source: title}", hrFlows: "      - {target: title, expression: 'AuthoritativeNull()'}\n"},
			connector.Attributes{"title": s("Engineer")}, connector.Attributes{},
			"title", nil, "hr"},
		{"IgnoreThisFlow contributes nothing",
			semRules{adFlows: "      - {target: title, source: title}", hrFlows: "      - {target: title, expression: 'IgnoreThisFlow()'}\n"},
			connector.Attributes{"title": s("Engineer")}, connector.Attributes{},
			"title", []string{"Engineer"}, "ad"},
		{"merge takes the union without duplicates",
			semRules{adFlows: "      - {target: proxyAddresses, source: proxyAddresses, merge: merge}", hrFlows: "      - {target: proxyAddresses, source: aliases, merge: merge}\n"},
			connector.Attributes{"proxyAddresses": ss("SMTP:ada@contoso.com", "smtp:a@contoso.com")}, connector.Attributes{"aliases": ss("smtp:lovelace@contoso.com", "smtp:a@contoso.com", "SMTP:ADA@contoso.com")},
			"proxyAddresses", []string{"smtp:lovelace@contoso.com", "smtp:a@contoso.com", "SMTP:ADA@contoso.com", "SMTP:ada@contoso.com"}, "hr"},
		{"mergeCaseInsensitive folds duplicates",
			semRules{adFlows: "      - {target: proxyAddresses, source: proxyAddresses, merge: mergeCaseInsensitive}", hrFlows: "      - {target: proxyAddresses, source: aliases, merge: mergeCaseInsensitive}\n"},
			connector.Attributes{"proxyAddresses": ss("SMTP:ada@contoso.com", "smtp:a@contoso.com")}, connector.Attributes{"aliases": ss("smtp:lovelace@contoso.com", "SMTP:ADA@CONTOSO.COM")},
			"proxyAddresses", []string{"smtp:lovelace@contoso.com", "SMTP:ADA@CONTOSO.COM", "smtp:a@contoso.com"}, "hr"},
		{"update (no merge) takes the winner's values only",
			semRules{adFlows: "      - {target: proxyAddresses, source: proxyAddresses}", hrFlows: "      - {target: proxyAddresses, source: aliases}\n"},
			connector.Attributes{"proxyAddresses": ss("SMTP:ada@contoso.com")}, connector.Attributes{"aliases": ss("smtp:lovelace@contoso.com")},
			"proxyAddresses", []string{"smtp:lovelace@contoso.com"}, "hr"},
		{"a constant",
			semRules{adFlows: "      - {target: department, constant: Research}"},
			connector.Attributes{}, connector.Attributes{},
			"department", []string{"Research"}, "ad"},
		{"an expression",
			semRules{adFlows: "      - {target: mail, expression: 'source.mail.lowerAscii()'}"},
			connector.Attributes{"mail": s("Ada@Contoso.COM")}, connector.Attributes{},
			"mail", []string{"ada@contoso.com"}, "ad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSemEnv(t, tt.rules)
			e.ad.Put(adUser("a1", "E1", tt.ad))
			e.hr.Put(hrWorker("h1", "E1", tt.hr))
			cr := e.cycle(idbridge.Initial)
			assert.Empty(t, cr.Errors())
			p := e.person("E1")
			require.NotNil(t, p)
			require.Len(t, p.Links, 3, "AD, HR and cloud")
			assert.Equal(t, tt.want, strs(p.Attrs[tt.attr]))
			assert.Equal(t, tt.source, p.Sources[tt.attr].Connector)
		})
	}
}

// TestApplyOnce: an apply-once flow sets the attribute once and keeps it
// when the source changes.
func TestApplyOnce(t *testing.T) {
	e := newSemEnv(t, semRules{adFlows: "      - {target: mail, source: mail, applyOnce: true}\n      - {target: title, source: title}"})
	e.ad.Put(adUser("a1", "E1", connector.Attributes{"mail": s("first@contoso.com"), "title": s("Engineer")}))
	e.cycle(idbridge.Initial)
	require.NoError(t, e.ad.Modify("a1", connector.Mod{Op: connector.ModReplace, Name: "mail", Values: s("second@contoso.com")}, connector.Mod{Op: connector.ModReplace, Name: "title", Values: s("Lead")}))
	e.cycle(idbridge.Delta)
	p := e.person("E1")
	assert.Equal(t, []string{"first@contoso.com"}, strs(p.Attrs["mail"]))
	assert.Equal(t, []string{"Lead"}, strs(p.Attrs["title"]))
}

// TestDeletionOfUnseenObjects: a full import stages a delete for each
// object it no longer sees; the sync then disconnects it and, when it was
// the entry's last authoritative source, deletes the entry and
// deprovisions what it provisioned, while an object only joined to the
// entry becomes a disconnector.
func TestDeletionOfUnseenObjects(t *testing.T) {
	e := newSemEnv(t, semRules{adFlows: "      - {target: mail, source: mail}"})
	e.ad.Put(adUser("a1", "E1", connector.Attributes{"mail": s("ada@contoso.com")}))
	e.ad.Put(adUser("a2", "E2", connector.Attributes{"mail": s("bob@contoso.com")}))
	e.ad.Put(adUser("a3", "E3", connector.Attributes{"mail": s("eve@contoso.com")}))
	e.hr.Put(hrWorker("h2", "E2", connector.Attributes{"title": s("Lead")}))
	e.cycle(idbridge.Initial)
	e.cycle(idbridge.Delta) // the cloud import confirms the exports
	require.Equal(t, 3, e.cloud.Len())

	// a2 disappears in a way no delta reports (a full import only finds
	// out), and a4 arrives and leaves before any sync.
	e.ad.Put(adUser("a4", "E4", nil))
	_, err := e.eng.FullImport(e.ctx, "ad")
	require.NoError(t, err)
	e.ad.Delete("a4")
	e.ad.Delete("a2")
	imp, err := e.eng.FullImport(e.ctx, "ad")
	require.NoError(t, err)
	assert.Equal(t, 2, imp.Deletes, "a2 and a4 were not seen")

	syn, err := e.eng.FullSync(e.ctx, "ad")
	require.NoError(t, err)
	assert.Equal(t, 1, syn.MetaverseDeletes, "E2's entry")
	assert.Equal(t, 1, syn.Deprovisions, "E2's cloud user")
	assert.Nil(t, e.person("E2"))
	assert.NotNil(t, e.person("E1"))

	exp, err := e.eng.Export(e.ctx, "cloud")
	require.NoError(t, err)
	assert.Equal(t, 1, exp.Exported)
	_, ok := e.cloud.ByDN("cn=E2")
	assert.False(t, ok, "deprovisioned")
	assert.Equal(t, 2, e.cloud.Len())

	// The HR worker that was joined to E2 is a disconnector now, and stays
	// in HR.
	var h2 *metaverse.CSObject
	require.NoError(t, e.store.View(e.ctx, func(tx metaverse.Tx) error {
		var err error
		h2, err = tx.ObjectByAnchor(e.ctx, "hr", "h2")
		return err
	}))
	assert.Empty(t, h2.EntryID)
	assert.Equal(t, 1, e.hr.Len())
}

// TestJoinedObjectsAreOnlyDisconnected: deleting an entry deletes what
// outbound rules provisioned, and leaves objects joined to it by an
// inbound rule (here a cloud user that HR provisioned? no: that HR joined)
// linked to nothing, whatever the deprovision action.
func TestJoinedObjectsAreOnlyDisconnected(t *testing.T) {
	for _, action := range []string{"delete", "disconnect", "disable"} {
		t.Run(action, func(t *testing.T) {
			e := newSemEnv(t, semRules{adFlows: "      - {target: mail, source: mail}", deprovision: action})
			e.ad.Put(adUser("a1", "E1", connector.Attributes{"mail": s("ada@contoso.com")}))
			e.hr.Put(hrWorker("h1", "E1", nil))
			e.cycle(idbridge.Initial)
			e.cycle(idbridge.Delta)
			e.ad.Delete("a1")
			cr := e.cycle(idbridge.Delta)
			syn := run(t, cr, "ad", idbridge.DeltaSync)
			assert.Equal(t, 1, syn.MetaverseDeletes)
			assert.Equal(t, 2, syn.Disconnects, "AD's own link and HR's joined worker")
			assert.Equal(t, 1, e.hr.Len(), "the joined worker stays in HR")
			h, ok := e.hr.Get("h1")
			require.True(t, ok)
			assert.Equal(t, "E1", h.Attrs["employeeNumber"][0].Str(), "and is not modified")
			c, ok := e.cloud.ByDN("cn=E1")
			switch action {
			case "delete":
				assert.False(t, ok)
			case "disconnect":
				require.True(t, ok)
				assert.True(t, c.Attrs["accountEnabled"][0].Bool())
			case "disable":
				require.True(t, ok)
				assert.False(t, c.Attrs["accountEnabled"][0].Bool())
			}
		})
	}
}

// TestInboundScope: an object that leaves its rule's scope is
// disconnected, which deletes an entry it alone was the source of; back in
// scope, it projects a new one.
func TestInboundScope(t *testing.T) {
	e := newSemEnv(t, semRules{adScope: `has(source.mail)`, adFlows: "      - {target: mail, source: mail}"})
	e.ad.Put(adUser("a1", "E1", connector.Attributes{"mail": s("ada@contoso.com")}))
	e.ad.Put(adUser("a2", "E2", nil))
	cr := e.cycle(idbridge.Initial)
	assert.Equal(t, 1, run(t, cr, "ad", idbridge.FullSync).Projections, "a2 is out of scope")
	before := e.person("E1")
	require.NotNil(t, before)

	require.NoError(t, e.ad.Modify("a1", connector.Mod{Op: connector.ModRemove, Name: "mail"}))
	cr = e.cycle(idbridge.Delta)
	syn := run(t, cr, "ad", idbridge.DeltaSync)
	assert.Equal(t, 1, syn.Disconnects)
	assert.Equal(t, 1, syn.MetaverseDeletes)
	assert.Nil(t, e.person("E1"))

	require.NoError(t, e.ad.Modify("a1", connector.Mod{Op: connector.ModReplace, Name: "mail", Values: s("ada@contoso.com")}))
	cr = e.cycle(idbridge.Delta)
	assert.Equal(t, 1, run(t, cr, "ad", idbridge.DeltaSync).Projections)
	after := e.person("E1")
	require.NotNil(t, after)
	assert.NotEqual(t, before.ID, after.ID)
}

// TestAmbiguousJoin: a join that finds two entries joins neither, and a
// join to an entry already joined to another object of the same connector
// is refused: the object stays a disconnector with ErrAmbiguousJoin in the
// run's errors, and the cycle goes on.
func TestAmbiguousJoin(t *testing.T) {
	tests := []struct {
		name      string
		rules     semRules
		conn      string
		anchor    connector.Anchor
		message   string
		wantLinks int // links of HR objects
	}{
		{"two entries match", semRules{adNoJoin: true}, "hr", "h1", "matches 2 metaverse entries", 0},
		{"the entry is joined to another object of the connector", semRules{}, "ad", "a2", "already joined to object", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSemEnv(t, tt.rules)
			e.ad.Put(adUser("a1", "E1", nil))
			e.ad.Put(adUser("a2", "E1", nil)) // two AD accounts with one employee ID
			e.hr.Put(hrWorker("h1", "E1", nil))
			cr, err := e.eng.Cycle(e.ctx, idbridge.Initial)
			require.NoError(t, err, "object errors do not fail the cycle")
			var joinErrs []*idbridge.ObjectError
			for _, oe := range cr.Errors() {
				if oe.Step == "join" {
					joinErrs = append(joinErrs, oe)
				}
			}
			require.Len(t, joinErrs, 1)
			oe := joinErrs[0]
			assert.ErrorIs(t, oe, idbridge.ErrAmbiguousJoin)
			assert.Equal(t, tt.conn, oe.Connector)
			assert.Equal(t, tt.anchor, oe.Anchor)
			assert.Contains(t, oe.Error(), tt.message)
			links := 0
			for _, en := range allEntries(t, e.store) {
				for _, l := range en.Links {
					if l.Connector == "hr" {
						links++
					}
					assert.NotEqual(t, tt.anchor, l.ObjectID)
				}
			}
			assert.Equal(t, tt.wantLinks, links)
		})
	}
}

func TestEngineAccessors(t *testing.T) {
	e := newSemEnv(t, semRules{})
	assert.Equal(t, []string{"ad", "cloud", "hr"}, e.eng.Connectors())
	assert.Same(t, e.store, e.eng.Store())
	assert.NotNil(t, e.eng.Rules())
	assert.Equal(t, "Initial", idbridge.Initial.String())
	assert.Equal(t, "Delta", idbridge.Delta.String())
	assert.False(t, e.eng.Staging())
	e.eng.SetStaging(true)
	assert.True(t, e.eng.Staging())
}
