package ldap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
)

// DirSync delta import (MS-ADTS 3.1.1.3.4.1.3, the control Entra Connect's
// AD connector uses): a search of the whole naming context with a cookie
// returns the objects changed since the cookie, each with only its changed
// attributes, and a new cookie.
//
// What the connector makes of a changed entry:
//   - isDeleted=TRUE (a tombstone under CN=Deleted Objects): a Delete by
//     objectGUID.
//   - a new object (its objectClass is among the changes): an Add.
//   - renamed or moved (name or parentGUID changed): the object is read
//     whole and reported as an Update with its new DN replacing every
//     attribute, since it may come from outside the imported containers
//     and be unknown to the engine; moved out of them, a Delete.
//   - otherwise an Update replacing the changed attributes; with
//     DirSyncIncrementalValues a group's membership change comes as
//     member;range=1-1 (values added) and member;range=0-0 (values
//     removed), reported as ModAdd and ModRemove of those references only,
//     so that one new member of a 100,000-member group is one value.
//
// DirSync needs the "Replicating Directory Changes" right on the naming
// context (Entra Connect's AD DS account has it). An account without it
// is refused with insufficientAccessRights, and the connector falls back
// to uSNChanged (usn.go). The DirSyncObjectSecurity flag, which lets such
// an account see what it may read, is not used: Samba then answers with no
// entries at all rather than a refusal, which would hide every change.
const dirSyncFlags = ldap.DirSyncIncrementalValues | ldap.DirSyncAncestorsFirstOrder

// DirSync's incremental-value markers (MS-ADTS 3.1.1.3.4.1.3, LDAP_DIRSYNC_INCREMENTAL_VALUES).
const (
	incrementalAdded   = "1-1"
	incrementalRemoved = "0-0"
)

// dirSyncAlways are the attributes every DirSync search asks for besides
// the types' own: isDeleted tells a tombstone, name and parentGUID a
// rename or a move (without them DirSync would not report one),
// lastKnownParent where a deleted object was, and objectClass tells a new
// object (Samba evaluates the filter against the
// attributes asked for only, so objectClass must be among them).
var dirSyncAlways = []string{"objectClass", "objectGUID", "isDeleted", "lastKnownParent", "name", "parentGUID"}

// dirSyncPass runs DirSync searches from cookie until the server has no
// more changes (the response's flags say whether more data waits), handing
// each entry to fn, and returns the new cookie. Each response is read whole
// before fn sees its entries (fn re-reads objects on the same connection:
// see search.go). onCookie, when not nil, is called with each intermediate
// cookie (after all the entries it covers), for checkpoints. step names
// the pass in errors.
func (c *Connector) dirSyncPass(ctx context.Context, step, filter string, attrs []string, cookie []byte,
	fn func(*ldap.Entry) error, onCookie func([]byte) error) ([]byte, error) {
	base := c.root.defaultNamingCtx // DirSync searches a naming context's head only
	read := 0
	retried := false
	for {
		conn, err := c.s.get(ctx)
		if err != nil {
			return nil, err
		}
		req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
		sctx, cancel := context.WithCancel(ctx)
		p, serr := readPage(ctx, conn.DirSyncAsync(sctx, req, 64, dirSyncFlags, 0, cookie))
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case serr != nil:
			if isConnErr(serr) {
				c.s.drop(conn)
				if !retried {
					// The connection dropped (idle since the last run):
					// nothing of this response was handed on, and a
					// DirSync cookie is not bound to its connection.
					retried = true
					continue
				}
			}
			return nil, &StepError{Step: step, Read: read, Err: dirSyncErr(base, serr)}
		}
		ctl, _ := ldap.FindControl(p.controls, ldap.ControlTypeDirSync).(*ldap.ControlDirSync)
		if ctl == nil {
			return nil, &StepError{Step: step, Read: read, Err: fmt.Errorf("ldap: DirSync of %s: no DirSync control in the response: %w", base, connector.ErrUnavailable)}
		}
		if fn != nil {
			for _, e := range p.entries {
				if err := fn(e); err != nil {
					return nil, err
				}
				read++
			}
		}
		if len(ctl.Cookie) > 0 {
			cookie = ctl.Cookie
		}
		if ctl.Flags == 0 { // no more data
			return cookie, nil
		}
		if onCookie != nil {
			if err := onCookie(cookie); err != nil {
				return nil, err
			}
		}
	}
}

