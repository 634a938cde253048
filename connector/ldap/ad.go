package ldap

import (
	"context"
	"errors"
	"fmt"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/internal/adcodec"
)

// Active Directory specifics, called by the core: the delta position taken
// before a full import, the delta import itself (DirSync, or uSNChanged for
// an account without replication rights), DirSync polling for Watch, and
// unicodePwd. The pieces are in dirsync.go, usn.go, ranged.go and
// adpassword.go.

// adStartWatermark returns the position a later delta starts from, taken
// before a full import reads anything. With method DirSync, an account
// DirSync refuses gets a uSNChanged position instead: the automatic
// fallback.
func (c *Connector) adStartWatermark(ctx context.Context, method string) ([]byte, error) {
	if method == methodDirSync {
		w, err := c.dirSyncStart(ctx)
		if err == nil {
			return w.encode(), nil
		}
		if !errors.Is(err, errDirSyncRefused) {
			return nil, err
		}
		// The watermark's method (usn) tells that the fallback is in use.
	}
	w, err := c.usnPosition(ctx)
	if err != nil {
		return nil, err
	}
	return w.encode(), nil
}

// adDelta runs the delta import of an AD watermark.
func (c *Connector) adDelta(ctx context.Context, w *watermark, sink connector.ImportSink) error {
	if w.Method == methodDirSync {
		ds := &dirSyncWatermark{Cookies: w.Cookies}
		if len(ds.Cookies) == 0 && len(w.Cookie) > 0 {
			// A single cookie (an older watermark): a cookie does not depend
			// on the filter, so each type continues from it.
			ds.Cookies = map[string][]byte{}
			for _, t := range c.types {
				ds.Cookies[t.Name] = w.Cookie
			}
		}
		err := c.dirSyncDelta(ctx, ds, sink)
		if errors.Is(err, errDirSyncRefused) {
			// The account lost its replication right: the next full import
			// starts a uSNChanged watermark.
			return fmt.Errorf("%w: %w", connector.ErrWatermarkExpired, err)
		}
		return err
	}
	return c.usnDelta(ctx, usnFrom(w), sink)
}

// dirSync runs DirSync from cookie with the types' filter, for Watch: fn
// sees each changed entry, and the new cookie is returned. A nil cookie
// with the filter noMatch returns the current position.
func (c *Connector) dirSync(ctx context.Context, filter string, cookie []byte, fn func(*ldap.Entry) error) ([]byte, error) {
	attrs := []string{"objectGUID", "isDeleted"}
	if filter != noMatch {
		attrs = append(c.attributes(), dirSyncAlways...)
	}
	return c.dirSyncPass(ctx, "DirSync watch", filter, attrs, cookie, fn, nil)
}

// guidAnchor returns the anchor of an objectGUID: its GUID string.
func guidAnchor(raw []byte) connector.Anchor { return connector.Anchor(adcodec.GUIDString(raw)) }

// hexGUID formats a GUID's octets for AD's <GUID=…> DN syntax.
func hexGUID(b []byte) string { return adcodec.HexGUID(b) }
