package ldap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/internal/adcodec"
)

// Delta-import methods, chosen by what the server offers.
const (
	methodSyncrepl  = "syncrepl"        // RFC 4533 refreshOnly (OpenLDAP)
	methodDirSync   = "dirsync"         // AD DirSync control
	methodUSN       = "usn"             // AD uSNChanged + Show Deleted
	methodTimestamp = "modifyTimestamp" // any server; deletes by full import
)

// watermark is the opaque position a DeltaImport starts from.
type watermark struct {
	Method  string            `json:"m"`
	Cookies map[string][]byte `json:"c,omitempty"` // syncrepl: per container
	Cookie  []byte            `json:"k,omitempty"` // DirSync
	USN     int64             `json:"u,omitempty"`
	Server  string            `json:"s,omitempty"` // the DC a USN belongs to
	Time    string            `json:"t,omitempty"` // modifyTimestamp lower bound
}

func (w *watermark) encode() []byte {
	b, _ := json.Marshal(w)
	return b
}

// timestampSkew is how far before the start of an import a
// modifyTimestamp watermark is set, for clocks that differ.
const timestampSkew = 5 * time.Minute

// method returns the delta method for the server.
func (c *Connector) method() string {
	switch {
	case c.root.dialect == ActiveDirectory && c.root.dirsync && !c.cfg.NoDirSync:
		return methodDirSync
	case c.root.dialect == ActiveDirectory:
		return methodUSN
	case c.root.dialect == OpenLDAP && c.root.syncrepl && strings.EqualFold(c.anchorAttr(c.root.dialect), "entryUUID"):
		return methodSyncrepl
	}
	return methodTimestamp
}

// noMatch is a filter no entry matches: a search with it returns only the
// server's current synchronization cookie.
const noMatch = "(&(objectClass=*)(!(objectClass=*)))"

// startWatermark returns the position "now", taken before a full import.
func (c *Connector) startWatermark(ctx context.Context) ([]byte, error) {
	switch m := c.method(); m {
	case methodSyncrepl:
		w := &watermark{Method: m, Cookies: map[string][]byte{}}
		for _, ct := range c.cfg.Containers {
			cookie, err := c.syncrepl(ctx, ct.DN, noMatch, nil, nil, nil)
			if err != nil {
				return nil, err
			}
			w.Cookies[ct.DN] = cookie
		}
		return w.encode(), nil
	case methodDirSync, methodUSN:
		return c.adStartWatermark(ctx, m)
	default:
		return (&watermark{Method: methodTimestamp, Time: adcodec.FormatGeneralizedTime(time.Now().Add(-timestampSkew))}).encode(), nil
	}
}

// DeltaImport reports what changed since watermark: with RFC 4533
// content synchronization on OpenLDAP (deletes included), DirSync or
// uSNChanged on Active Directory, modifyTimestamp elsewhere (deletes are
// then found by the next full import). A watermark the server cannot
// continue from (its session log no longer covers it, another domain
// controller) gives an error wrapping connector.ErrWatermarkExpired.
func (c *Connector) DeltaImport(ctx context.Context, wm []byte, sink connector.ImportSink) error {
	if err := c.init(ctx); err != nil {
		return err
	}
	var w watermark
	if err := json.Unmarshal(wm, &w); err != nil || w.Method == "" {
		return fmt.Errorf("ldap: unreadable watermark: %w", connector.ErrWatermarkExpired)
	}
	if w.Method != c.method() && !(w.Method == methodUSN && c.method() == methodDirSync) {
		return fmt.Errorf("ldap: watermark of method %s, server now uses %s: %w", w.Method, c.method(), connector.ErrWatermarkExpired)
	}
	switch w.Method {
	case methodSyncrepl:
		return c.syncreplDelta(ctx, &w, sink)
	case methodDirSync, methodUSN:
		return c.adDelta(ctx, &w, sink)
	default:
		return c.timestampDelta(ctx, &w, sink)
	}
}

// syncrepl runs an RFC 4533 refreshOnly search from cookie and returns the
// new cookie. onEntry (nil to ignore) receives changed entries with their
// state, onDelete the entryUUIDs of deleted entries. It fails with
// connector.ErrWatermarkExpired when the server answers with a present
// phase (its session log does not cover the cookie), from which deletes
// cannot be told. The whole refresh is read before onEntry and onDelete
// see any of it (see search.go: a consumer slower than the server would
// stall go-ldap's reader, which then drops responses).
func (c *Connector) syncrepl(ctx context.Context, base, filter string, cookie []byte,
	onEntry func(*ldap.Entry, ldap.ControlSyncStateState) error, onDelete func(uuid string) error) ([]byte, error) {
	next, err := c.syncreplOnce(ctx, base, filter, cookie, onEntry, onDelete)
	var dropped *droppedError
	if errors.As(err, &dropped) && ctx.Err() == nil {
		// The connection had dropped while idle; nothing was handed on
		// (the refresh is read whole first): once more on a new one.
		next, err = c.syncreplOnce(ctx, base, filter, cookie, onEntry, onDelete)
	}
	return next, err
}

