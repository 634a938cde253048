package ldap

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldif"
)

// Active Directory specifics: DirSync and uSNChanged deltas, tombstones,
// unicodePwd.

const (
	oidShowDeleted = "1.2.840.113556.1.4.417"
	// DirSync flags: object security (no replication rights needed for
	// objects the account can read), ancestors first, incremental values.
	dirSyncFlags = ldap.DirSyncObjectSecurity | ldap.DirSyncAncestorsFirstOrder | ldap.DirSyncIncrementalValues
)

func (c *Connector) adStartWatermark(ctx context.Context, method string) ([]byte, error) {
	if method == methodDirSync {
		cookie, err := c.dirSync(ctx, noMatch, nil, nil)
		if err == nil {
			return (&watermark{Method: methodDirSync, Cookie: cookie}).encode(), nil
		}
		if !strings.Contains(err.Error(), "insufficient") {
			return nil, err
		}
		// Without replication rights: fall back to uSNChanged.
	}
	root, err := c.readRootDSE(ctx)
	if err != nil {
		return nil, err
	}
	usn, err := strconv.ParseInt(root.highestUSN, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("ldap: highestCommittedUSN %q: %w", root.highestUSN, err)
	}
	return (&watermark{Method: methodUSN, USN: usn, Server: root.dsServiceName}).encode(), nil
}

func (c *Connector) adDelta(ctx context.Context, w *watermark, sink connector.ImportSink) error {
	if w.Method == methodDirSync {
		cookie, err := c.dirSync(ctx, c.filter(), w.Cookie, func(e *ldap.Entry) error { return c.adChanged(ctx, sink, e) })
		if err != nil {
			return err
		}
		return sink.Checkpoint(ctx, (&watermark{Method: methodDirSync, Cookie: cookie}).encode())
	}
	return c.usnDelta(ctx, w, sink)
}

