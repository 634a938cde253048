package gensample_test

import (
	"bytes"
	"flag"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/ldif"
	"github.com/idbridge/idbridge/examples/quickstart/internal/gensample"
)

var update = flag.Bool("update", false, "rewrite the committed sample")

const committed = "../../data/contoso-ad.ldif"

func generate(t *testing.T) ([]byte, gensample.Stats) {
	t.Helper()
	var b bytes.Buffer
	st, err := gensample.Write(&b, gensample.Seed)
	require.NoError(t, err)
	return b.Bytes(), st
}

func TestCommittedSampleIsUpToDate(t *testing.T) {
	got, _ := generate(t)
	if *update {
		require.NoError(t, os.WriteFile(committed, got, 0o644))
	}
	want, err := os.ReadFile(committed)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, got), "%s is stale: run go generate ./examples/quickstart/internal/gensample", committed)
}

func TestDeterministic(t *testing.T) {
	a, _ := generate(t)
	b, _ := generate(t)
	assert.Equal(t, a, b)
	var c bytes.Buffer
	_, err := gensample.Write(&c, gensample.Seed+1)
	require.NoError(t, err)
	assert.NotEqual(t, a, c.Bytes(), "another seed, another company")
}

// The sample imports as the quickstart imports it: every user and group
// but the four malformed records, which are reported with their lines.
func TestSampleImports(t *testing.T) {
	data, st := generate(t)
	assert.Equal(t, gensample.Stats{Users: 299, Disabled: 15, ServiceAccounts: 6, Groups: 20, OUs: 13, Malformed: 4, LargestGroup: 278}, st)

	c, err := ldif.New(ldif.Config{
		Open:   func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		Anchor: "objectGUID",
		Schema: ldif.ActiveDirectorySchema(),
		Types: []ldif.TypeMap{
			{Type: "user", ObjectClasses: []string{"user"}},
			{Type: "group", ObjectClasses: []string{"group"}},
		},
	})
	require.NoError(t, err)
	defer c.Close()
	var rec connectortest.Recorder
	require.NoError(t, c.Import(t.Context(), &rec))

	types := map[string]int{}
	uac := map[int64]int{}
	dns := map[string]bool{}
	for _, o := range rec.Objects() {
		types[o.Type]++
		dns[connector.FoldDN(o.DN)] = true
		if v, ok := o.Attrs.First("userAccountControl"); ok {
			uac[v.Int()]++
		}
	}
	assert.Equal(t, map[string]int{"user": 299, "group": 20}, types)
	assert.Equal(t, map[int64]int{512: 278, 514: 15, 66048: 6}, uac)

	// Every reference (manager, member) names an imported object.
	for _, o := range rec.Objects() {
		for _, name := range []string{"manager", "member"} {
			for _, v := range o.Attrs[name] {
				_, dn := v.Ref()
				assert.True(t, dns[connector.FoldDN(dn)], "%s of %s: %s not in the sample", name, o.DN, dn)
			}
		}
	}

	require.Len(t, rec.Errors, 4)
	for _, e := range rec.Errors {
		assert.ErrorIs(t, e, connector.ErrInvalidObject)
		t.Log(e)
	}
	assert.Contains(t, rec.Errors[0].Error(), "invalid base64")
	assert.Contains(t, rec.Errors[1].Error(), "does not start with a dn line")
	assert.Contains(t, rec.Errors[2].Error(), `"abc" is not an integer`)
	assert.Contains(t, rec.Errors[3].Error(), "missing anchor attribute objectGUID")
}
