package ldap

import (
	"context"
	"fmt"

	ldap "github.com/go-ldap/ldap/v3"
)

// pagedSearch runs a search page by page (RFC 2696), handing each entry to
// fn as it arrives: memory is bounded by the page size, never the result
// (go-ldap's SearchWithPaging buffers the whole result). afterPage runs
// after each page. A failure ends the search with the error; a cancelled
// ctx with ctx.Err().
func (c *Connector) pagedSearch(ctx context.Context, base string, scope int, filter string, attrs []string,
	fn func(*ldap.Entry) error, afterPage func() error) error {
	conn, err := c.s.get(ctx)
	if err != nil {
		return err
	}
	var cookie []byte
	for {
		paging := ldap.NewControlPaging(uint32(c.cfg.PageSize))
		paging.SetCookie(cookie)
		req := ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, []ldap.Control{paging})
		pctx, cancel := context.WithCancel(ctx)
		res := conn.SearchAsync(pctx, req, 64)
		var ctrls []ldap.Control
		var ferr error
		for res.Next() {
			if e := res.Entry(); e != nil {
				if ferr = fn(e); ferr != nil {
					break
				}
				continue
			}
			if cs := res.Controls(); len(cs) > 0 {
				ctrls = cs
			}
		}
		serr := res.Err()
		cancel()
		for res.Next() { // drain, so the search goroutine ends
		}
		switch {
		case ferr != nil:
			return ferr
		case ctx.Err() != nil:
			return ctx.Err()
		case serr != nil:
			if isConnErr(serr) {
				c.s.drop(conn)
			}
			return fmt.Errorf("ldap: searching %s: %w", base, mapErr(serr))
		}
		if afterPage != nil {
			if err := afterPage(); err != nil {
				return err
			}
		}
		p, _ := ldap.FindControl(ctrls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if p == nil || len(p.Cookie) == 0 {
			return nil
		}
		cookie = p.Cookie
	}
}
