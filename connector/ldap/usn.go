package ldap

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
)

// uSNChanged delta import, for accounts without the replication right
// DirSync needs (or Config's choice): every object of the naming context
// whose uSNChanged is above the watermark's highestCommittedUSN is read
// whole, and tombstones (isDeleted=TRUE, found with the Show Deleted
// control) are reported as deletes. USNs are counters of one domain
// controller: the watermark names the DC (dsServiceName) and its database
// (invocationId, which changes when the DC is restored from a backup), and
// a delta against another one starts over with a full import
// (connector.ErrWatermarkExpired).

// oidShowDeleted is the Show Deleted control (MS-ADTS 3.1.1.3.4.1.14).
const oidShowDeleted = "1.2.840.113556.1.4.417"

// usnWatermark is the position of a uSNChanged delta.
type usnWatermark struct {
	USN        int64
	Server     string // dsServiceName of the DC
	Invocation []byte // invocationId of its database
}

// encode stores the position in the core's watermark (the invocationId in
// its Cookie).
func (w *usnWatermark) encode() []byte {
	return (&watermark{Method: methodUSN, USN: w.USN, Server: w.Server, Cookie: w.Invocation}).encode()
}

func usnFrom(w *watermark) *usnWatermark {
	return &usnWatermark{USN: w.USN, Server: w.Server, Invocation: w.Cookie}
}

// usnPosition reads the DC's current highestCommittedUSN and identity.
func (c *Connector) usnPosition(ctx context.Context) (*usnWatermark, error) {
	root, err := c.readRootDSE(ctx)
	if err != nil {
		return nil, err
	}
	usn, err := strconv.ParseInt(root.highestUSN, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("ldap: the root DSE's highestCommittedUSN %q: %w", root.highestUSN, connector.ErrUnavailable)
	}
	w := &usnWatermark{USN: usn, Server: root.dsServiceName}
	if root.dsServiceName != "" {
		e, err := c.readEntry(ctx, root.dsServiceName, []string{"invocationId"})
		if err != nil {
			return nil, fmt.Errorf("ldap: reading the invocationId of %s: %w", root.dsServiceName, mapErr(err))
		}
		if e != nil {
			w.Invocation = e.GetRawAttributeValue("invocationId")
		}
	}
	return w, nil
}

// usnDelta reports what changed since w.
func (c *Connector) usnDelta(ctx context.Context, w *usnWatermark, sink connector.ImportSink) error {
	// The position is taken first: a change made while the delta runs is
	// seen again next time rather than missed.
	now, err := c.usnPosition(ctx)
	if err != nil {
		return err
	}
	if !strings.EqualFold(now.Server, w.Server) || !bytes.Equal(now.Invocation, w.Invocation) {
		return fmt.Errorf("ldap: uSNChanged watermark of domain controller %q (database %x), now connected to %q (database %x): %w",
			w.Server, w.Invocation, now.Server, now.Invocation, connector.ErrWatermarkExpired)
	}
	if now.USN < w.USN {
		return fmt.Errorf("ldap: highestCommittedUSN went back from %d to %d: %w", w.USN, now.USN, connector.ErrWatermarkExpired)
	}
	since := fmt.Sprintf("(uSNChanged>=%d)", w.USN+1)
	nc := c.root.defaultNamingCtx
	for _, i := range c.deltaOrder() {
		t := c.types[i]
		class := c.exclusiveClassFilter(i)
		// Changed objects of the type, wherever they are in the naming
		// context: one that moved out of the containers is reported as a
		// delete.
		err := c.pagedSearch(ctx, "uSNChanged delta of type "+t.Name, nc, ldap.ScopeWholeSubtree, "(&"+since+class+")", append(c.attributes(), "replPropertyMetaData", "uSNCreated"),
			func(e *ldap.Entry) error { return c.usnEntry(ctx, sink, t, e, w.USN) }, c.referrals(ctx, sink))
		if err != nil {
			return err
		}
		if t.Filter != "" {
			// Changed objects that no longer match the type's filter.
			err := c.pagedSearch(ctx, "uSNChanged delta (out of filter) of type "+t.Name, nc, ldap.ScopeWholeSubtree, "(&"+since+class+"(!"+t.Filter+"))", []string{"objectGUID"},
				func(e *ldap.Entry) error { return c.deleteEntry(ctx, sink, t, e) }, c.referrals(ctx, sink))
			if err != nil {
				return err
			}
		}
		err = c.tombstones(ctx, since, class, func(e *ldap.Entry) error {
			if parent := e.GetAttributeValue("lastKnownParent"); parent != "" && c.excluded(parent) {
				return nil // deleted elsewhere in the domain
			}
			return c.deleteEntry(ctx, sink, t, e)
		})
		if err != nil {
			return err
		}
	}
	return sink.Checkpoint(ctx, now.encode())
}