// errDirSyncRefused: the account lacks the replication right DirSync needs.
var errDirSyncRefused = errors.New("ldap: DirSync refused (the account needs the Replicating Directory Changes right)")

// dirSyncErr maps a failed DirSync: a refusal (insufficientAccessRights)
// to errDirSyncRefused, a cookie the server cannot use (another domain,
// corrupted: unavailableCriticalExtension, protocolError,
// unwillingToPerform) to connector.ErrWatermarkExpired.
func dirSyncErr(base string, err error) error {
	var le *ldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case ldap.LDAPResultInsufficientAccessRights:
			return fmt.Errorf("%w: %w", errDirSyncRefused, mapErr(err))
		case ldap.LDAPResultUnavailableCriticalExtension, ldap.LDAPResultProtocolError, ldap.LDAPResultUnwillingToPerform:
			return fmt.Errorf("ldap: DirSync of %s cannot continue from the watermark: %w: %w", base, connector.ErrWatermarkExpired, mapErr(err))
		}
	}
	return fmt.Errorf("ldap: DirSync of %s: %w", base, mapErr(err))
}

// dirSyncWatermark is the position of a DirSync delta: one cookie per
// object type (each type has a DirSync search of its own, so that every
// changed entry comes with its type even when its objectClass did not
// change).
type dirSyncWatermark struct {
	Cookies map[string][]byte
}

func (w *dirSyncWatermark) encode() []byte {
	return (&watermark{Method: methodDirSync, Cookies: w.Cookies}).encode()
}

// dirSyncStart returns the DirSync position "now": a search no entry
// matches, which only returns the current cookie. A cookie does not depend
// on the filter, so every type starts from it.
func (c *Connector) dirSyncStart(ctx context.Context) (*dirSyncWatermark, error) {
	cookie, err := c.dirSyncPass(ctx, "DirSync position", noMatch, []string{"objectGUID"}, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	w := &dirSyncWatermark{Cookies: map[string][]byte{}}
	for _, t := range c.types {
		w.Cookies[t.Name] = cookie
	}
	return w, nil
}

// dirSyncDelta reports the changes since w, type by type, checkpointing
// after each DirSync response.
func (c *Connector) dirSyncDelta(ctx context.Context, w *dirSyncWatermark, sink connector.ImportSink) error {
	next := &dirSyncWatermark{Cookies: map[string][]byte{}}
	for _, t := range c.types {
		cookie, ok := w.Cookies[t.Name]
		if !ok {
			return fmt.Errorf("ldap: watermark has no DirSync cookie for type %q: %w", t.Name, connector.ErrWatermarkExpired)
		}
		next.Cookies[t.Name] = cookie
	}
	for _, i := range c.deltaOrder() {
		t := c.types[i]
		checkpoint := func(cookie []byte) error {
			next.Cookies[t.Name] = cookie
			return sink.Checkpoint(ctx, next.encode())
		}
		cookie, err := c.dirSyncPass(ctx, "DirSync delta of type "+t.Name, c.exclusiveClassFilter(i), c.dirSyncAttrs(t), next.Cookies[t.Name],
			func(e *ldap.Entry) error { return c.dirSyncEntry(ctx, sink, t, e) }, checkpoint)
		if err != nil {
			return err
		}
		next.Cookies[t.Name] = cookie
	}
	return sink.Checkpoint(ctx, next.encode())
}

// dirSyncAttrs returns the attributes a DirSync search for t asks for.
func (c *Connector) dirSyncAttrs(t *objType) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range append(append([]string{}, dirSyncAlways...), t.names...) {
		if k := strings.ToLower(n); !seen[k] {
			seen[k] = true
			out = append(out, n)
		}
	}
	return out
}

