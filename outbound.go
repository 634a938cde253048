package idbridge

import (
	"fmt"
	"slices"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/rules"
)

// outbound runs the outbound rules for an entry, connector by connector:
// provision a target object when a Provision rule is in scope and there is
// none, compute the pending export of an existing one, or deprovision it
// when no rule keeps it in scope.
func (s *syncer) outbound(w *work, entry *metaverse.Entry, current *metaverse.CSObject) error {
	byConn := map[string][]*rules.Compiled{}
	var names []string
	for _, r := range s.rules.Outbound(entry.Type) {
		c := r.Rule().Connector
		if _, ok := byConn[c]; !ok {
			names = append(names, c)
		}
		byConn[c] = append(byConn[c], r)
	}
	for _, l := range entry.Links {
		if _, ok := byConn[l.Connector]; !ok && !l.Inbound {
			byConn[l.Connector] = nil
			names = append(names, l.Connector)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		if err := s.outboundTo(w, entry, name, byConn[name], current); err != nil {
			return err
		}
	}
	return nil
}

func (s *syncer) outboundTo(w *work, entry *metaverse.Entry, connName string, rs []*rules.Compiled, current *metaverse.CSObject) error {
	var target *metaverse.CSObject
	var link metaverse.Link
	for _, l := range entry.Links {
		if l.Connector != connName {
			continue
		}
		t := current
		if t == nil || t.Connector != l.Connector || t.ID != l.ObjectID {
			var err error
			if t, err = w.object(l.Connector, l.ObjectID); err != nil {
				return err
			}
		}
		if t != nil {
			target, link = t, l
			break
		}
	}
	if target != nil && target.Pending == metaverse.ImportDelete {
		return nil // gone; its connector's sync will unlink it, then provision anew
	}
	in := &rules.Input{Type: entry.Type, Attrs: entry.Attrs}
	if target != nil {
		in.Target = target.Attrs
	}
	var scoped []*rules.Compiled
	for _, r := range rs {
		if target != nil && r.Rule().TargetType != target.Type {
			continue
		}
		ok, err := r.InScope(w.ctx, in)
		if err != nil {
			return s.entryErr(entry, current, connName, "outbound scope", fmt.Errorf("rule %q: %w", r.Rule().Name, err))
		}
		if ok {
			scoped = append(scoped, r)
		}
		if s.explain != nil {
			s.explain.outboundScope(entry, connName, r, ok)
		}
	}
	if target == nil {
		var prov *rules.Compiled
		for _, r := range scoped {
			if r.Rule().LinkType == metaverse.Provision {
				prov = r
				break
			}
		}
		if prov == nil {
			return nil
		}
		typ := prov.Rule().TargetType
		scoped = slices.DeleteFunc(scoped, func(r *rules.Compiled) bool { return r.Rule().TargetType != typ })
		desired, dn, err := s.desired(w, entry, connName, scoped, in, current)
		if err != nil {
			return err
		}
		if done, err := s.provisionOnto(w, entry, connName, prov, scoped, typ, dn, current); done || err != nil {
			return err
		}
		id, err := w.newID()
		if err != nil {
			return err
		}
		now := s.e.opts.Now()
		t := &metaverse.CSObject{
			ID: id, Connector: connName, Type: typ, DN: dn, Attrs: connector.Attributes{},
			EntryID: entry.ID, LinkType: metaverse.Provision, Rule: prov.Rule().Name,
			Export: &metaverse.Export{Kind: connector.Add, DN: dn, Attrs: desired, State: metaverse.ExportPending, Updated: now},
		}
		entry.Links = append(entry.Links, metaverse.Link{Connector: connName, ObjectID: id, Type: metaverse.Provision, Rule: prov.Rule().Name})
		w.putEntry(entry)
		w.putObject(t)
		s.res.Provisions++
		return s.arrived(w, t, entry)
	}
	if len(scoped) == 0 {
		if link.Inbound {
			return nil // a source of the entry: outbound rules never remove it
		}
		return s.deprovision(w, entry, target, link)
	}
	desired, dn, err := s.desired(w, entry, connName, scoped, in, current)
	if err != nil {
		return err
	}
	return s.setExport(w, target, desired, dn)
}

// provisionOnto handles a provision whose DN is already held in the
// connector space: an unlinked object of the same type (an account made
// before the engine managed the system: onboarding) is joined to the
// entry and given the rules' export, rather than adding a second object
// that the connected system would refuse or, worse, accept; an object
// linked to another entry, or of another type, fails with
// ErrProvisionConflict. done is false when no object of the connected
// system (one with an anchor) holds dn, and the provision goes on.
func (s *syncer) provisionOnto(w *work, entry *metaverse.Entry, connName string, prov *rules.Compiled, scoped []*rules.Compiled, typ, dn string, current *metaverse.CSObject) (bool, error) {
	if dn == "" {
		return false, nil
	}
	held, err := w.objectByDN(connName, dn)
	if err != nil || held == nil || held.Anchor == "" || held.Pending == metaverse.ImportDelete {
		// A pending add of another entry with the same DN is left to
		// the export, which parks the second (connector.ErrAlreadyExists):
		// a connector that names its own objects takes both.
		return false, err
	}
	if held.EntryID != "" || held.Type != typ {
		why := fmt.Sprintf("linked to metaverse entry %s", held.EntryID)
		if held.Type != typ {
			why = fmt.Sprintf("a %s, not a %s", held.Type, typ)
		}
		return true, s.entryErr(entry, current, connName, "provision", fmt.Errorf("rule %q: %s %q is held by object %s (%s): %w", prov.Rule().Name, typ, dn, held.ID, why, ErrProvisionConflict))
	}
	s.e.log.Info("idbridge: provisioning joined an existing object with the same DN", "connector", connName, "object", held.ID, "anchor", held.Anchor, "entry", entry.ID)
	s.link(w, held, entry, metaverse.Join, prov.Rule().Name, false)
	s.res.Joins++
	// Apply-once flows and the rules' scope see the object as it is.
	in := &rules.Input{Type: entry.Type, Attrs: entry.Attrs, Target: held.Attrs}
	desired, dn, err := s.desired(w, entry, connName, scoped, in, current)
	if err != nil {
		return true, err
	}
	if err := s.setExport(w, held, desired, dn); err != nil {
		return true, err
	}
	return true, s.arrived(w, held, entry)
}

func (s *syncer) entryErr(entry *metaverse.Entry, current *metaverse.CSObject, connName, step string, err error) error {
	if isFatal(err) {
		return err
	}
	oe := &ObjectError{Connector: connName, Step: step, Err: fmt.Errorf("metaverse entry %s: %w", entry.ID, err)}
	if current != nil {
		oe.Connector, oe.ObjectID, oe.Anchor, oe.DN = current.Connector, current.ID, current.Anchor, current.DN
	}
	return oe
}

// desired evaluates the in-scope outbound rules for one target object:
// per attribute, the lowest precedence number that contributes wins; the
// special target "dn" names the object. Attributes whose winning flow is
// Null or AuthoritativeNull are managed and empty; IgnoreThisFlow and
// apply-once flows on a target that has a value leave it unmanaged.
func (s *syncer) desired(w *work, entry *metaverse.Entry, connName string, scoped []*rules.Compiled, in *rules.Input, current *metaverse.CSObject) (connector.Attributes, string, error) {
	attrs := connector.Attributes{}
	decided := map[string]bool{}
	nulls := map[string]bool{}
	dn := ""
	for _, r := range scoped {
		results, err := r.Flows(w.ctx, in)
		if err != nil {
			return nil, "", s.entryErr(entry, current, connName, "outbound flow", err)
		}
		for _, fr := range results {
			if decided[fr.Target] {
				s.explainOutbound(entry, connName, r, &fr, OutcomePrecedence, nil)
				continue
			}
			switch fr.Null {
			case rules.Null:
				nulls[fr.Target] = true
				s.explainOutbound(entry, connName, r, &fr, OutcomeNull, nil)
				continue
			case rules.IgnoreThisFlow:
				s.explainOutbound(entry, connName, r, &fr, OutcomeIgnored, nil)
				continue
			}
			decided[fr.Target] = true
			if fr.Target == "dn" {
				if len(fr.Values) > 0 && fr.Null == rules.NotNull {
					dn = fr.Values[0].Str()
				}
				s.explainOutbound(entry, connName, r, &fr, OutcomeWon, fr.Values)
				continue
			}
			if fr.ApplyOnce && len(in.Target[fr.Target]) > 0 {
				s.explainOutbound(entry, connName, r, &fr, OutcomeKept, in.Target[fr.Target])
				continue
			}
			vals := fr.Values
			if fr.Null == rules.AuthoritativeNull {
				vals = nil
			}
			vals, err := s.toTarget(w, connName, vals, current)
			if err != nil {
				return nil, "", err
			}
			if vals == nil {
				vals = []connector.Value{}
			}
			attrs[fr.Target] = vals
			s.explainOutbound(entry, connName, r, &fr, OutcomeWon, vals)
		}
	}
	for name := range nulls {
		if !decided[name] && name != "dn" {
			attrs[name] = []connector.Value{}
		}
	}
	return attrs, dn, nil
}

// toTarget turns references to metaverse entries into references to those
// entries' objects in the target connector space (by CSObject ID, see
// refs.go). A reference to an entry with no object there is dropped.
func (s *syncer) toTarget(w *work, connName string, vals []connector.Value, current *metaverse.CSObject) ([]connector.Value, error) {
	if len(vals) == 0 || vals[0].Type() != connector.Reference {
		return vals, nil
	}
	out := make([]connector.Value, 0, len(vals))
	for _, v := range vals {
		id, _ := v.Ref()
		objectID, exists, err := w.linkedObject(string(id), connName)
		if err != nil {
			return nil, err
		}
		if objectID != "" {
			out = append(out, connector.RefValue(connector.Anchor(objectID), ""))
		} else if exists && current != nil {
			// The target may be provisioned later in this run.
			s.retryLater(current)
			s.waitFor(w, current, connName, waitEntry, string(id))
		}
	}
	return out, nil
}

// setExport records what an existing target object should become.
func (s *syncer) setExport(w *work, t *metaverse.CSObject, desired connector.Attributes, dn string) error {
	now := s.e.opts.Now()
	x := t.Export
	if x != nil && x.Kind == connector.Add && t.Anchor == "" {
		// Not exported yet: amend the add.
		if !x.Attrs.Equal(desired) || x.DN != dn {
			x.Attrs, x.DN, x.Updated = desired, dn, now
			if x.State != metaverse.ExportFailed {
				x.State = metaverse.ExportPending
			}
			t.DN = dn
			w.putObject(t)
		}
		return nil
	}
	resolved, unresolved, err := resolveDesired(w, t.Connector, desired)
	if err != nil {
		return err
	}
	renamed := dn != "" && connector.FoldDN(dn) != connector.FoldDN(t.DN)
	if !unresolved && !renamed && attrsMatch(t.Attrs, resolved) {
		if x != nil {
			t.Export = nil // already so: nothing to export (cancels a pending delete too)
			w.putObject(t)
		}
		return nil
	}
	if x != nil && x.Kind == connector.Update && x.DN == dn && x.Attrs.Equal(desired) {
		return nil // already pending (or exported, awaiting confirmation)
	}
	t.Export = &metaverse.Export{Kind: connector.Update, DN: dn, Attrs: desired, State: metaverse.ExportPending, Updated: now}
	w.putObject(t)
	s.res.ExportUpdates++
	return nil
}

// deprovision applies the deprovision action of the rule that provisioned
// t, which leaves the scope of every outbound rule or whose entry is
// deleted: delete it (default), disconnect it, or disable it with the rule's
// deprovision flows. The object is unlinked in every case.
func (s *syncer) deprovision(w *work, entry *metaverse.Entry, t *metaverse.CSObject, link metaverse.Link) error {
	var rc *rules.Compiled
	for _, r := range s.rules.Outbound(entry.Type) {
		if r.Rule().Name == link.Rule && r.Rule().Connector == t.Connector {
			rc = r
			break
		}
	}
	action := rules.DeprovisionDelete
	if rc != nil {
		action = rc.Rule().Deprovision
	}
	unlink(w, t, entry)
	s.res.Deprovisions++
	switch {
	case action == rules.DeprovisionDisconnect:
		t.Export = nil
		w.putObject(t)
		return nil
	case action == rules.DeprovisionDisable && rc != nil:
		results, err := rc.DeprovisionFlows(w.ctx, &rules.Input{Type: entry.Type, Attrs: entry.Attrs, Target: t.Attrs})
		if err != nil {
			return s.entryErr(entry, t, t.Connector, "deprovision", err)
		}
		desired := connector.Attributes{}
		for _, fr := range results {
			if fr.Null == rules.NotNull {
				desired[fr.Target] = fr.Values
			} else if fr.Null == rules.AuthoritativeNull {
				desired[fr.Target] = []connector.Value{}
			}
		}
		if t.Anchor == "" {
			w.deleteObject(t) // never exported: nothing to disable
			return nil
		}
		return s.setExport(w, t, desired, "")
	}
	if t.Anchor == "" {
		w.deleteObject(t) // never exported: nothing to delete
		return nil
	}
	t.Export = &metaverse.Export{Kind: connector.Delete, DN: t.DN, State: metaverse.ExportPending, Updated: s.e.opts.Now()}
	w.putObject(t)
	return nil
}
