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

// onboardRules make HR the authoritative source: workers project people,
// who are provisioned to AD under a DN computed from their name. AD has no
// inbound rule of its own beyond a join by employeeID.
const onboardRules = `
metaverse:
  types:
    - name: person
      attributes:
        - {name: employeeID, type: string}
        - {name: department, type: string}
        - {name: cn, type: string}
rules:
  - name: In from HR
    direction: inbound
    connector: hr
    source: worker
    target: person
    precedence: 10
    linkType: Provision
    flows:
      - {target: employeeID, source: employeeNumber}
      - {target: department, source: dept}
      - {target: cn, source: cn}
  - name: In from AD
    direction: inbound
    connector: ad
    source: user
    target: person
    precedence: 100
    linkType: Join
    join:
      - [{source: source.employeeID, target: employeeID}]
    flows:
      - {target: employeeID, source: employeeID}
  - name: Out to AD
    direction: outbound
    connector: ad
    source: person
    target: user
    precedence: 100
    linkType: Provision
    flows:
      - {target: dn, expression: 'rdn("CN", source.cn) + ",OU=Users,DC=contoso,DC=com"'}
      - {target: employeeID, source: employeeID}
      - {target: department, source: department}
`

var onboardHRSchema = &connector.Schema{Types: []connector.ObjectType{
	{Name: "worker", Attributes: []connector.Attribute{attr("employeeNumber", connector.String), attr("dept", connector.String), attr("cn", connector.String)}},
}}

type onboarding struct {
	ctx    context.Context
	hr, ad *memconn.System
	eng    *idbridge.Engine
}

func newOnboarding(t *testing.T, order []string) *onboarding {
	t.Helper()
	rf, err := rules.Parse("onboard.yaml", []byte(onboardRules))
	require.NoError(t, err)
	o := &onboarding{ctx: context.Background(), hr: memconn.New(onboardHRSchema), ad: memconn.New(adSchema)}
	o.eng, err = idbridge.New(o.ctx, idbridge.Config{
		Store:      memstore.New(),
		Connectors: map[string]connector.Connector{"hr": o.hr.Connector(), "ad": o.ad.Connector()},
		Rules:      rf,
		Options:    idbridge.Options{CycleOrder: order},
	})
	require.NoError(t, err)
	return o
}

func (o *onboarding) person(id, cn, dept string, inAD bool) {
	o.hr.Put(connector.Object{Anchor: connector.Anchor("hr-" + id), DN: "worker=" + id, Type: "worker",
		Attrs: connector.Attributes{"employeeNumber": s(id), "dept": s(dept), "cn": s(cn)}})
	if inAD {
		// Without employeeID: the account was made by hand, so the
		// inbound join cannot find it; only its DN says who it is.
		o.ad.Put(connector.Object{Anchor: connector.Anchor("ad-" + id), DN: "CN=" + cn + ",OU=Users,DC=contoso,DC=com", Type: "user",
			Attrs: connector.Attributes{"department": s("Old")}})
	}
}

// An HR-driven deployment onboarded onto an AD that already holds the same
// people: Cycle(Initial) on a fresh store joins the existing accounts by
// DN instead of adding them a second time, whatever the cycle order.
func TestOnboardingJoinsExistingAccounts(t *testing.T) {
	for _, order := range [][]string{nil, {"hr", "ad"}} {
		t.Run(fmt_order(order), func(t *testing.T) {
			o := newOnboarding(t, order)
			o.person("E1", "Ada Lovelace", "Research", true)
			o.person("E2", "Bob Babbage", "Sales", true)
			o.person("E3", "Cy Cray", "Labs", false) // new hire: no account yet

			cr, err := o.eng.Cycle(o.ctx, idbridge.Initial)
			require.NoError(t, err)
			assert.Empty(t, cr.Errors())
			_, err = o.eng.Cycle(o.ctx, idbridge.Delta)
			require.NoError(t, err)

			assert.Equal(t, 3, o.ad.Len(), "one account per person: no second add")
			var adds []string
			for _, ch := range o.ad.Exported {
				if ch.Kind == connector.Add {
					adds = append(adds, ch.DN)
				}
			}
			assert.Equal(t, []string{"CN=Cy Cray,OU=Users,DC=contoso,DC=com"}, adds, "only the new hire is added")
			for id, dept := range map[string]string{"E1": "Research", "E2": "Sales"} {
				u, ok := o.ad.Get(connector.Anchor("ad-" + id))
				require.True(t, ok)
				assert.Equal(t, dept, u.Attrs["department"][0].Str(), "the existing account is joined and managed")
				assert.Equal(t, id, u.Attrs["employeeID"][0].Str())
			}
			pe, err := o.eng.PendingExports(o.ctx, "ad", 0)
			require.NoError(t, err)
			assert.Empty(t, pe)
		})
	}
}