// dirSync runs DirSync searches from cookie until the server has no more
// changes, handing each changed entry to fn, and returns the new cookie.
func (c *Connector) dirSync(ctx context.Context, filter string, cookie []byte, fn func(*ldap.Entry) error) ([]byte, error) {
	base := c.root.defaultNamingCtx
	// name and parentGUID change on a rename or a move: without them in
	// the list, DirSync would not report one.
	attrs := append(c.attributes(), "isDeleted", "objectGUID", "name", "parentGUID")
	for {
		var res *ldap.SearchResult
		err := c.s.run(ctx, func(conn *ldap.Conn) error {
			req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
			var err error
			res, err = conn.DirSync(req, dirSyncFlags, 0, cookie)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("ldap: DirSync of %s: %w", base, mapErr(err))
		}
		if fn != nil {
			for _, e := range res.Entries {
				if err := fn(e); err != nil {
					return nil, err
				}
			}
		}
		ctl, _ := ldap.FindControl(res.Controls, ldap.ControlTypeDirSync).(*ldap.ControlDirSync)
		if ctl == nil {
			return nil, fmt.Errorf("ldap: DirSync of %s: no DirSync control in the response", base)
		}
		if len(ctl.Cookie) > 0 {
			cookie = ctl.Cookie
		}
		if ctl.Flags == 0 { // no more data
			return cookie, nil
		}
	}
}

// adChanged reports one changed entry of a DirSync or uSNChanged delta:
// a tombstone as a Delete, anything else as the object as it now is (read
// whole, since a delta carries only the changed attributes).
func (c *Connector) adChanged(ctx context.Context, sink connector.ImportSink, e *ldap.Entry) error {
	guid := e.GetRawAttributeValue("objectGUID")
	if len(guid) != 16 {
		return nil
	}
	anchor := connector.Anchor(ldif.GUIDString(guid))
	if strings.EqualFold(e.GetAttributeValue("isDeleted"), "TRUE") {
		return sink.Object(ctx, connector.Change{Kind: connector.Delete, Anchor: anchor})
	}
	full, err := c.readEntry(ctx, "<GUID="+hexGUID(guid)+">", c.attributes())
	if err != nil {
		if le := mapErr(err); isNoSuchObject(le) {
			return nil // deleted since: the next delta reports it
		}
		return fmt.Errorf("ldap: reading %s: %w", e.DN, mapErr(err))
	}
	if full == nil {
		return nil
	}
	return c.emit(ctx, sink, full, connector.Add)
}

func isNoSuchObject(err error) bool {
	re, ok := err.(*ResultError)
	return ok && re.Code == ldap.LDAPResultNoSuchObject
}

// hexGUID formats a GUID for AD's <GUID=…> DN syntax.
func hexGUID(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 32)
	for _, x := range b {
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}

// usnDelta reports entries with a uSNChanged above the watermark's and
// tombstones (with the Show Deleted control), for accounts without the
// replication rights DirSync needs. A watermark from another domain
// controller (USNs are per DC) has expired.
func (c *Connector) usnDelta(ctx context.Context, w *watermark, sink connector.ImportSink) error {
	root, err := c.readRootDSE(ctx)
	if err != nil {
		return err
	}
	if root.dsServiceName != w.Server {
		return fmt.Errorf("ldap: watermark from domain controller %q, connected to %q: %w", w.Server, root.dsServiceName, connector.ErrWatermarkExpired)
	}
	high, err := strconv.ParseInt(root.highestUSN, 10, 64)
	if err != nil {
		return fmt.Errorf("ldap: highestCommittedUSN %q: %w", root.highestUSN, err)
	}
	filter := fmt.Sprintf("(&%s(uSNChanged>=%d))", c.filter(), w.USN+1)
	for _, ct := range c.cfg.Containers {
		err := c.pagedSearch(ctx, ct.DN, ldap.ScopeWholeSubtree, filter, c.attributes(),
			func(e *ldap.Entry) error { return c.emit(ctx, sink, e, connector.Add) }, nil)
		if err != nil {
			return err
		}
	}
	// Tombstones.
	deleted := "CN=Deleted Objects," + root.defaultNamingCtx
	err = c.s.run(ctx, func(conn *ldap.Conn) error {
		req := ldap.NewSearchRequest(deleted, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			fmt.Sprintf("(&(isDeleted=TRUE)(uSNChanged>=%d))", w.USN+1), []string{"objectGUID", "isDeleted"},
			[]ldap.Control{ldap.NewControlString(oidShowDeleted, true, "")})
		res, err := conn.SearchWithPaging(req, uint32(c.cfg.PageSize))
		if err != nil {
			return err
		}
		for _, e := range res.Entries {
			if err := c.adChanged(ctx, sink, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !isNoSuchObject(mapErr(err)) {
		return fmt.Errorf("ldap: reading tombstones: %w", mapErr(err))
	}
	return sink.Checkpoint(ctx, (&watermark{Method: methodUSN, USN: high, Server: root.dsServiceName}).encode())
}

// adSetPassword replaces unicodePwd: the password in double quotes, in
// UTF-16LE. AD accepts it only over an encrypted connection.
func (c *Connector) adSetPassword(ctx context.Context, dn string, password connector.Secret) error {
	if _, err := c.s.get(ctx); err != nil {
		return err
	}
	if !c.s.tlsActive() {
		return fmt.Errorf("ldap: setting the password of %s: %w", dn, ErrTLSRequired)
	}
	req := ldap.NewModifyRequest(dn, nil)
	req.Replace("unicodePwd", []string{encodePassword(password.Reveal())})
	if err := c.s.run(ctx, func(conn *ldap.Conn) error { return conn.Modify(req) }); err != nil {
		return fmt.Errorf("ldap: setting the password of %s: %w", dn, mapErr(err))
	}
	return nil
}

func encodePassword(pw string) string {
	u := utf16.Encode([]rune(`"` + pw + `"`))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return string(b)
}
