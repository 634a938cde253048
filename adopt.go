package idbridge

import (
	"errors"
	"fmt"
	"slices"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// ErrAmbiguousAdopt: an imported object the connector space did not know
// matched more than one provisioned object whose add was not recorded
// (connector.AddMatcher); none is adopted and the imported object is not
// staged, so that neither a duplicate nor a wrong link is made. The object
// error names the candidates.
var ErrAmbiguousAdopt = errors.New("idbridge: imported object matches several unrecorded adds")

// ErrProvisionConflict: an outbound rule would provision an object whose
// DN is held in the connector space by an object of the connected system
// that cannot be taken over: linked to another metaverse entry, or of
// another type. Nothing is added; the object error names the
// holder. (An unlinked object with that DN is joined instead: see
// Engine.Cycle.)
var ErrProvisionConflict = errors.New("idbridge: provisioning would add an object that exists")

// matchKey is one identifying value of a pending add.
type matchKey struct {
	typ, attr string
	v         connector.Value
}

// addIndex finds, by identifying value, the provisioned objects of one
// connector space that have no anchor and a pending Add in any export state
// (pending, unconfirmed, failed): the adds whose outcome may be unknown.
// It is built once per import run, from the store's pending exports (never
// a scan of the connector space), when the first object with an unknown
// anchor arrives. Candidates are checked against the unit of work when
// used, so that an object adopted earlier in the run, or a transaction
// retried by the store, never adopts twice.
type addIndex struct {
	m map[matchKey][]string // → object IDs
}

func (s *stager) addIndex(w *work, am connector.AddMatcher) (*addIndex, error) {
	if s.adds != nil {
		return s.adds, nil
	}
	ix := &addIndex{m: map[matchKey][]string{}}
	after := ""
	for {
		page, err := w.tx.PendingExports(w.ctx, s.c.name, after, s.e.opts.BatchSize)
		if err != nil {
			return nil, fatal(err)
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].ID
		for _, o := range page {
			if !pendingAdd(o) {
				continue
			}
			for _, attr := range am.MatchAttributes(o.Type) {
				for _, v := range o.Export.Attrs[attr] {
					if v.Type() == connector.Reference {
						continue
					}
					k := matchKey{o.Type, attr, v}
					ix.m[k] = append(ix.m[k], o.ID)
				}
			}
		}
	}
	s.adds = ix
	return ix, nil
}

// pendingAdd reports whether o was provisioned and its add never recorded
// as applied.
func pendingAdd(o *metaverse.CSObject) bool {
	return o != nil && o.Anchor == "" && o.Export != nil && o.Export.Kind == connector.Add
}

// adoptByMatch returns the provisioned object whose unrecorded add created
// the object ch reports, given its anchor; nil when there is none or the
// connector has no connector.AddMatcher.
func (s *stager) adoptByMatch(w *work, ch *connector.Change) (*metaverse.CSObject, error) {
	am, ok := s.c.c.(connector.AddMatcher)
	if !ok {
		return nil, nil
	}
	attrs := am.MatchAttributes(ch.Type)
	if len(attrs) == 0 {
		return nil, nil
	}
	ix, err := s.addIndex(w, am)
	if err != nil || len(ix.m) == 0 {
		return nil, err
	}
	values := imported(&metaverse.CSObject{}, ch)
	var found []*metaverse.CSObject
	for _, attr := range attrs {
		for _, v := range values[attr] {
			for _, id := range ix.m[matchKey{ch.Type, attr, v}] {
				p, err := w.object(s.c.name, id)
				if err != nil {
					return nil, err
				}
				if !pendingAdd(p) || p.Type != ch.Type || !slices.Contains(p.Export.Attrs[attr], v) || slices.Contains(found, p) {
					continue
				}
				found = append(found, p)
			}
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		p := found[0]
		s.e.log.Info("idbridge: import adopted an object whose add was not recorded", "connector", s.c.name, "object", p.ID, "anchor", ch.Anchor)
		return p, nil
	}
	ids := make([]string, len(found))
	for i, p := range found {
		ids[i] = p.ID
	}
	return nil, fmt.Errorf("%s <%s> matches the unrecorded adds of objects %v: %w", ch.Type, ch.Anchor, ids, ErrAmbiguousAdopt)
}

// takeOverAdd lets an object that joins entry replace the object entry
// provisioned in the same connector space whose add was never exported:
// the account existed before the engine managed the system (onboarding),
// and the join found it by attribute where the provisioned DN did not
// match. The provisioned object is removed; the outbound rules then give
// the joined object its export. A provisioned object already exported,
// or any other link, is left for the join to refuse (ErrAmbiguousJoin).
func (s *syncer) takeOverAdd(w *work, o *metaverse.CSObject, entry *metaverse.Entry) error {
	for _, l := range slices.Clone(entry.Links) {
		if l.Connector != o.Connector || l.ObjectID == o.ID || l.Inbound || l.Type != metaverse.Provision {
			continue
		}
		p, err := w.object(l.Connector, l.ObjectID)
		if err != nil {
			return err
		}
		if !pendingAdd(p) || p.Export.State != metaverse.ExportPending || p.Type != o.Type {
			continue
		}
		s.e.log.Info("idbridge: a joined object replaced a provisioned add never exported", "connector", o.Connector, "object", o.ID, "replaced", p.ID, "entry", entry.ID)
		unlink(w, p, entry)
		w.deleteObject(p)
	}
	return nil
}
