package idbridge_test

import (
	"context"
	"encoding/json"
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

// explainFixture is ExampleEngine_Explain's setup: HR, AD and a CRM
// joined into one person, provisioned to a cloud directory.
type explainFixture struct {
	ctx                context.Context
	store              metaverse.Store
	hr, ad, crm, cloud *memconn.System
	eng                *idbridge.Engine
}

func strObject(typ, anchor string, kv ...string) connector.Object {
	o := connector.Object{Anchor: connector.Anchor(anchor), DN: typ + "=" + anchor, Type: typ, Attrs: connector.Attributes{}}
	for i := 0; i < len(kv); i += 2 {
		o.Attrs[kv[i]] = []connector.Value{connector.StringValue(kv[i+1])}
	}
	return o
}

func strSystem(typ string, attrs ...string) *memconn.System {
	t := connector.ObjectType{Name: typ}
	for _, a := range attrs {
		t.Attributes = append(t.Attributes, connector.Attribute{Name: a, Type: connector.String})
	}
	return memconn.New(&connector.Schema{Types: []connector.ObjectType{t}})
}

func newExplainFixture(t *testing.T, ruleFile string, opts idbridge.Options) *explainFixture {
	t.Helper()
	return newExplainFixtureOn(t, memstore.New(), ruleFile, opts)
}

func newExplainFixtureOn(t *testing.T, store metaverse.Store, ruleFile string, opts idbridge.Options) *explainFixture {
	t.Helper()
	f := &explainFixture{
		ctx:   context.Background(),
		store: store,
		hr:    strSystem("worker", "id", "name"),
		ad:    strSystem("user", "employeeID", "displayName", "mail", "title", "department"),
		crm:   strSystem("contact", "employeeNumber", "fullName", "email"),
		cloud: strSystem("user", "displayName", "mail", "jobTitle"),
	}
	f.hr.Put(strObject("worker", "w1", "id", "1001", "name", "Ada Lovelace"))
	f.ad.Put(strObject("user", "u1", "employeeID", "1001", "displayName", "Lovelace, Ada", "mail", "ada@contoso.com", "title", "Analyst", "department", "Research"))
	f.crm.Put(strObject("contact", "c1", "employeeNumber", "1001", "fullName", "Ada L.", "email", "ada@crm.example"))
	f.crm.Put(strObject("contact", "c2", "employeeNumber", "9999", "fullName", "Nobody", "email", "nobody@crm.example"))
	rf, err := rules.Parse("explain.yaml", []byte(ruleFile))
	require.NoError(t, err)
	f.eng, err = idbridge.New(f.ctx, idbridge.Config{
		Store: f.store,
		Connectors: map[string]connector.Connector{
			"hr": f.hr.Connector(), "ad": f.ad.Connector(), "crm": f.crm.Connector(), "cloud": f.cloud.Connector(),
		},
		Rules:   rf,
		Options: opts,
	})
	require.NoError(t, err)
	for _, mode := range []idbridge.CycleMode{idbridge.Initial, idbridge.Initial, idbridge.Delta} {
		_, err := f.eng.Cycle(f.ctx, mode)
		require.NoError(t, err)
	}
	return f
}

func (f *explainFixture) explain(t *testing.T, target idbridge.ExplainTarget) *idbridge.Explanation {
	t.Helper()
	x, err := f.eng.Explain(f.ctx, target)
	require.NoError(t, err)
	return x
}

func attrOf(t *testing.T, x *idbridge.Explanation, name string) idbridge.AttributeExplanation {
	t.Helper()
	for _, a := range x.Attributes {
		if a.Name == name {
			return a
		}
	}
	require.Failf(t, "no attribute", "%s in %+v", name, x.Attributes)
	return idbridge.AttributeExplanation{}
}

func outcomes(cs []idbridge.Contribution) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Connector+"/"+string(c.Outcome))
	}
	return out
}

// storeSnapshot reads everything the store holds that a sync could write.
type storeSnapshot struct {
	Entries    []*metaverse.Entry
	Objects    map[string][]*metaverse.CSObject
	Watermarks map[string][]byte
	Seq        uint64
	Runs       map[string]int
}

