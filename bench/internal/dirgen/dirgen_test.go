package dirgen_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/bench/internal/dirgen"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/ldif"
)

func TestDeterministic(t *testing.T) {
	a, b := dirgen.New(500, 7, "DC=contoso,DC=com"), dirgen.New(500, 7, "DC=contoso,DC=com")
	var la, lb bytes.Buffer
	require.NoError(t, a.WriteLDIF(&la, dirgen.ActiveDirectory))
	require.NoError(t, b.WriteLDIF(&lb, dirgen.ActiveDirectory))
	assert.Equal(t, la.String(), lb.String())
	var lc bytes.Buffer
	require.NoError(t, dirgen.New(500, 8, "DC=contoso,DC=com").WriteLDIF(&lc, dirgen.ActiveDirectory))
	assert.NotEqual(t, la.String(), lc.String(), "another seed gives another directory")
}

func TestShape(t *testing.T) {
	d := dirgen.New(10_000, 1, "DC=contoso,DC=com")
	require.Equal(t, 1000, d.Groups())
	assert.Equal(t, 5000, d.MemberCount(0))
	sizes := make([]int, d.Groups())
	small, nested := 0, 0
	for j := range sizes {
		g := d.Group(j)
		sizes[j] = len(g.Members)
		assert.Equal(t, d.MemberCount(j), len(g.Members), "group %d", j)
		if len(g.Members) <= 30 {
			small++
		}
		if len(g.Nested) > 0 {
			nested++
		}
		for _, n := range g.Nested {
			assert.Greater(t, n, j, "nesting goes to later groups only: no cycles")
		}
	}
	assert.Greater(t, small, 700, "most groups are small")
	assert.Greater(t, nested, 50, "some groups nest others")
	disabled := 0
	for i := 0; i < d.Users; i++ {
		u := d.User(i)
		if u.Disabled {
			disabled++
		}
		if i > 0 {
			assert.Equal(t, d.UserDN(u.Manager), u.ManagerDN)
		}
	}
	assert.InDelta(t, 500, disabled, 150, "about 5%% are disabled")
}

// The AD dialect imports through the LDIF connector with the Active
// Directory schema, and gives the same objects as Objects.
func TestLDIFMatchesObjects(t *testing.T) {
	d := dirgen.New(300, 3, "DC=contoso,DC=com")
	var buf bytes.Buffer
	require.NoError(t, d.WriteLDIF(&buf, dirgen.ActiveDirectory))
	c, err := ldif.New(ldif.Config{
		Open:   func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil },
		Schema: ldif.ActiveDirectorySchema(),
		Types: []ldif.TypeMap{
			{Type: "user", ObjectClasses: []string{"user"}},
			{Type: "group", ObjectClasses: []string{"group"}},
		},
	})
	require.NoError(t, err)
	var rec connectortest.Recorder
	require.NoError(t, c.Import(context.Background(), &rec))
	require.Empty(t, rec.Errors)
	got := map[connector.Anchor]connector.Object{}
	for _, o := range rec.Objects() {
		got[o.Anchor] = o
	}
	n := 0
	for want := range d.Objects() {
		n++
		o, ok := got[want.Anchor]
		require.True(t, ok, "object %s (%s) not imported", want.Anchor, want.DN)
		assert.Equal(t, want.Type, o.Type)
		assert.Equal(t, connector.FoldDN(want.DN), connector.FoldDN(o.DN))
		for name, vals := range want.Attrs {
			got := o.Attrs[name]
			if !assert.Len(t, got, len(vals), "%s %s", want.DN, name) {
				continue
			}
			for k, v := range vals {
				if v.Type() == connector.Reference {
					assert.True(t, connector.SameReference(v, got[k]) || sameDN(v, got[k]), "%s %s: %v vs %v", want.DN, name, v, got[k])
				} else {
					assert.Equal(t, v, got[k], "%s %s", want.DN, name)
				}
			}
		}
	}
	assert.Equal(t, n, len(got))
}

func TestOpenLDAPDialect(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, dirgen.New(20, 1, "dc=example,dc=test").WriteLDIF(&buf, dirgen.OpenLDAP))
	s := buf.String()
	assert.Contains(t, s, "objectClass: inetOrgPerson")
	assert.Contains(t, s, "objectClass: groupOfNames")
	assert.NotContains(t, s, "objectGUID")
}

func sameDN(a, b connector.Value) bool {
	_, da := a.Ref()
	_, db := b.Ref()
	return connector.FoldDN(da) == connector.FoldDN(db)
}

func TestSource(t *testing.T) {
	ctx := context.Background()
	d := dirgen.New(200, 5, "DC=contoso,DC=com")
	src := dirgen.NewSource(d)
	var full connectortest.Recorder
	require.NoError(t, src.Import(ctx, &full))
	assert.Len(t, full.Changes, d.Users+d.Groups())
	assert.Equal(t, "checkpoint", full.Events[len(full.Events)-1])

	var none connectortest.Recorder
	require.NoError(t, src.DeltaImport(ctx, full.Watermark(), &none))
	assert.Empty(t, none.Changes, "nothing changed since the full import")

	src.Modify(42, "Chief Benchmark Officer")
	var delta connectortest.Recorder
	require.NoError(t, src.DeltaImport(ctx, full.Watermark(), &delta))
	require.Len(t, delta.Changes, 1)
	assert.Equal(t, d.Anchor(42), delta.Changes[0].Anchor)
	assert.Equal(t, "Chief Benchmark Officer", delta.Changes[0].Attrs["title"][0].Str())

	err := src.DeltaImport(ctx, []byte("bad"), &delta)
	assert.ErrorIs(t, err, connector.ErrWatermarkExpired)
}
