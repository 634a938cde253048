package addir_test

import (
	"context"
	"testing"

	ldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/internal/addir"
)

// TestBuild: a small directory has the shape asked for on the DC, and a
// second Build of the same name reuses it.
func TestBuild(t *testing.T) {
	s := addir.Shape{OUs: 3, Users: 60, Groups: 5, GroupSize: 4, LargeGroups: []int{30}, DisabledEvery: 7, ManagerSpan: 10}
	d := addir.New(t, s)
	require.Len(t, d.Users, 60)
	require.Len(t, d.AllGroups, 6)

	c, err := d.Server.Dial(context.Background())
	require.NoError(t, err)
	defer c.Close()
	res, err := c.SearchWithPaging(ldap.NewSearchRequest(d.Root, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(|(objectClass=user)(objectClass=group))", []string{"member", "manager", "userAccountControl"}, nil), 500)
	require.NoError(t, err)
	got := map[string]*ldap.Entry{}
	for _, e := range res.Entries {
		got[e.DN] = e
	}
	assert.Len(t, got, d.Entries())
	for _, u := range d.Users {
		e := got[u.DN]
		if !assert.NotNil(t, e, u.DN) {
			continue
		}
		assert.Equal(t, u.Manager, e.GetAttributeValue("manager"), u.DN)
		assert.Equal(t, u.Disabled, e.GetAttributeValue("userAccountControl") == "546", u.DN)
	}
	for _, g := range d.AllGroups {
		e := got[g.DN]
		if assert.NotNil(t, e, g.DN) {
			assert.ElementsMatch(t, g.Members, e.GetAttributeValues("member"), g.DN)
		}
	}

	again, err := addir.Build(context.Background(), d.Server, d.Root[len("OU="):len(d.Root)-len(","+d.Server.BaseDN)], s)
	require.NoError(t, err)
	assert.Equal(t, d, again)
}
