package ldap_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/ldap"
	"github.com/idbridge/idbridge/internal/addir"
)

// The tests here run against directories of realistic shape built by
// internal/addir: thousands of users, large groups among them.

// dirConfig imports the users and groups of d with default settings.
func dirConfig(d *addir.Directory) ldap.Config {
	return ldap.Config{
		URL: d.Server.URL, CAFile: d.Server.CAFile, BindDN: d.Server.BindDN, Password: connector.NewSecret(d.Server.Password),
		Containers: []ldap.Container{{DN: d.Root}},
		Types: []ldap.TypeConfig{
			{Name: "user", ObjectClasses: []string{"user"}, Attributes: []string{
				"cn", "sAMAccountName", "userPrincipalName", "givenName", "sn", "displayName", "mail",
				"department", "manager", "userAccountControl"}},
			{Name: "group", ObjectClasses: []string{"group"}, Attributes: []string{"cn", "sAMAccountName", "member"}},
		},
	}
}

// importWithin runs a full import that must end within limit (a hang
// fails the test rather than stalling it).
func importWithin(t *testing.T, c *ldap.Connector, limit time.Duration) (*connectortest.Recorder, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var rec connectortest.Recorder
	err := c.Import(ctx, &rec)
	return &rec, err
}

// summary is what a full import says of a directory: each object's DN
// and, for groups, its member count.
func summary(rec *connectortest.Recorder) map[connector.Anchor]string {
	out := map[connector.Anchor]string{}
	for _, ch := range rec.Changes {
		if ch.Type == "user" || ch.Type == "group" {
			out[ch.Anchor] = fmt.Sprintf("%s %s members=%d", ch.Type, connector.FoldDN(ch.DN), len(ch.Attrs["member"]))
		}
	}
	return out
}

// TestADRealisticFullImport: a full import of a directory of 5,000 users
// in 5 OUs with groups of 2,000–4,000 members among them, with default
// settings, completes five times in a row with the same result: every
// user and group, every member. (Before reading a page whole before
// working on it, the large groups' ranged reads on the connection of the
// paged search stalled go-ldap's reader, and the import hung or failed
// with "connection timed out" depending on where a large group fell.)
func TestADRealisticFullImport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a directory of thousands of objects on the DC: not with -short")
	}
	d := addir.Shared(t, "idbridge-addir-realistic", addir.Realistic())
	c, err := ldap.New(dirConfig(d))
	require.NoError(t, err)
	defer c.Close()

	want := map[string]int{}
	for _, g := range d.AllGroups {
		want[connector.FoldDN(g.DN)] = len(g.Members)
	}
	var first map[connector.Anchor]string
	for run := range 5 {
		rec, err := importWithin(t, c, 3*time.Minute)
		require.NoError(t, err, "run %d", run)
		require.Empty(t, rec.Errors, "run %d", run)
		got := summary(rec)
		require.Len(t, got, d.Entries(), "run %d: every user and group", run)
		for _, ch := range rec.Changes {
			if ch.Type == "group" {
				assert.Len(t, ch.Attrs["member"], want[connector.FoldDN(ch.DN)], "run %d: members of %s", run, ch.DN)
			}
		}
		if first == nil {
			first = got
			continue
		}
		require.Equal(t, first, got, "run %d reads what run 0 read", run)
	}
}

// TestADImportStepError: a failing import names the step it failed in,
// as a *ldap.StepError that matches the cause's sentinel.
func TestADImportStepError(t *testing.T) {
	env := getAD(t)
	t.Parallel()
	cfg := env.config("OU=does-not-exist-" + uniqueName("") + "," + env.base)
	c, err := ldap.New(cfg)
	require.NoError(t, err)
	defer c.Close()
	var rec connectortest.Recorder
	err = c.Import(context.Background(), &rec)
	var se *ldap.StepError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Step, "full import of OU=does-not-exist")
	assert.ErrorIs(t, err, connector.ErrNoSuchObject)
}

