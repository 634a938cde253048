package entraconnect_test

import (
	"errors"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/rules"
	"github.com/idbridge/idbridge/rules/entraconnect"
)

var defaultsPos = regexp.MustCompile(`(entraconnect/\w+\.yaml):\d+:\d+`)

func ruleByName(f *rules.File, name string) (rules.Rule, bool) {
	for _, r := range f.Rules {
		if r.Name == name {
			return r, true
		}
	}
	return rules.Rule{}, false
}

// TestOverlay: a product's rule file replaces default rules by name,
// disables them, adds its own and extends the metaverse; what would be
// ambiguous is refused with the position of the product's rule.
func TestOverlay(t *testing.T) {
	two := entraconnect.Options{Forests: []entraconnect.Forest{{Connector: "contoso"}, {Connector: "fabrikam"}}}
	tests := []struct {
		name    string
		opts    entraconnect.Options
		overlay string
		check   func(t *testing.T, f *rules.File)
		errs    []string // each error's text, in order
	}{{
		name: "replace, disable, add",
		overlay: `
metaverse:
  types:
    - name: person
      attributes:
        - {name: costCenter, type: string}
rules:
  - name: In from AD - User Common
    direction: inbound
    connector: ad
    source: user
    target: person
    precedence: 130
    linkType: Join
    flows:
      - {target: displayName, expression: 'source.sn.upperAscii() + ", " + source.givenName'}
  - name: Out to AD - Group ImmutableId
    direction: outbound
    connector: ad
    source: group
    target: group
    disabled: true
  - name: In from AD - User Cost Center
    direction: inbound
    connector: ad
    source: user
    target: person
    precedence: 50
    linkType: Join
    flows:
      - {target: costCenter, source: department}
`,
		check: func(t *testing.T, f *rules.File) {
			r, ok := ruleByName(f, "In from AD - User Common")
			require.True(t, ok)
			require.Len(t, r.Flows, 1, "replaced whole")
			assert.Equal(t, "overlay.yaml", r.Pos.File)
			r, _ = ruleByName(f, "Out to AD - Group ImmutableId")
			assert.True(t, r.Disabled)
			r, ok = ruleByName(f, "In from AD - User Cost Center")
			require.True(t, ok)
			assert.Equal(t, 50, r.Precedence)
			mv, _ := f.Metaverse.Type("person")
			_, ok = mv.Attr("costCenter")
			assert.True(t, ok)
			_, err := compile(t, f, entraconnect.Options{})
			require.NoError(t, err)
		},
	}, {
		name: "a forest's copy by its full name",
		opts: two,
		overlay: `
rules:
  - name: In from AD - User Join (fabrikam)
    direction: inbound
    connector: fabrikam
    source: user
    target: person
    disabled: true
`,
		check: func(t *testing.T, f *rules.File) {
			r, _ := ruleByName(f, "In from AD - User Join (fabrikam)")
			assert.True(t, r.Disabled)
			r, _ = ruleByName(f, "In from AD - User Join (contoso)")
			assert.False(t, r.Disabled)
		},
	}, {
		name: "a per-forest rule without its connector",
		opts: two,
		overlay: `
rules:
  - name: In from AD - User Join
    direction: inbound
    connector: contoso
    source: user
    target: person
    disabled: true
`,
		errs: []string{`overlay.yaml:3:5: rule "In from AD - User Join": is a default rule of several forests: name one of "In from AD - User Join (contoso)", "In from AD - User Join (fabrikam)"`},
	}, {
		name: "a replacement on another connector",
		overlay: `
rules:
  - name: In from AD - User Common
    direction: inbound
    connector: hr
    source: user
    target: person
`,
		errs: []string{`overlay.yaml:3:5: rule "In from AD - User Common": replaces the default rule (inbound ad user → person, entraconnect/ad.yaml) but is inbound hr user → person: a replacement keeps the direction, connector and types; give the rule a new name to add one`},
	}, {
		name: "twice, and a precedence tie",
		overlay: `
rules:
  - {name: Mine, direction: inbound, connector: ad, source: user, target: person, precedence: 110}
  - {name: Mine, direction: inbound, connector: ad, source: user, target: person, precedence: 20}
`,
		errs: []string{
			`overlay.yaml:4:5: rule "Mine": defined twice in the overlay`,
			`overlay.yaml:3:5: rule "Mine": has precedence 110, like rule "In from AD - User AccountEnabled" (entraconnect/ad.yaml): which one wins would depend on file order; give it another precedence`,
		},
	}, {
		name: "an attribute redefined",
		overlay: `
metaverse:
  types:
    - name: person
      attributes:
        - {name: manager, type: string}
`,
		errs: []string{`metaverse attribute person.manager is a reference in the defaults: it cannot be redefined`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, err := entraconnect.Load(tt.opts)
			require.NoError(t, err)
			before := len(base.Rules)
			over, err := rules.Parse("overlay.yaml", []byte(tt.overlay))
			require.NoError(t, err)
			f, err := entraconnect.Overlay(base, over)
			assert.Len(t, base.Rules, before, "base is not modified")
			if tt.errs == nil {
				require.NoError(t, err)
				tt.check(t, f)
				return
			}
			require.ErrorIs(t, err, entraconnect.ErrInvalidOverride)
			var got []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var oe *entraconnect.OverrideError
				require.True(t, errors.As(e, &oe))
				// The defaults' lines change as they are edited.
				got = append(got, defaultsPos.ReplaceAllString(e.Error(), "$1"))
			}
			assert.Equal(t, tt.errs, got)
		})
	}
}

// TestOverlayNil: a nil file is an empty one.
func TestOverlayNil(t *testing.T) {
	base, err := entraconnect.Load(entraconnect.Options{})
	require.NoError(t, err)
	f, err := entraconnect.Overlay(base, nil)
	require.NoError(t, err)
	assert.Equal(t, base.Rules, f.Rules)
	f, err = entraconnect.Overlay(nil, base)
	require.NoError(t, err)
	assert.Equal(t, base.Rules, f.Rules)
}
