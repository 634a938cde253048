package memconn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/memconn"
)

func twoUsers() *memconn.System {
	s := memconn.New(&connector.Schema{Types: []connector.ObjectType{{Name: "user",
		Attributes: []connector.Attribute{{Name: "cn", Type: connector.String}}}}})
	for _, n := range []string{"a", "b"} {
		s.Put(connector.Object{Anchor: connector.Anchor(n), DN: "CN=" + n, Type: "user",
			Attrs: connector.Attributes{"cn": {connector.StringValue(n)}}})
	}
	return s
}

var errBoom = errors.New("boom")

func TestFailCall(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		op   memconn.Op
		call func(c *memconn.Connector) error
	}{
		{memconn.OpImport, func(c *memconn.Connector) error { return c.Import(ctx, &connectortest.Recorder{}) }},
		{memconn.OpDeltaImport, func(c *memconn.Connector) error {
			var rec connectortest.Recorder
			require.NoError(t, c.Import(ctx, &rec))
			return c.DeltaImport(ctx, rec.Watermark(), &connectortest.Recorder{})
		}},
		{memconn.OpExport, func(c *memconn.Connector) error {
			_, err := c.Export(ctx, []connector.Change{{Kind: connector.Delete, Anchor: "a"}})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.op), func(t *testing.T) {
			s := twoUsers()
			c := s.Connector()
			s.FailCall(tt.op, errBoom)
			s.FailCall(tt.op, connector.ErrUnavailable)
			assert.ErrorIs(t, tt.call(c), errBoom, "first queued failure")
			assert.ErrorIs(t, tt.call(c), connector.ErrUnavailable, "second queued failure")
			assert.NoError(t, tt.call(c), "the queue is empty")
			assert.Equal(t, 3, s.Calls(tt.op))
		})
	}
}

func TestFailObjectImport(t *testing.T) {
	ctx := context.Background()
	for _, key := range []string{"b", "cn=B"} {
		t.Run(key, func(t *testing.T) {
			s := twoUsers()
			s.FailObject(memconn.OpImport, key, errBoom)
			var rec connectortest.Recorder
			require.NoError(t, s.Connector().Import(ctx, &rec))
			assert.Equal(t, []string{"object", "error", "checkpoint"}, rec.Events)
			require.Len(t, rec.Errors, 1)
			assert.ErrorIs(t, rec.Errors[0], errBoom)
			assert.Equal(t, connector.Anchor("b"), rec.Errors[0].Anchor)
			assert.Equal(t, 2, s.Len(), "the object is still in the system")

			var delta connectortest.Recorder
			require.NoError(t, s.Connector().DeltaImport(ctx, make([]byte, 8), &delta))
			assert.Empty(t, delta.Errors, "a fault of OpImport leaves delta imports alone")

			s.ClearFaults()
			rec = connectortest.Recorder{}
			require.NoError(t, s.Connector().Import(ctx, &rec))
			assert.Len(t, rec.Objects(), 2, "cleared")
		})
	}
}

func TestMalform(t *testing.T) {
	ctx := context.Background()
	s := twoUsers()
	s.Malform("a")
	c := s.Connector()
	var full, delta connectortest.Recorder
	require.NoError(t, c.Import(ctx, &full))
	require.NoError(t, c.DeltaImport(ctx, make([]byte, 8), &delta))
	for _, rec := range []*connectortest.Recorder{&full, &delta} {
		require.Len(t, rec.Errors, 1)
		assert.ErrorIs(t, rec.Errors[0], memconn.ErrMalformed)
		assert.ErrorIs(t, rec.Errors[0], connector.ErrInvalidObject)
		assert.Len(t, rec.Changes, 1, "the other object is imported")
	}
}

func TestFailObjectExport(t *testing.T) {
	ctx := context.Background()
	s := twoUsers()
	s.FailObject(memconn.OpExport, "a", errBoom)
	s.FailObject(memconn.OpExport, "CN=new", connector.ErrConstraint)
	res, err := s.Connector().Export(ctx, []connector.Change{
		{Kind: connector.Delete, Anchor: "a", DN: "CN=a"},
		{Kind: connector.Add, Type: "user", DN: "CN=New", Attrs: connector.Attributes{"cn": {connector.StringValue("new")}}},
		{Kind: connector.Delete, Anchor: "b", DN: "CN=b"},
	})
	require.NoError(t, err)
	require.Len(t, res, 3)
	assert.ErrorIs(t, res[0].Err, errBoom)
	assert.ErrorIs(t, res[1].Err, connector.ErrConstraint, "an Add is matched by DN")
	assert.NoError(t, res[2].Err)
	_, ok := s.Get("a")
	assert.True(t, ok, "a refused delete leaves the object")
	_, ok = s.Get("b")
	assert.False(t, ok, "the other changes are applied")
	assert.Len(t, s.Exported, 1)
}

func TestSetPassword(t *testing.T) {
	ctx := context.Background()
	s := twoUsers()
	c := s.Connector()
	require.NoError(t, c.SetPassword(ctx, "a", "CN=a", connector.NewSecret("s3cret")))
	pw, ok := c.Password("a")
	require.True(t, ok)
	assert.Equal(t, "s3cret", pw.Reveal())
	_, ok = c.Password("b")
	assert.False(t, ok)
	err := c.SetPassword(ctx, "missing", "CN=missing", connector.NewSecret("x"))
	assert.ErrorIs(t, err, connector.ErrNoSuchObject)
}