// bulkDelta is a delta of the size of a reorganisation: n new users,
// moved users moved to another OU, renamed users renamed, made on d while
// the connector's watermark stood still.
func bulkDelta(t *testing.T, d *addir.Directory, n, moved, renamed int) {
	t.Helper()
	ctx := context.Background()
	require.GreaterOrEqual(t, len(d.Users), moved+renamed)
	require.NoError(t, d.Server.Each(ctx, n, func(c *goldap.Conn, i int) error {
		name := fmt.Sprintf("%s-n%05d", d.Users[0].Name[:7], i) // unique in the domain
		u := addir.User{Name: name, DN: "CN=" + name + "," + d.OUs[i%len(d.OUs)], UPN: name + "@example.test"}
		return addir.Add(c, u.DN, u.Attrs())
	}))
	require.NoError(t, d.Server.Each(ctx, moved+renamed, func(c *goldap.Conn, i int) error {
		u := d.Users[i]
		rdn, _, _ := cutRDN(u.DN)
		if i < moved {
			target := d.OUs[(i+1)%len(d.OUs)]
			if len(d.OUs) == 1 {
				target = d.Groups
			}
			return c.ModifyDN(goldap.NewModifyDNRequest(u.DN, rdn, true, target))
		}
		return c.ModifyDN(goldap.NewModifyDNRequest(u.DN, "CN=renamed-"+u.Name, true, ""))
	}))
}

func cutRDN(dn string) (rdn, parent string, ok bool) {
	p, err := goldap.ParseDN(dn)
	if err != nil || len(p.RDNs) < 2 {
		return "", "", false
	}
	return (&goldap.DN{RDNs: p.RDNs[:1]}).String(), (&goldap.DN{RDNs: p.RDNs[1:]}).String(), true
}

// TestADLargeDelta: one delta carrying 1,000 new, 200 moved and 100
// renamed users — with DirSync, and with the uSNChanged fallback —
// applied to the full import's objects gives what a new full import
// reads. (Before a DirSync response was read whole before the re-reads,
// a delta of more than about 64 objects to re-read hung until go-ldap's
// timeout, and every later delta failed the same way.)
func TestADLargeDelta(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a directory of thousands of objects on the DC: not with -short")
	}
	for _, tc := range []struct {
		name      string
		noDirSync bool
		method    string
	}{
		{"DirSync", false, "dirsync"},
		{"USN", true, "usn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := addir.New(t, addir.Shape{OUs: 3, Users: 400, Groups: 4, GroupSize: 20, LargeGroups: []int{300}, ManagerSpan: 10, DisabledEvery: 9})
			cfg := dirConfig(d)
			cfg.NoDirSync = tc.noDirSync
			c, err := ldap.New(cfg)
			require.NoError(t, err)
			defer c.Close()
			full, err := importWithin(t, c, 3*time.Minute)
			require.NoError(t, err)
			require.Empty(t, full.Errors)
			require.Equal(t, tc.method, method(t, full.Watermark()))
			st := newSpace(full)
			resolveRefs(st)

			bulkDelta(t, d, 1000, 200, 100)

			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			var delta connectortest.Recorder
			require.NoError(t, c.DeltaImport(ctx, full.Watermark(), &delta))
			require.Empty(t, delta.Errors)
			var adds, updates int
			for _, ch := range known(st, &delta) {
				switch ch.Kind {
				case connector.Add:
					adds++
				case connector.Update:
					updates++
				}
			}
			assert.GreaterOrEqual(t, adds+updates, 1300, "the new, moved and renamed users")
			st.apply(&delta)
			resolveRefs(st)
			again, err := importWithin(t, c, 3*time.Minute)
			require.NoError(t, err)
			want := newSpace(again)
			resolveRefs(want)
			assertSame(t, want, st)
		})
	}
}

// resolveRefs resolves the references of s that hold a DN to the anchor
// of the object at that DN now, as the engine does when it stages them:
// a group whose member was renamed is not reported by a delta (the
// directory keeps the link, not the DN), and still names the same
// object. A resolved reference is written "<anchor>" in place of its DN,
// so that assertSame compares anchors.
func resolveRefs(s space) {
	byDN := anchorsByDN(s)
	for _, o := range s {
		for name, vs := range o.Attrs {
			for i, v := range vs {
				if v.Type() != connector.Reference {
					continue
				}
				if _, dn := v.Ref(); !strings.HasPrefix(dn, "<") {
					if a, ok := byDN[connector.FoldDN(dn)]; ok {
						vs[i] = connector.RefValue("", "<"+string(a)+">")
					}
				}
			}
			o.Attrs[name] = vs
		}
	}
}

// TestADStepErrorMatches: the step error carries its cause for errors.Is.
func TestADStepErrorMatches(t *testing.T) {
	err := error(&ldap.StepError{Step: "DirSync delta of type user", Read: 3, Err: fmt.Errorf("x: %w", connector.ErrUnavailable)})
	assert.ErrorIs(t, err, connector.ErrUnavailable)
	assert.Equal(t, "ldap: DirSync delta of type user failed after 3 entries: x: connector: unavailable", err.Error())
	var se *ldap.StepError
	assert.True(t, errors.As(fmt.Errorf("wrapped: %w", err), &se))
}