func snapshot(t *testing.T, ctx context.Context, s metaverse.Store, conns ...string) storeSnapshot {
	t.Helper()
	snap := storeSnapshot{Objects: map[string][]*metaverse.CSObject{}, Watermarks: map[string][]byte{}, Runs: map[string]int{}}
	require.NoError(t, s.View(ctx, func(tx metaverse.Tx) error {
		var err error
		if snap.Entries, err = tx.Entries(ctx, "", 1<<20); err != nil {
			return err
		}
		if snap.Seq, err = tx.Counter(ctx, "idbridge.seq"); err != nil {
			return err
		}
		for _, c := range conns {
			if snap.Objects[c], err = tx.Objects(ctx, c, "", 1<<20); err != nil {
				return err
			}
			if snap.Watermarks[c], err = tx.Watermark(ctx, c); err != nil {
				return err
			}
			runs, err := tx.Runs(ctx, c, 1<<20)
			if err != nil {
				return err
			}
			snap.Runs[c] = len(runs)
		}
		return nil
	}))
	return snap
}

// Explain writes nothing: the store is the same, entry by entry and object
// by object, before and after explaining every object and entry, with a
// pending import that a sync would apply; on each store.
func TestExplainWritesNothing(t *testing.T) {
	for _, st := range benchStores {
		t.Run(st.name, func(t *testing.T) {
			testExplainWritesNothing(t, newExplainFixtureOn(t, st.open(t), explainRules, idbridge.Options{}))
		})
	}
}

func testExplainWritesNothing(t *testing.T, f *explainFixture) {
	f.hr.Put(strObject("worker", "w1", "id", "1001", "name", "Ada King"))
	f.hr.Put(strObject("worker", "w2", "id", "1002", "name", "Charles Babbage")) // would be projected and provisioned
	_, err := f.eng.DeltaImport(f.ctx, "hr")
	require.NoError(t, err)
	conns := []string{"ad", "cloud", "crm", "hr"}
	before := snapshot(t, f.ctx, f.store, conns...)
	require.NotEmpty(t, before.Entries)

	var targets []idbridge.ExplainTarget
	for _, e := range before.Entries {
		targets = append(targets, idbridge.ExplainTarget{EntryID: e.ID})
	}
	for _, c := range conns {
		for _, o := range before.Objects[c] {
			targets = append(targets, idbridge.ExplainTarget{Connector: c, ObjectID: o.ID})
		}
	}
	for _, target := range targets {
		f.explain(t, target)
	}
	x := f.explain(t, idbridge.ExplainTarget{Connector: "hr", Anchor: "w2"})
	require.NotEmpty(t, x.EntryID, "the new worker is projected in the dry run")
	assert.Equal(t, before, snapshot(t, f.ctx, f.store, conns...))
}

// An Explanation survives a JSON round trip.
func TestExplainJSONRoundTrip(t *testing.T) {
	f := newExplainFixture(t, explainRules, idbridge.Options{})
	f.hr.Put(strObject("worker", "w1", "id", "1001", "name", "Ada King"))
	f.hr.Put(strObject("worker", "w2", "id", "1002", "name", "Charles Babbage"))
	_, err := f.eng.DeltaImport(f.ctx, "hr")
	require.NoError(t, err)
	for _, target := range []idbridge.ExplainTarget{
		{Connector: "hr", Anchor: "w1"}, // an update
		{Connector: "hr", Anchor: "w2"}, // a provision
		{Connector: "crm", Anchor: "c2"},
	} {
		x := f.explain(t, target)
		b, err := json.Marshal(x)
		require.NoError(t, err)
		var back idbridge.Explanation
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, x, &back, string(b))
		assert.Contains(t, string(b), `"outcome":`)
	}
}

