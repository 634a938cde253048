package ldap_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/connector/ldap"
)

// proxy forwards TCP connections to target and can cut them all, as a
// network failure or a server restart would.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// A dropped connection is dialled again: the next import works, and a delta
// from the last watermark misses nothing.
func TestSlapdReconnectAfterDrop(t *testing.T) {
	env := getSlapd(t)
	ctx := context.Background()
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	for i := 0; i < 3; i++ {
		addPerson(t, admin, ou, i, nil)
	}
	u, err := url.Parse(env.url)
	require.NoError(t, err)
	p := newProxy(t, u.Host)
	cfg := env.config(ou)
	cfg.URL = "ldaps://" + p.ln.Addr().String()
	c, err := ldap.New(cfg)
	require.NoError(t, err)
	defer c.Close()
	full := importAll(t, c)
	require.Len(t, full.Changes, 3)

	p.cut()
	addPerson(t, admin, ou, 7, nil)
	var delta connectortest.Recorder
	require.NoError(t, c.DeltaImport(ctx, full.Watermark(), &delta), "the connector dials again")
	require.Len(t, delta.Changes, 1)
	assert.Contains(t, delta.Changes[0].DN, "uid=user7")

	p.cut()
	res, err := c.Export(ctx, []connector.Change{{Kind: connector.Update, Type: "person", DN: delta.Changes[0].DN,
		Mods: []connector.Mod{{Name: "title", Op: connector.ModReplace, Values: []connector.Value{connector.StringValue("after the drop")}}}}})
	require.NoError(t, err)
	assert.NoError(t, res[0].Err, "an export after a drop reconnects too")
}

// A member change larger than MaxValuesPerModify goes in several requests,
// and every value arrives.
func TestSlapdLargeMemberChangeInChunks(t *testing.T) {
	env := getSlapd(t)
	ctx := context.Background()
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	grp := goldap.NewAddRequest("cn=big,ou=groups,"+ou, nil)
	grp.Attribute("objectClass", []string{"groupOfNames"})
	grp.Attribute("member", []string{"cn=nobody"})
	require.NoError(t, admin.Add(grp))
	cfg := env.config(ou)
	cfg.MaxValuesPerModify = 100
	c, err := ldap.New(cfg)
	require.NoError(t, err)
	defer c.Close()
	var members []connector.Value
	for i := 0; i < 350; i++ {
		members = append(members, connector.RefValue("", fmt.Sprintf("uid=m%d,ou=people,%s", i, ou)))
	}
	res, err := c.Export(ctx, []connector.Change{{Kind: connector.Update, Type: "group", DN: "cn=big,ou=groups," + ou,
		Mods: []connector.Mod{{Name: "member", Op: connector.ModAdd, Values: members}}}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	rec := importAll(t, c)
	require.Len(t, rec.Changes, 1)
	assert.Len(t, rec.Changes[0].Attrs["member"], 351)
}

// A server treated as generic LDAP gets modifyTimestamp deltas.
func TestSlapdModifyTimestampDelta(t *testing.T) {
	env := getSlapd(t)
	ctx := context.Background()
	admin := env.admin(t)
	ou := env.newOU(t, admin)
	dn := addPerson(t, admin, ou, 1, nil)
	addPerson(t, admin, ou, 2, nil)
	cfg := env.config(ou)
	cfg.Dialect = ldap.Generic
	c, err := ldap.New(cfg)
	require.NoError(t, err)
	defer c.Close()
	full := importAll(t, c)
	assert.Contains(t, string(full.Watermark()), `"m":"modifyTimestamp"`)
	time.Sleep(1100 * time.Millisecond) // modifyTimestamp has one-second resolution
	mod := goldap.NewModifyRequest(dn, nil)
	mod.Replace("title", []string{"Changed"})
	require.NoError(t, admin.Modify(mod))
	var delta connectortest.Recorder
	require.NoError(t, c.DeltaImport(ctx, full.Watermark(), &delta))
	found := false
	for _, ch := range delta.Changes {
		if connector.FoldDN(ch.DN) == connector.FoldDN(dn) {
			found = ch.Attrs["title"][0].Str() == "Changed"
		}
	}
	assert.True(t, found, "the modified entry is in the delta (with others the skew window re-reports)")
}