func (c *Connector) syncreplOnce(ctx context.Context, base, filter string, cookie []byte,
	onEntry func(*ldap.Entry, ldap.ControlSyncStateState) error, onDelete func(uuid string) error) ([]byte, error) {
	conn, err := c.s.get(ctx)
	if err != nil {
		return nil, err
	}
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, c.attributes(), nil)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := conn.Syncrepl(sctx, req, 64, ldap.SyncRequestModeRefreshOnly, cookie, false)
	present := false
	var ferr error
	var actions []func() error // run once the refresh is read
	for ferr == nil && res.Next() {
		if e := res.Entry(); e != nil {
			st, _ := ldap.FindControl(res.Controls(), ldap.ControlTypeSyncState).(*ldap.ControlSyncState)
			switch {
			case st == nil:
				ferr = fmt.Errorf("ldap: syncrepl entry %s without a sync state", e.DN)
			case st.State == ldap.SyncStatePresent:
				present = true
			case st.State == ldap.SyncStateDelete:
				if onDelete != nil {
					uuid := st.EntryUUID.String()
					actions = append(actions, func() error { return onDelete(uuid) })
				}
			case onEntry != nil:
				state := st.State
				actions = append(actions, func() error { return onEntry(e, state) })
			}
			continue
		}
		for _, ctl := range res.Controls() {
			switch x := ctl.(type) {
			case *ldap.ControlSyncInfo:
				switch {
				case x.NewCookie != nil:
					cookie = x.NewCookie.Cookie
				case x.SyncIdSet != nil:
					if len(x.SyncIdSet.Cookie) > 0 {
						cookie = x.SyncIdSet.Cookie
					}
					if !x.SyncIdSet.RefreshDeletes {
						present = true
						continue
					}
					for _, u := range x.SyncIdSet.SyncUUIDs {
						if onDelete != nil {
							uuid := u.String()
							actions = append(actions, func() error { return onDelete(uuid) })
						}
					}
				case x.RefreshDelete != nil:
					if len(x.RefreshDelete.Cookie) > 0 {
						cookie = x.RefreshDelete.Cookie
					}
				case x.RefreshPresent != nil:
					present = true
					if len(x.RefreshPresent.Cookie) > 0 {
						cookie = x.RefreshPresent.Cookie
					}
				}
			case *ldap.ControlSyncDone:
				if len(x.Cookie) > 0 {
					cookie = x.Cookie
				}
				if !x.RefreshDeletes && present {
					present = true
				}
			}
		}
	}
	serr := res.Err()
	cancel()
	for res.Next() {
	}
	switch {
	case ferr != nil:
		return nil, ferr
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case serr != nil:
		if isConnErr(serr) {
			c.s.drop(conn)
			return nil, &droppedError{fmt.Errorf("ldap: syncrepl from %s: %w", base, mapErr(serr))}
		}
		var le *ldap.Error
		if errors.As(serr, &le) && le.ResultCode == 4096 { // e-syncRefreshRequired
			return nil, fmt.Errorf("ldap: syncrepl from %s: server requires a refresh: %w", base, connector.ErrWatermarkExpired)
		}
		return nil, fmt.Errorf("ldap: syncrepl from %s: %w", base, mapErr(serr))
	case present && cookie != nil && onDelete != nil:
		return nil, fmt.Errorf("ldap: syncrepl from %s: the server's session log no longer covers the watermark: %w", base, connector.ErrWatermarkExpired)
	}
	for _, act := range actions {
		if err := act(); err != nil {
			return nil, err
		}
	}
	return cookie, nil
}

func (c *Connector) syncreplDelta(ctx context.Context, w *watermark, sink connector.ImportSink) error {
	next := &watermark{Method: methodSyncrepl, Cookies: map[string][]byte{}}
	for _, ct := range c.cfg.Containers {
		cookie, ok := w.Cookies[ct.DN]
		if !ok {
			return fmt.Errorf("ldap: watermark has no cookie for container %s: %w", ct.DN, connector.ErrWatermarkExpired)
		}
		newCookie, err := c.syncrepl(ctx, ct.DN, c.filter(), cookie,
			func(e *ldap.Entry, _ ldap.ControlSyncStateState) error { return c.emit(ctx, sink, e, connector.Add) },
			func(uuid string) error {
				return sink.Object(ctx, connector.Change{Kind: connector.Delete, Anchor: connector.Anchor(uuid)})
			})
		if err != nil {
			return err
		}
		next.Cookies[ct.DN] = newCookie
	}
	return sink.Checkpoint(ctx, next.encode())
}

// timestampDelta reports the entries whose modifyTimestamp is at or after
// the watermark's. Deletes are not visible this way: the engine's next full
// import finds them.
func (c *Connector) timestampDelta(ctx context.Context, w *watermark, sink connector.ImportSink) error {
	next := (&watermark{Method: methodTimestamp, Time: adcodec.FormatGeneralizedTime(time.Now().Add(-timestampSkew))}).encode()
	filter := "(&" + c.filter() + "(modifyTimestamp>=" + escape(w.Time) + "))"
	for _, ct := range c.cfg.Containers {
		err := c.pagedSearch(ctx, "modifyTimestamp delta", ct.DN, ldap.ScopeWholeSubtree, filter, c.attributes(),
			func(e *ldap.Entry) error { return c.emit(ctx, sink, e, connector.Add) }, c.referrals(ctx, sink))
		if err != nil {
			return err
		}
	}
	return sink.Checkpoint(ctx, next)
}