func TestExplainTargets(t *testing.T) {
	f := newExplainFixture(t, explainRules, idbridge.Options{})
	hrObj := f.explain(t, idbridge.ExplainTarget{Connector: "hr", Anchor: "w1"})
	require.NotEmpty(t, hrObj.EntryID)
	byEntry := f.explain(t, idbridge.ExplainTarget{EntryID: hrObj.EntryID})
	byID := f.explain(t, idbridge.ExplainTarget{Connector: "hr", ObjectID: hrObj.ObjectID})
	adObj := f.explain(t, idbridge.ExplainTarget{Connector: "ad", Anchor: "u1"})
	cloudObj := f.explain(t, idbridge.ExplainTarget{Connector: "cloud", Anchor: hrObj.Links[1].Anchor})

	// The same entry, whichever way it is reached.
	for _, x := range []*idbridge.Explanation{byEntry, byID, adObj, cloudObj} {
		assert.Equal(t, hrObj.EntryID, x.EntryID)
		assert.Equal(t, hrObj.Attributes, x.Attributes)
		assert.Equal(t, hrObj.Outbound, x.Outbound)
		assert.Equal(t, hrObj.Links, x.Links)
	}
	assert.Equal(t, "hr", hrObj.Connector)
	assert.Equal(t, connector.Anchor("w1"), hrObj.Anchor)
	assert.Empty(t, byEntry.Connector)
	require.Len(t, hrObj.Links, 4)
	assert.Equal(t, []string{"hr", "cloud", "ad", "crm"}, []string{hrObj.Links[0].Connector, hrObj.Links[1].Connector, hrObj.Links[2].Connector, hrObj.Links[3].Connector})
	assert.False(t, hrObj.Links[1].Inbound)
	assert.Equal(t, "Provision", hrObj.Links[1].Type)

	// Explain agrees with Preview.
	p, err := f.eng.Preview(f.ctx, "hr", "w1")
	require.NoError(t, err)
	for _, a := range hrObj.Attributes {
		assert.Equal(t, p.After.Attrs[a.Name], a.Values, a.Name)
		assert.Equal(t, p.After.Sources[a.Name], metaverse.Source{Connector: a.Connector, Rule: a.Rule}, a.Name)
	}

	for _, tc := range []struct {
		name   string
		target idbridge.ExplainTarget
		is     error
		msg    string
	}{
		{"nothing", idbridge.ExplainTarget{}, idbridge.ErrInvalidTarget, ""},
		{"both", idbridge.ExplainTarget{EntryID: hrObj.EntryID, Connector: "hr", Anchor: "w1"}, idbridge.ErrInvalidTarget, ""},
		{"no connector", idbridge.ExplainTarget{Anchor: "w1"}, idbridge.ErrInvalidTarget, ""},
		{"anchor and ID", idbridge.ExplainTarget{Connector: "hr", Anchor: "w1", ObjectID: hrObj.ObjectID}, idbridge.ErrInvalidTarget, ""},
		{"unknown connector", idbridge.ExplainTarget{Connector: "sap", Anchor: "w1"}, idbridge.ErrUnknownConnector, ""},
		{"unknown anchor", idbridge.ExplainTarget{Connector: "hr", Anchor: "w9"}, metaverse.ErrNotFound,
			`idbridge: explain: no object with anchor "w9" in "hr": metaverse: not found`},
		{"unknown object ID", idbridge.ExplainTarget{Connector: "hr", ObjectID: "nope"}, metaverse.ErrNotFound,
			`idbridge: explain: no object with ID "nope" in "hr": metaverse: not found`},
		{"unknown entry", idbridge.ExplainTarget{EntryID: "nope"}, metaverse.ErrNotFound,
			`idbridge: explain: no metaverse entry "nope": metaverse: not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.eng.Explain(f.ctx, tc.target)
			require.ErrorIs(t, err, tc.is)
			if tc.msg != "" {
				assert.EqualError(t, err, tc.msg)
			}
		})
	}
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	_, err = f.eng.Explain(ctx, idbridge.ExplainTarget{EntryID: hrObj.EntryID})
	require.ErrorIs(t, err, context.Canceled)
}

// A CRM contact that joins nobody: what its rule would contribute, and
// why it does not.
func TestExplainDisconnector(t *testing.T) {
	f := newExplainFixture(t, explainRules, idbridge.Options{})
	x := f.explain(t, idbridge.ExplainTarget{Connector: "crm", Anchor: "c2"})
	assert.Empty(t, x.EntryID)
	assert.Empty(t, x.Outbound)
	names := []string{}
	for _, a := range x.Attributes {
		names = append(names, a.Name)
		require.Len(t, a.Contributions, 1)
		assert.Equal(t, idbridge.OutcomeNotJoined, a.Contributions[0].Outcome)
		assert.Empty(t, a.Values)
	}
	assert.Equal(t, []string{"displayName", "mail", "title"}, names)
	assert.Equal(t, []connector.Value{connector.StringValue("nobody@crm.example")}, attrOf(t, x, "mail").Contributions[0].Values)
	assert.Equal(t, "source: email", attrOf(t, x, "mail").Contributions[0].Flow)
	assert.Equal(t, []idbridge.JoinAttempt{{Rule: "In from CRM", Group: 1, Keys: []idbridge.JoinKeyExplanation{{Attr: "employeeID", Values: strVals("9999")}}}}, x.Joins)

	// A new worker: the join group found nothing, a Provision rule
	// projected it.
	f.hr.Put(strObject("worker", "w2", "id", "2002", "name", "Charles Babbage"))
	_, err := f.eng.DeltaImport(f.ctx, "hr")
	require.NoError(t, err)
	x = f.explain(t, idbridge.ExplainTarget{Connector: "hr", Anchor: "w2"})
	assert.NotEmpty(t, x.EntryID)
	assert.Equal(t, []idbridge.JoinAttempt{{Rule: "In from HR", Group: 1, Keys: []idbridge.JoinKeyExplanation{{Attr: "employeeID", Values: strVals("2002")}}}}, x.Joins)
	assert.Equal(t, []string{"hr/won"}, outcomes(attrOf(t, x, "displayName").Contributions))
}

// The outcomes decide gives, attribute by attribute, for rule variants.
func TestExplainOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(string) string
		attr  string
		want  []string // connector/outcome, in order
		value []connector.Value
		src   string
	}{
		{"precedence", nil, "displayName", []string{"hr/won", "ad/precedence", "crm/precedence"}, strVals("Ada Lovelace"), "hr"},
		{"null then value", nil, "mail", []string{"hr/null", "ad/won", "crm/precedence"}, strVals("ada@contoso.com"), "ad"},
		{"ignore and out of scope", nil, "title", []string{"ad/won", "crm/ignoreThisFlow", "ad/outOfScope"}, strVals("Analyst"), "ad"},
		{"authoritative null", func(s string) string {
			return strings.Replace(s, "{target: mail, expression: 'Null()'}", "{target: mail, expression: 'AuthoritativeNull()'}", 1)
		}, "mail", []string{"hr/won", "ad/precedence", "crm/precedence"}, nil, "hr"},
		{"ignore keeps the current value", func(s string) string {
			s = strings.Replace(s, "{target: title, source: title}", "{target: title, expression: 'IgnoreThisFlow()'}", 1)
			return s
		}, "title", []string{"ad/ignoreThisFlow", "crm/ignoreThisFlow", "ad/outOfScope"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rf := explainRules
			if tc.edit != nil {
				rf = tc.edit(rf)
			}
			f := newExplainFixture(t, rf, idbridge.Options{})
			x := f.explain(t, idbridge.ExplainTarget{Connector: "hr", Anchor: "w1"})
			a := attrOf(t, x, tc.attr)
			assert.Equal(t, tc.want, outcomes(a.Contributions))
			assert.Equal(t, tc.value, a.Values)
			assert.Equal(t, tc.src, a.Connector)
		})
	}
}

// Merge flows: every contributor's values, each marked merged but the
// winner's; an apply-once flow keeps the value set first.
func TestExplainMergeAndApplyOnce(t *testing.T) {
	rf := strings.NewReplacer(
		"        - {name: title, type: string}\n", "        - {name: title, type: string}\n        - {name: aliases, type: string, multi: true}\n        - {name: firstName, type: string}\n",
		"      - {target: displayName, source: name}\n", "      - {target: displayName, source: name}\n      - {target: aliases, source: name, merge: merge}\n      - {target: firstName, expression: 'source.name.split(\" \")[0]', applyOnce: true}\n",
		"      - {target: displayName, source: fullName}\n", "      - {target: displayName, source: fullName}\n      - {target: aliases, source: fullName, merge: merge}\n",
	).Replace(explainRules)
	f := newExplainFixture(t, rf, idbridge.Options{})
	f.hr.Put(strObject("worker", "w1", "id", "1001", "name", "Augusta King"))
	_, err := f.eng.DeltaImport(f.ctx, "hr")
	require.NoError(t, err)
	x := f.explain(t, idbridge.ExplainTarget{Connector: "hr", Anchor: "w1"})

	aliases := attrOf(t, x, "aliases")
	assert.Equal(t, []string{"hr/won", "crm/merged"}, outcomes(aliases.Contributions))
	assert.Equal(t, strVals("Augusta King", "Ada L."), aliases.Values)

	first := attrOf(t, x, "firstName")
	assert.Equal(t, []string{"hr/applyOnceKept"}, outcomes(first.Contributions))
	assert.Equal(t, strVals("Augusta"), first.Contributions[0].Values)
	assert.Equal(t, strVals("Ada"), first.Values)
}

// Outbound: the rules in scope, each target attribute's winner and
// losers, and the export: an Add for a new person, an Update for a
// change, a Delete when the person leaves the scope.
func TestExplainOutbound(t *testing.T) {
	rf := strings.Replace(explainRules, `  - name: Out to Cloud
    direction: outbound
    connector: cloud
    source: person
    target: user
    precedence: 10
    linkType: Provision
    flows:`, `  - name: Out to Cloud - Override
    direction: outbound
    connector: cloud
    source: person
    target: user
    precedence: 5
    scope: 'source.employeeID.startsWith("10")'
    flows:
      - {target: mail, expression: 'source.employeeID + "@cloud.example"'}
      - {target: jobTitle, expression: 'Null()'}
  - name: Out to Cloud
    direction: outbound
    connector: cloud
    source: person
    target: user
    precedence: 10
    linkType: Provision
    scope: 'source.displayName != "Gone"'
    flows:`, 1)
	f := newExplainFixture(t, rf, idbridge.Options{})

	f.hr.Put(strObject("worker", "w2", "id", "2002", "name", "Charles Babbage"))
	_, err := f.eng.DeltaImport(f.ctx, "hr")
	require.NoError(t, err)
	x := f.explain(t, idbridge.ExplainTarget{Connector: "hr", Anchor: "w2"})
	require.Len(t, x.Outbound, 1)
	o := x.Outbound[0]
	assert.Equal(t, "cloud", o.Connector)
	assert.Equal(t, []idbridge.RuleScope{{Rule: "Out to Cloud - Override", Precedence: 5}, {Rule: "Out to Cloud", Precedence: 10, InScope: true}}, o.Rules)
	require.NotNil(t, o.Export)
	assert.Equal(t, "add", o.Export.Kind)
	assert.Equal(t, "uid=2002", o.Export.DN)
	assert.Equal(t, connector.Attributes{"displayName": strVals("Charles Babbage")}, o.Export.Attrs)
	assert.NotEmpty(t, o.ObjectID)

	f.hr.Put(strObject("worker", "w1", "id", "1001", "name", "Ada King"))
	_, err = f.eng.DeltaImport(f.ctx, "hr")
	require.NoError(t, err)
	x = f.explain(t, idbridge.ExplainTarget{Connector: "hr", Anchor: "w1"})
	o = x.Outbound[0]
	byName := map[string]idbridge.OutboundAttribute{}
	for _, a := range o.Attributes {
		byName[a.Name] = a
	}
	assert.Equal(t, []string{"cloud/won", "cloud/precedence"}, outcomes(byName["mail"].Contributions))
	assert.Equal(t, "Out to Cloud - Override", byName["mail"].Rule)
	assert.Equal(t, strVals("1001@cloud.example"), byName["mail"].Values)
	assert.Equal(t, []string{"cloud/null", "cloud/won"}, outcomes(byName["jobTitle"].Contributions))
	assert.Equal(t, []string{"cloud/won"}, outcomes(byName["dn"].Contributions))
	require.NotNil(t, o.Export)
	assert.Equal(t, "update", o.Export.Kind)
	assert.Equal(t, []idbridge.ExplainedMod{{Name: "displayName", Op: "replace", Values: strVals("Ada King")}}, o.Export.Mods)

	// Out of every rule's scope: deprovisioned.
	f.hr.Put(strObject("worker", "w1", "id", "3001", "name", "Gone"))
	_, err = f.eng.DeltaImport(f.ctx, "hr")
	require.NoError(t, err)
	x = f.explain(t, idbridge.ExplainTarget{Connector: "hr", Anchor: "w1"})
	o = x.Outbound[0]
	assert.Equal(t, []idbridge.RuleScope{{Rule: "Out to Cloud - Override", Precedence: 5}, {Rule: "Out to Cloud", Precedence: 10}}, o.Rules)
	require.NotNil(t, o.Export)
	assert.Equal(t, "delete", o.Export.Kind)
	assert.Equal(t, "uid=1001", o.DN)
}

// The engine takes the CEL evaluator's options: a custom function in a
// rule, and Explain shows the flow that calls it.
func TestEngineCustomFunction(t *testing.T) {
	eval := rules.NewCEL(rules.Function("initials", func(s string) string {
		var b strings.Builder
		for _, w := range strings.Fields(s) {
			b.WriteString(w[:1])
		}
		return b.String()
	}))
	rf := strings.Replace(explainRules, "      - {target: mail, expression: 'Null()'}", "      - {target: title, expression: 'initials(source.name)'}", 1)
	f := newExplainFixture(t, rf, idbridge.Options{Evaluator: eval})
	x := f.explain(t, idbridge.ExplainTarget{Connector: "hr", Anchor: "w1"})
	title := attrOf(t, x, "title")
	assert.Equal(t, strVals("AL"), title.Values)
	assert.Equal(t, "expression: initials(source.name)", title.Contributions[0].Flow)

	// Without the function the rules do not compile.
	parsed, err := rules.Parse("explain.yaml", []byte(rf))
	require.NoError(t, err)
	_, err = idbridge.New(f.ctx, idbridge.Config{Store: memstore.New(), Connectors: map[string]connector.Connector{
		"hr": f.hr.Connector(), "ad": f.ad.Connector(), "crm": f.crm.Connector(), "cloud": f.cloud.Connector(),
	}, Rules: parsed})
	require.ErrorIs(t, err, rules.ErrInvalidRule)
	assert.Contains(t, err.Error(), "undeclared reference to 'initials'")
}

func strVals(ss ...string) []connector.Value {
	out := make([]connector.Value, len(ss))
	for i, s := range ss {
		out[i] = connector.StringValue(s)
	}
	return out
}

// What Explain says a sync would do is what the sync does: the entries'
// attributes and sources, and the pending exports.
func TestExplainMatchesSync(t *testing.T) {
	f := newExplainFixture(t, explainRules, idbridge.Options{})
	f.hr.Put(strObject("worker", "w1", "id", "1001", "name", "Ada King"))
	f.hr.Put(strObject("worker", "w2", "id", "1002", "name", "Charles Babbage"))
	_, err := f.eng.DeltaImport(f.ctx, "hr")
	require.NoError(t, err)
	var xs []*idbridge.Explanation
	for _, a := range []connector.Anchor{"w1", "w2"} {
		xs = append(xs, f.explain(t, idbridge.ExplainTarget{Connector: "hr", Anchor: a}))
	}
	_, err = f.eng.DeltaSync(f.ctx, "hr")
	require.NoError(t, err)
	pending, err := f.eng.PendingExports(f.ctx, "cloud", 0)
	require.NoError(t, err)
	require.Len(t, pending, 2)
	for _, x := range xs {
		var entry *metaverse.Entry
		require.NoError(t, f.store.View(f.ctx, func(tx metaverse.Tx) error {
			entry, err = tx.Entry(f.ctx, x.EntryID)
			return err
		}))
		got := connector.Attributes{}
		for _, a := range x.Attributes {
			if len(a.Values) > 0 {
				got[a.Name] = a.Values
			}
			assert.Equal(t, entry.Sources[a.Name], metaverse.Source{Connector: a.Connector, Rule: a.Rule}, a.Name)
		}
		assert.Equal(t, entry.Attrs, got)
		require.Len(t, x.Outbound, 1)
		o := x.Outbound[0]
		var pe *idbridge.PendingExport
		for i := range pending {
			if pending[i].ObjectID == o.ObjectID {
				pe = &pending[i]
			}
		}
		require.NotNil(t, pe, o.ObjectID)
		require.NotNil(t, o.Export)
		assert.Equal(t, pe.Change.Kind.String(), o.Export.Kind)
		assert.Equal(t, pe.Change.DN, o.Export.DN)
		assert.Equal(t, pe.Change.Attrs, o.Export.Attrs)
		assert.Len(t, o.Export.Mods, len(pe.Change.Mods))
	}
}