// usnEntry reports a changed entry of type t: the object as it is now when
// it is in scope; out of scope, a delete when it existed at usn and was
// renamed or moved since (it may have left the containers), nothing
// otherwise.
func (c *Connector) usnEntry(ctx context.Context, sink connector.ImportSink, t *objType, e *ldap.Entry, usn int64) error {
	if c.excluded(e.DN) {
		created, err := strconv.ParseInt(e.GetAttributeValue("uSNCreated"), 10, 64)
		if err == nil && created > usn {
			return nil // created since: the engine never had it
		}
		if nameChangedAfter(e.GetRawAttributeValue("replPropertyMetaData"), usn) {
			return c.deleteEntry(ctx, sink, t, e)
		}
		return nil
	}
	if t.Filter != "" {
		return nil // reported by the search with the filter (below)
	}
	return c.emit(ctx, sink, e, connector.Add)
}

// deleteEntry reports the entry's object as deleted (the engine ignores
// the delete of an object it does not hold).
func (c *Connector) deleteEntry(ctx context.Context, sink connector.ImportSink, t *objType, e *ldap.Entry) error {
	raw := e.GetRawAttributeValue("objectGUID")
	if len(raw) != 16 {
		return nil
	}
	return sink.Object(ctx, connector.Change{Kind: connector.Delete, Anchor: guidAnchor(raw), Type: t.Name})
}

// tombstones hands fn the deleted objects (isDeleted=TRUE, under the
// naming context's Deleted Objects container) matching since and class.
func (c *Connector) tombstones(ctx context.Context, since, class string, fn func(*ldap.Entry) error) error {
	nc := c.root.defaultNamingCtx
	filter := "(&(isDeleted=TRUE)" + since + class + ")"
	var entries []*ldap.Entry
	err := c.s.run(ctx, func(conn *ldap.Conn) error {
		req := ldap.NewSearchRequest(nc, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter,
			[]string{"objectGUID", "isDeleted", "lastKnownParent"}, []ldap.Control{ldap.NewControlString(oidShowDeleted, true, "")})
		res, err := conn.SearchWithPaging(req, uint32(c.cfg.PageSize))
		if err != nil {
			return err
		}
		entries = res.Entries
		return nil
	})
	if err != nil {
		return fmt.Errorf("ldap: reading the tombstones of %s: %w", nc, mapErr(err))
	}
	for _, e := range entries {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// attrtypName is the ATTRTYP (MS-DRSR 5.14) of the name attribute, the
// object's RDN value, whose replication metadata changes when the object
// is renamed or moved.
const attrtypName = 0x00090001

// nameChangedAfter reports whether an object's replPropertyMetaData
// (MS-DRSR 5.172, REPLPROPERTYMETADATA: a 16-octet header with the
// entry count at offset 8, then 48-octet entries whose local USN is at
// offset 40) says its name changed on this DC after usn. Unreadable
// metadata counts as changed.
func nameChangedAfter(meta []byte, usn int64) bool {
	if len(meta) < 16 {
		return true
	}
	n := int(binary.LittleEndian.Uint32(meta[8:]))
	for i := range n {
		off := 16 + i*48
		if off+48 > len(meta) {
			return true
		}
		if binary.LittleEndian.Uint32(meta[off:]) == attrtypName {
			return int64(binary.LittleEndian.Uint64(meta[off+40:])) > usn
		}
	}
	return true
}