func fmt_order(order []string) string {
	if order == nil {
		return "name order"
	}
	return "hr first"
}

// A provisioned object whose DN is held by an object already linked to
// another entry is refused with ErrProvisionConflict, never added.
func TestProvisionOntoLinkedDNFails(t *testing.T) {
	o := newOnboarding(t, nil)
	// Two workers with the same name: the same computed DN.
	o.hr.Put(connector.Object{Anchor: "h1", DN: "worker=1", Type: "worker", Attrs: connector.Attributes{"employeeNumber": s("E1"), "dept": s("A"), "cn": s("Sam Same")}})
	o.hr.Put(connector.Object{Anchor: "h2", DN: "worker=2", Type: "worker", Attrs: connector.Attributes{"employeeNumber": s("E2"), "dept": s("B"), "cn": s("Sam Same")}})
	o.ad.Put(connector.Object{Anchor: "ad-1", DN: "CN=Sam Same,OU=Users,DC=contoso,DC=com", Type: "user", Attrs: connector.Attributes{"employeeID": s("E1")}})

	cr, err := o.eng.Cycle(o.ctx, idbridge.Initial)
	require.NoError(t, err)
	errs := cr.Errors()
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], idbridge.ErrProvisionConflict)
	assert.Equal(t, 1, o.ad.Len())
	for _, ch := range o.ad.Exported {
		assert.NotEqual(t, connector.Add, ch.Kind)
	}
	var linked int
	require.NoError(t, o.eng.Store().View(o.ctx, func(tx metaverse.Tx) error {
		obj, err := tx.ObjectByAnchor(o.ctx, "ad", "ad-1")
		if obj != nil && obj.EntryID != "" {
			linked++
		}
		return err
	}))
	assert.Equal(t, 1, linked)
}

// An existing account under another DN, which the inbound join finds by
// employeeID: with the authoritative source first in the cycle order, the
// join replaces the provisioned add before it is exported. (With AD
// first, AD's objects are evaluated before the people exist, so the order
// matters: see Options.CycleOrder.)
func TestOnboardingJoinByAttributeReplacesTheAdd(t *testing.T) {
	o := newOnboarding(t, []string{"hr", "ad"})
	o.hr.Put(connector.Object{Anchor: "hr-E4", DN: "worker=E4", Type: "worker", Attrs: connector.Attributes{"employeeNumber": s("E4"), "dept": s("Ops"), "cn": s("Eve Evans")}})
	o.ad.Put(connector.Object{Anchor: "ad-E4", DN: "CN=eevans,OU=Users,DC=contoso,DC=com", Type: "user", Attrs: connector.Attributes{"employeeID": s("E4")}})

	cr, err := o.eng.Cycle(o.ctx, idbridge.Initial)
	require.NoError(t, err)
	assert.Empty(t, cr.Errors())
	_, err = o.eng.Cycle(o.ctx, idbridge.Delta)
	require.NoError(t, err)

	assert.Equal(t, 1, o.ad.Len(), "no second account")
	for _, ch := range o.ad.Exported {
		assert.NotEqual(t, connector.Add, ch.Kind)
	}
	u, ok := o.ad.Get("ad-E4")
	require.True(t, ok)
	assert.Equal(t, "Ops", u.Attrs["department"][0].Str())
	assert.Equal(t, "CN=Eve Evans,OU=Users,DC=contoso,DC=com", u.DN, "renamed to the rules' DN")
}