// exclusiveClassFilter selects the entries the i-th type takes: its
// object classes and none of an earlier type's (an entry takes the first
// type whose classes it has: computer before user). The types' own
// filters are not part of it: they are checked on the entry (see
// dirSyncEntry), so that an entry that stops matching one is seen.
func (c *Connector) exclusiveClassFilter(i int) string {
	var b strings.Builder
	b.WriteString("(&")
	b.WriteString(classFilter(c.types[i].ObjectClasses))
	for _, t := range c.types[:i] {
		b.WriteString("(!" + classFilter(t.ObjectClasses) + ")")
	}
	b.WriteString(")")
	return b.String()
}

func classFilter(classes []string) string {
	if len(classes) == 1 {
		return "(objectClass=" + ldap.EscapeFilter(classes[0]) + ")"
	}
	var b strings.Builder
	b.WriteString("(|")
	for _, oc := range classes {
		b.WriteString("(objectClass=" + ldap.EscapeFilter(oc) + ")")
	}
	b.WriteString(")")
	return b.String()
}

// dirSyncEntry reports one changed entry of type t.
func (c *Connector) dirSyncEntry(ctx context.Context, sink connector.ImportSink, t *objType, e *ldap.Entry) error {
	raw := e.GetRawAttributeValue("objectGUID")
	if len(raw) != 16 {
		return sink.Error(ctx, &connector.ObjectError{DN: e.DN, Op: "import", Err: fmt.Errorf("DirSync entry without an objectGUID: %w", connector.ErrInvalidObject)})
	}
	anchor := guidAnchor(raw)
	if strings.EqualFold(e.GetAttributeValue("isDeleted"), "TRUE") {
		if parent := e.GetAttributeValue("lastKnownParent"); parent != "" && c.excluded(parent) {
			return nil // deleted elsewhere in the domain
		}
		return sink.Object(ctx, connector.Change{Kind: connector.Delete, Anchor: anchor, Type: t.Name})
	}
	isNew := len(e.GetAttributeValues("objectClass")) > 0
	moved := !isNew && (e.GetAttributeValue("name") != "" || len(e.GetRawAttributeValue("parentGUID")) > 0)
	if c.excluded(e.DN) {
		if moved {
			// Moved out of the imported containers: gone for the engine
			// (which ignores the delete of an object it never had).
			return sink.Object(ctx, connector.Change{Kind: connector.Delete, Anchor: anchor, Type: t.Name})
		}
		return nil
	}
	if isNew || moved || t.Filter != "" {
		// The whole object, read now. A new object: DirSync leaves out
		// some of its attributes (the naming attribute cn, on Samba).
		// Renamed or moved: it may come from outside the containers, unknown
		// to the engine. With a type filter: it may now match it or not.
		return c.dirSyncReread(ctx, sink, t, anchor, raw, e.DN, isNew)
	}
	mods, err := c.dirSyncMods(ctx, t, e)
	if err != nil {
		return c.objectErr(ctx, sink, anchor, e.DN, err)
	}
	if len(mods) == 0 {
		return nil
	}
	return sink.Object(ctx, connector.Change{Kind: connector.Update, Anchor: anchor, Type: t.Name, DN: e.DN, Mods: mods})
}

// objectErr reports err as the failure of one object when it is one
// (a value that does not convert), and returns it otherwise.
func (c *Connector) objectErr(ctx context.Context, sink connector.ImportSink, anchor connector.Anchor, dn string, err error) error {
	var oe *connector.ObjectError
	if errors.As(err, &oe) {
		return sink.Error(ctx, oe)
	}
	if errors.Is(err, connector.ErrInvalidObject) {
		return sink.Error(ctx, &connector.ObjectError{Anchor: anchor, DN: dn, Op: "import", Err: err})
	}
	return err
}

func rangeText(r valueRange) string {
	if r.last {
		return fmt.Sprintf("%d-*", r.lo)
	}
	return fmt.Sprintf("%d-%d", r.lo, r.hi)
}

