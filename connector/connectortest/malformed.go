package connectortest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
)

// Malformer is implemented by a Harness that can put a record its
// connector cannot read into the backend, beside the seeded objects: an
// entry with a value the connector cannot parse (an objectGUID of 15
// bytes, a generalized time that is not one), a record cut short. The
// MalformedRecord group uses it; without it the group is skipped.
//
// A connector must report such a record through ImportSink.Error and go
// on: a connector that fails its whole import on one bad record stops
// every import of the connected system until someone repairs the record.
type Malformer interface {
	// SeedMalformed is called after Seed. It adds one record the connector
	// cannot read and returns its DN, or its anchor when the backend's
	// records have no DN; the connector's *connector.ObjectError for the
	// record must carry it.
	SeedMalformed(ctx context.Context) (string, error)
}

// testMalformed: a full import over a backend holding one unreadable
// record succeeds, reports the record once through sink.Error naming it,
// does not report it as an object, and imports every seeded object.
func (s *suite) testMalformed(t *testing.T) {
	m, ok := s.h.(Malformer)
	if !ok {
		t.Skip("the harness does not implement Malformer")
	}
	e := s.setup(t)
	bad, err := m.SeedMalformed(t.Context())
	require.NoError(t, err, "Malformer.SeedMalformed")
	require.NotEmpty(t, bad, "Malformer.SeedMalformed returned no DN or anchor")

	rec := &Recorder{}
	err = e.c.Import(t.Context(), rec)
	require.NoError(t, err, "Import must report an unreadable record through sink.Error and go on, not fail the whole import")
	require.NotEmpty(t, rec.Events)
	assert.Equal(t, "checkpoint", rec.Events[len(rec.Events)-1], "Import must call Checkpoint last")

	names := func(a connector.Anchor, dn string) bool {
		return connector.FoldDN(dn) == connector.FoldDN(bad) || (a != "" && string(a) == bad)
	}
	n := 0
	for _, oe := range rec.Errors {
		if names(oe.Anchor, oe.DN) {
			n++
		}
	}
	assert.Equal(t, 1, n, "the unreadable record %s is reported once through sink.Error, by DN or anchor (errors: %v)", bad, rec.Errors)
	st := newState()
	for _, c := range rec.Changes {
		assert.False(t, names(c.Anchor, c.DN), "the unreadable record %s is reported as an object", bad)
		st.apply(c)
	}
	assert.Len(t, s.seededAsImported(t, e, st), len(e.seeded), "every seeded object is imported beside the unreadable record")
}
