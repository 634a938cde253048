package idbridge_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// TestExportFailureIsRecorded: a change the target refuses is an error of
// the export run; the object keeps it as a failed pending export, with
// the error and the attempt, while the other objects are exported.
func TestExportFailureIsRecorded(t *testing.T) {
	e := newSemEnv(t, semRules{adFlows: "      - {target: title, source: title}"})
	e.ad.Put(adUser("a1", "E1", connector.Attributes{"title": s("Engineer")}))
	e.ad.Put(adUser("a2", "E2", connector.Attributes{"title": s("Lead")}))
	refused := errors.New("quota exceeded")
	e.cloud.FailExport = func(c connector.Change) error {
		if c.DN == "cn=E2" {
			return refused
		}
		return nil
	}
	cr, err := e.eng.Cycle(e.ctx, idbridge.Initial)
	require.NoError(t, err, "object errors do not fail the cycle")
	exp := run(t, cr, "cloud", idbridge.Export)
	assert.Equal(t, 1, exp.Exported)
	assert.Equal(t, 1, exp.ExportFailed)
	require.Len(t, exp.Errors, 1)
	assert.ErrorIs(t, exp.Errors[0], refused)
	assert.Equal(t, "cn=E2", exp.Errors[0].DN)
	assert.Equal(t, 1, e.cloud.Len())

	pe, err := e.eng.PendingExports(e.ctx, "cloud", 0)
	require.NoError(t, err)
	var failed []idbridge.PendingExport
	for _, p := range pe {
		if p.State == metaverse.ExportFailed {
			failed = append(failed, p)
		}
	}
	require.Len(t, failed, 1)
	assert.Equal(t, 1, failed[0].Attempts)
	assert.Contains(t, failed[0].LastError, "quota exceeded")
	assert.Equal(t, connector.Add, failed[0].Change.Kind)
	assert.Equal(t, "cn=E2", failed[0].Change.DN)

	limited, err := e.eng.PendingExports(e.ctx, "cloud", 1)
	require.NoError(t, err)
	assert.Len(t, limited, 1)
}

// TestExportNotReimported: when the import after an export shows that the
// change did not stick (the target changed it back before the import), the
// change is exported again; once the import shows it, it is confirmed.
func TestExportNotReimported(t *testing.T) {
	e := newSemEnv(t, semRules{adFlows: "      - {target: title, source: title}"})
	e.ad.Put(adUser("a1", "E1", connector.Attributes{"title": s("Engineer")}))
	e.cycle(idbridge.Initial) // exported, unconfirmed
	u, ok := e.cloud.ByDN("cn=E1")
	require.True(t, ok)
	require.NoError(t, e.cloud.Modify(u.Anchor, connector.Mod{Op: connector.ModReplace, Name: "title", Values: s("Intern")}))

	cr := e.cycle(idbridge.Delta)
	assert.Zero(t, run(t, cr, "cloud", idbridge.DeltaImport).Confirmed, "the title did not stick")
	assert.Equal(t, 1, run(t, cr, "cloud", idbridge.Export).Exported, "sent again")
	u, _ = e.cloud.ByDN("cn=E1")
	assert.Equal(t, []string{"Engineer"}, strs(u.Attrs["title"]))

	cr = e.cycle(idbridge.Delta)
	assert.Equal(t, 1, run(t, cr, "cloud", idbridge.DeltaImport).Confirmed)
	pe, err := e.eng.PendingExports(e.ctx, "cloud", 0)
	require.NoError(t, err)
	assert.Empty(t, pe)
}
