package ldap

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
)

// Reading a search result and working on it are kept apart: a page (or a
// DirSync response) is read whole into memory first, and only then are its
// entries converted — which may take more reads on the same connection
// (ranged retrieval of a large group's members, re-reading a renamed
// object) — and handed to the sink, which may block on the engine's store.
//
// go-ldap has one reader per connection, which hands each response to its
// request through a buffer of a few dozen messages. Were the next read
// issued while the search's own responses still arrive, the reader would
// stall on the search's full buffer, the read's answer would never be
// delivered, and both would fail after Timeout with "connection timed out"
// (or worse, go-ldap drops a response its consumer did not take within
// Timeout). Whether that happened depended on where the server placed a
// large group in the result order. Memory stays bounded by the page size.

// page is one page of a search: its entries and continuation references.
type page struct {
	entries   []*ldap.Entry
	referrals []string
	controls  []ldap.Control
}

// readPage runs one request to its end and returns what came back,
// without doing anything else on the connection meanwhile. A cancelled
// ctx ends it with ctx.Err().
func readPage(ctx context.Context, res ldap.Response) (*page, error) {
	p := &page{}
	for res.Next() {
		switch {
		case res.Entry() != nil:
			p.entries = append(p.entries, res.Entry())
		case res.Referral() != "":
			p.referrals = append(p.referrals, res.Referral())
		}
		if cs := res.Controls(); len(cs) > 0 {
			p.controls = cs
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := res.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// pagedSearch runs a search page by page (RFC 2696): each page is read
// whole, then fn receives its entries and onReferral its continuation
// references (see above). Memory is bounded by the page size, never the
// result (go-ldap's SearchWithPaging buffers the whole result). A failure
// ends the search with the error, naming step; a cancelled ctx with
// ctx.Err(). When the first page fails because the connection had dropped
// (idle since the last run), it is asked once more on a new connection;
// later pages are not, as a paging cookie belongs to its connection.
func (c *Connector) pagedSearch(ctx context.Context, step, base string, scope int, filter string, attrs []string,
	fn func(*ldap.Entry) error, onReferral func(string) error) error {
	conn, err := c.s.get(ctx)
	if err != nil {
		return err
	}
	var cookie []byte
	read := 0
	for attempt := 0; ; attempt++ {
		paging := ldap.NewControlPaging(uint32(c.cfg.PageSize))
		paging.SetCookie(cookie)
		req := ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, []ldap.Control{paging})
		pctx, cancel := context.WithCancel(ctx)
		p, serr := readPage(ctx, conn.SearchAsync(pctx, req, c.cfg.PageSize+1))
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case serr != nil:
			if isConnErr(serr) {
				c.s.drop(conn)
				if attempt == 0 {
					// The connection had dropped while idle: the first
					// page once more on a new one.
					if conn, err = c.s.get(ctx); err != nil {
						return err
					}
					continue
				}
			}
			return &StepError{Step: step + " of " + base, Read: read, Err: mapErr(serr)}
		}
		for _, e := range p.entries {
			if err := fn(e); err != nil {
				return err
			}
			read++
		}
		for _, ref := range p.referrals {
			if onReferral == nil {
				continue
			}
			if err := onReferral(ref); err != nil {
				return err
			}
		}
		pc, _ := ldap.FindControl(p.controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if pc == nil || len(pc.Cookie) == 0 {
			return nil
		}
		cookie = pc.Cookie
	}
}

// droppedError is a failure because the connection dropped, before
// anything was handed on: the operation may be run again on a new
// connection.
type droppedError struct{ err error }

func (e *droppedError) Error() string { return e.err.Error() }
func (e *droppedError) Unwrap() error { return e.err }

// referrals returns the handler of continuation references for an import
// into sink: each that may hold objects of the configured containers is
// reported as an object error wrapping connector.ErrReferral, so that the
// engine knows the objects behind it were not read (and does not delete
// them). The referral's URL is the error's DN, without any user-info it
// might carry. A reference to a subtree outside every container — the
// Configuration and DNS partitions below a domain head, which a search
// of the whole naming context (uSNChanged deltas) meets every time — is
// ignored: nothing imported lives there.
func (c *Connector) referrals(ctx context.Context, sink connector.ImportSink) func(string) error {
	return func(ref string) error {
		if dn := referralDN(ref); dn != "" && !c.overlaps(dn) {
			return nil
		}
		return sink.Error(ctx, &connector.ObjectError{Op: "import", DN: redactURL(ref),
			Err: fmt.Errorf("ldap: continuation reference %s not followed: %w", redactURL(ref), connector.ErrReferral)})
	}
}

// referralDN returns the base DN of an LDAP URL (RFC 4516), "" when it
// has none or does not parse.
func referralDN(ref string) string {
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// overlaps reports whether the subtree at dn may hold imported objects:
// it is inside a container (and not in an excluded subtree), or holds one.
func (c *Connector) overlaps(dn string) bool {
	if !c.excluded(dn) {
		return true
	}
	for _, ct := range c.cfg.Containers {
		if isUnder(ct.DN, dn) {
			return true
		}
	}
	return false
}