// dirSyncMods turns the changed attributes of an entry into modifications:
// a replace of each changed attribute (with no values when it was
// cleared), and for linked multi-valued attributes the added and removed
// values.
func (c *Connector) dirSyncMods(ctx context.Context, t *objType, e *ldap.Entry) ([]connector.Mod, error) {
	var mods []connector.Mod
	for _, ea := range e.Attributes {
		name, op := ea.Name, connector.ModReplace
		if r, ok := parseValueRange(ea.Name); ok {
			name = r.base
			switch rangeText(r) {
			case incrementalAdded:
				op = connector.ModAdd
			case incrementalRemoved:
				op = connector.ModRemove
			default:
				// A true range: the attribute is longer than the server
				// returns at once. Read the rest, replace it whole.
				one := &ldap.Entry{DN: e.DN, Attributes: []*ldap.EntryAttribute{ea}}
				if _, err := completeRanges(ctx, c.readEntry, one, c.rangeSize()); err != nil {
					return nil, err
				}
				ea = one.Attributes[0]
			}
		}
		a, ok := t.attrs[strings.ToLower(name)]
		if !ok || strings.EqualFold(name, "objectGUID") { // the anchor never changes
			continue
		}
		vals, err := convertValues(a, ea)
		if err != nil {
			return nil, &connector.ObjectError{DN: e.DN, Op: "import", Err: err}
		}
		if op != connector.ModReplace && len(vals) == 0 {
			continue
		}
		mods = append(mods, connector.Mod{Name: a.Name, Op: op, Values: vals})
	}
	return mods, nil
}

// dirSyncReread reads a changed object whole (by its GUID, wherever it is
// now). A new object is reported as an Add; another as an Update with its
// current DN replacing every attribute (renamed or moved, it keeps its
// objectGUID anchor); either as a Delete when it is gone, out of the
// containers or no longer matches its type's filter.
func (c *Connector) dirSyncReread(ctx context.Context, sink connector.ImportSink, t *objType, anchor connector.Anchor, guid []byte, dn string, isNew bool) error {
	e, err := c.readByGUID(ctx, guid, t.filter, c.attributes())
	if err != nil {
		return fmt.Errorf("ldap: reading %s: %w", dn, err)
	}
	if e == nil || c.excluded(e.DN) {
		if isNew {
			return nil
		}
		return sink.Object(ctx, connector.Change{Kind: connector.Delete, Anchor: anchor, Type: t.Name})
	}
	obj, err := c.toObject(ctx, e, t)
	if err != nil {
		return c.objectErr(ctx, sink, anchor, e.DN, err)
	}
	if isNew {
		return sink.Object(ctx, connector.Change{Kind: connector.Add, Anchor: anchor, Type: t.Name, DN: e.DN, Attrs: obj.Attrs})
	}
	mods := make([]connector.Mod, 0, len(t.names))
	for _, n := range t.names {
		a := t.attrs[strings.ToLower(n)]
		mods = append(mods, connector.Mod{Name: a.Name, Op: connector.ModReplace, Values: obj.Attrs[a.Name]})
	}
	return sink.Object(ctx, connector.Change{Kind: connector.Update, Anchor: anchor, Type: t.Name, DN: e.DN, Mods: mods})
}

// readByGUID reads the entry with the given objectGUID if it matches
// filter (nil when there is none), whatever its DN, through AD's
// <GUID=…> DN syntax.
func (c *Connector) readByGUID(ctx context.Context, guid []byte, filter string, attrs []string) (*ldap.Entry, error) {
	var e *ldap.Entry
	err := c.s.run(ctx, func(conn *ldap.Conn) error {
		res, err := conn.Search(ldap.NewSearchRequest("<GUID="+hexGUID(guid)+">", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			filter, attrs, nil))
		if err != nil {
			return err
		}
		if len(res.Entries) == 1 {
			e = res.Entries[0]
		}
		return nil
	})
	if err != nil {
		if re := mapErr(err); errors.Is(re, connector.ErrNoSuchObject) {
			return nil, nil
		}
		return nil, mapErr(err)
	}
	if e != nil {
		if _, err := completeRanges(ctx, c.readEntry, e, c.rangeSize()); err != nil {
			return nil, err
		}
	}
	return e, nil
}
