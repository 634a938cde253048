package idbridge_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse/memstore"
)

// Cycle runs each step (import, sync, export) through the connectors in
// cycle order: Options.CycleOrder first, then the others in name order.
func TestCycleOrder(t *testing.T) {
	tests := []struct {
		name  string
		order []string
		want  []string
		err   string // "" when valid
	}{
		{name: "default is name order", want: []string{"ad", "cloud", "hr"}},
		{name: "full order", order: []string{"hr", "ad", "cloud"}, want: []string{"hr", "ad", "cloud"}},
		{name: "listed first, the rest in name order", order: []string{"hr"}, want: []string{"hr", "ad", "cloud"}},
		{name: "unknown connector", order: []string{"hr", "nope"}, err: `CycleOrder names "nope", which is not a connector`},
		{name: "listed twice", order: []string{"hr", "ad", "hr"}, err: `CycleOrder names "hr" twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err != "" {
				hr, ad, cloud := connectorsOf(t)
				_, err := idbridge.New(t.Context(), idbridge.Config{
					Store:      memstore.New(),
					Connectors: map[string]connector.Connector{"ad": ad, "hr": hr, "cloud": cloud},
					Rules:      testRules(t),
					Options:    idbridge.Options{CycleOrder: tt.order},
				})
				require.ErrorIs(t, err, idbridge.ErrInvalidOptions)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			f := newFixture(t, idbridge.Options{CycleOrder: tt.order})
			assert.Equal(t, tt.want, f.eng.CycleOrder())
			f.adUser("g1", "E1", "Ada", "Lovelace", 512, nil)
			cr := f.cycle(idbridge.Initial)
			var imports, syncs, exports []string
			for _, r := range cr.Runs {
				switch r.Profile {
				case idbridge.FullImport:
					imports = append(imports, r.Connector)
				case idbridge.FullSync:
					syncs = append(syncs, r.Connector)
				case idbridge.Export:
					exports = append(exports, r.Connector)
				}
			}
			assert.Equal(t, tt.want, imports)
			assert.Equal(t, tt.want, syncs)
			assert.Equal(t, []string{"cloud"}, exports, "only connectors with something to export")
		})
	}
}

func connectorsOf(t *testing.T) (hr, ad, cloud connector.Connector) {
	f := newFixture(t, idbridge.Options{})
	return f.hr.Connector(), f.ad.Connector(), f.cloud.Connector()
}
