package graphtest

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// snapshotVersion is the format of Snapshot; Restore refuses others.
const snapshotVersion = 1

type snapshotFile struct {
	Version int              `json:"version"`
	Secret  []byte           `json:"secret"` // signs the delta tokens
	Epoch   uint64           `json:"epoch"`
	Seq     uint64           `json:"seq"`
	IDs     []byte           `json:"ids"` // the id generator's state
	Objects []snapshotObject `json:"objects"`
	Log     [][]snapshotLog  `json:"log"`
}

type snapshotObject struct {
	ID        string           `json:"id"`
	Kind      kind             `json:"kind"`
	Props     map[string]any   `json:"props"`
	Created   uint64           `json:"created"`
	Last      uint64           `json:"last"`
	Deleted   bool             `json:"deleted,omitempty"`
	Members   []string         `json:"members,omitempty"`
	Owners    []string         `json:"owners,omitempty"`
	MemberLog []snapshotMember `json:"memberLog,omitempty"`
	// Manager, ManagerRemoved and ManagerSeq: a user's manager (manager.go).
	Manager        string `json:"manager,omitempty"`
	ManagerRemoved string `json:"managerRemoved,omitempty"`
	ManagerSeq     uint64 `json:"managerSeq,omitempty"`
}

type snapshotMember struct {
	Seq     uint64 `json:"seq"`
	ID      string `json:"id"`
	Removed bool   `json:"removed,omitempty"`
}

type snapshotLog struct {
	Seq uint64 `json:"seq"`
	ID  string `json:"id"`
}

// Snapshot writes the tenant's state as JSON: every object (deleted ones
// too, for deltas), the change log and what signs the delta tokens, so
// that a server restored from it answers the delta links of this one.
// Programs that keep a tenant across runs (examples/quickstart) use it;
// the request log, faults and budget are not part of it.
func (s *Server) Snapshot(w io.Writer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	ids, err := st.pcg.MarshalBinary()
	if err != nil {
		return err
	}
	f := snapshotFile{Version: snapshotVersion, Secret: s.secret, Epoch: s.epoch, Seq: st.seq, IDs: ids}
	for k := range numKinds {
		for _, o := range st.order[k] {
			so := snapshotObject{ID: o.id, Kind: o.kind, Props: o.props, Created: o.createdSeq, Last: o.lastSeq, Deleted: o.deleted,
				Manager: o.manager, ManagerRemoved: o.managerRemoved, ManagerSeq: o.managerSeq}
			if o.members != nil {
				so.Members = o.members.ids
			}
			if o.owners != nil {
				so.Owners = o.owners.ids
			}
			for _, m := range o.memberLog {
				so.MemberLog = append(so.MemberLog, snapshotMember{Seq: m.seq, ID: m.id, Removed: m.removed})
			}
			f.Objects = append(f.Objects, so)
		}
		var log []snapshotLog
		for _, e := range st.log[k] {
			log = append(log, snapshotLog{Seq: e.seq, ID: e.id})
		}
		f.Log = append(f.Log, log)
	}
	return json.NewEncoder(w).Encode(&f)
}

// Restore replaces the tenant's state with a Snapshot's. Call it before
// serving requests.
func (s *Server) Restore(r io.Reader) error {
	var f snapshotFile
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return fmt.Errorf("graphtest: reading a snapshot: %w", err)
	}
	if f.Version != snapshotVersion {
		return fmt.Errorf("graphtest: snapshot version %d, this emulator reads %d", f.Version, snapshotVersion)
	}
	if len(f.Log) != int(numKinds) {
		return fmt.Errorf("graphtest: snapshot with %d change logs, want %d", len(f.Log), numKinds)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := newStore(s.opts.Domains, s.opts.InitialDomain, s.opts.Seed)
	if err := st.pcg.UnmarshalBinary(f.IDs); err != nil {
		return fmt.Errorf("graphtest: snapshot: %w", err)
	}
	st.seq = f.Seq
	for _, so := range f.Objects {
		if so.Kind < 0 || so.Kind >= numKinds {
			return fmt.Errorf("graphtest: snapshot: object %s of unknown kind %d", so.ID, so.Kind)
		}
		o := &object{id: so.ID, kind: so.Kind, props: so.Props, createdSeq: so.Created, lastSeq: so.Last, deleted: so.Deleted,
			manager: so.Manager, managerRemoved: so.ManagerRemoved, managerSeq: so.ManagerSeq}
		if o.props == nil {
			o.props = map[string]any{}
		}
		if so.Kind == kindGroup || so.Kind == kindRole {
			o.members, o.owners = newIDSet(), newIDSet()
		}
		for _, m := range so.MemberLog {
			o.memberLog = append(o.memberLog, memberChange{seq: m.Seq, id: m.ID, removed: m.Removed})
		}
		st.objects[strings.ToLower(o.id)] = o
		st.order[o.kind] = append(st.order[o.kind], o)
		if !o.deleted {
			st.index(o.id, keysOf(o.props))
		}
	}
	for _, so := range f.Objects {
		o := st.objects[strings.ToLower(so.ID)]
		for _, m := range so.Members {
			o.members.add(m)
			set := st.memberOf[m]
			if set == nil {
				set = newIDSet()
				st.memberOf[m] = set
			}
			set.add(o.id)
		}
		for _, m := range so.Owners {
			o.owners.add(m)
		}
		if o.manager != "" && !o.deleted {
			st.reportsOf(o.manager).add(o.id)
		}
	}
	for k, log := range f.Log {
		for _, e := range log {
			st.log[k] = append(st.log[k], logEntry{seq: e.Seq, id: e.ID})
		}
	}
	s.st, s.secret, s.epoch = st, f.Secret, f.Epoch
	return nil
}
