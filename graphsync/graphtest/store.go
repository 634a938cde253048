package graphtest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
)

// object is one directory object. Deleted objects stay in store.objects as
// tombstones so that delta queries can report their removal.
//
// Invariant: values stored in props are never mutated in place, only
// replaced, so rendered responses may share them after the lock is released.
type object struct {
	id         string
	kind       kind
	props      map[string]any
	createdSeq uint64
	lastSeq    uint64 // last change, including membership changes of a group
	deleted    bool
	members    *idSet // groups and directory roles
	owners     *idSet // groups
	memberLog  []memberChange
	// manager is a user's manager's id; managerRemoved the manager last
	// removed and managerSeq when it changed, for delta (manager.go).
	manager, managerRemoved string
	managerSeq              uint64
}

type memberChange struct {
	seq     uint64
	id      string
	removed bool
}

// logEntry records that object id changed at seq.
type logEntry struct {
	seq uint64
	id  string
}

// idSet is an insertion-ordered set; removal swaps in the last element.
type idSet struct {
	ids []string
	pos map[string]int
}

func newIDSet() *idSet { return &idSet{pos: map[string]int{}} }

func (s *idSet) has(id string) bool { _, ok := s.pos[id]; return ok }

func (s *idSet) add(id string) bool {
	if s.has(id) {
		return false
	}
	s.pos[id] = len(s.ids)
	s.ids = append(s.ids, id)
	return true
}

func (s *idSet) remove(id string) bool {
	i, ok := s.pos[id]
	if !ok {
		return false
	}
	last := len(s.ids) - 1
	s.ids[i] = s.ids[last]
	s.pos[s.ids[i]] = i
	s.ids = s.ids[:last]
	delete(s.pos, id)
	return true
}

// store is the tenant state. It is not safe for concurrent use; Server
// guards it with a mutex.
type store struct {
	schemas       [numKinds]*schema
	objects       map[string]*object
	order         [numKinds][]*object // creation order, tombstones included
	log           [numKinds][]logEntry
	seq           uint64
	upn           map[string]string // lower-case UPN → id
	immutable     map[string]string // lower-case onPremisesImmutableId → id
	proxy         map[string]string // proxyKey(address) → id
	memberOf      map[string]*idSet // member id → group and role ids
	domains       map[string]bool   // lower-case verified domain names
	domainList    []string
	initialDomain string
	pcg           *rand.PCG // the source of rng, kept for snapshots
	rng           *rand.Rand
	now           func() time.Time
	reports       map[string]*idSet // manager id → its reports, made on first use (manager.go)
}

func newStore(domains []string, initial string, seed int64) *store {
	st := &store{
		schemas:       newSchemas(),
		objects:       map[string]*object{},
		upn:           map[string]string{},
		immutable:     map[string]string{},
		proxy:         map[string]string{},
		memberOf:      map[string]*idSet{},
		domains:       map[string]bool{},
		initialDomain: initial,
		pcg:           rand.NewPCG(uint64(seed), 0x67726170687465),
		now:           time.Now,
	}
	st.rng = rand.New(st.pcg)
	for _, d := range append([]string{initial}, domains...) {
		if !st.domains[strings.ToLower(d)] {
			st.domains[strings.ToLower(d)] = true
			st.domainList = append(st.domainList, d)
		}
	}
	return st
}

func (st *store) newID() string {
	a, b := st.rng.Uint64(), st.rng.Uint64()
	a = a&^0xf000 | 0x4000               // version 4
	b = b&^(0xc000<<48) | (0x8000 << 48) // RFC 4122 variant
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

func (st *store) timestamp() string { return st.now().UTC().Format("2006-01-02T15:04:05Z") }

// get returns a live object by id (any kind).
func (st *store) get(id string) *object {
	o := st.objects[strings.ToLower(id)]
	if o == nil || o.deleted {
		return nil
	}
	return o
}

// getKind returns a live object of kind k; users may also be addressed by
// userPrincipalName (https://learn.microsoft.com/graph/api/user-get).
func (st *store) getKind(k kind, key string) *object {
	o := st.get(key)
	if o == nil && k == kindUser {
		if id, ok := st.upn[strings.ToLower(key)]; ok {
			o = st.get(id)
		}
	}
	if o == nil || o.kind != k {
		return nil
	}
	return o
}

// touch appends a change of o to the log.
func (st *store) touch(o *object) {
	st.seq++
	o.lastSeq = st.seq
	st.log[o.kind] = append(st.log[o.kind], logEntry{seq: st.seq, id: o.id})
}

// proxyKey normalises a proxy address for uniqueness: the smtp: prefix is
// ignored in any case, the rest compared case-insensitively.
func proxyKey(addr string) string {
	l := strings.ToLower(addr)
	return strings.TrimPrefix(l, "smtp:")
}

// write is a validated create or update.
type write struct {
	props       map[string]any // property values to set (nil value = clear)
	memberBinds []string
	ownerBinds  []string
}

// validate checks a request body against the schema of k.
// https://learn.microsoft.com/graph/api/user-post-users,
// https://learn.microsoft.com/graph/api/user-update
func (st *store) validate(k kind, body map[string]any, create bool) (*write, *graphError) {
	sc := st.schemas[k]
	wr := &write{props: map[string]any{}}
	for name, v := range body {
		switch {
		case name == "@odata.type":
			continue
		case k == kindGroup && (name == "members@odata.bind" || name == "owners@odata.bind"):
			ids, gerr := bindIDs(name, v)
			if gerr != nil {
				return nil, gerr
			}
			if name == "members@odata.bind" {
				wr.memberBinds = ids
			} else {
				wr.ownerBinds = ids
			}
			continue
		}
		def, ok := sc.lookup(name)
		if !ok {
			return nil, badRequest("Invalid property '%s'. Property '%s' does not exist as a declared property or extension property.", name, name)
		}
		if def.readOnly {
			return nil, badRequest("Property '%s' is read-only and cannot be set.", name)
		}
		if !typeOK(def.typ, v) {
			return nil, invalidValue(k, name)
		}
		wr.props[name] = v
	}
	if create {
		for _, name := range sc.required {
			if v, ok := wr.props[name]; !ok || v == nil {
				return nil, invalidValue(k, name)
			}
		}
	}
	for _, name := range sc.required {
		if v, ok := wr.props[name]; ok && v == nil {
			return nil, invalidValue(k, name)
		}
	}
	if pp, ok := wr.props["passwordProfile"]; ok {
		m, _ := pp.(map[string]any)
		if pw, _ := m["password"].(string); pw == "" && create {
			return nil, invalidValue(k, "passwordProfile")
		}
		delete(wr.props, "passwordProfile") // write-only: never returned
	}
	if v, ok := wr.props["mailNickname"].(string); ok && !validMailNickname(v) {
		return nil, invalidValue(k, "mailNickname")
	}
	if v, ok := wr.props["userPrincipalName"].(string); ok {
		at := strings.LastIndexByte(v, '@')
		if at <= 0 || at == len(v)-1 {
			return nil, invalidValue(k, "userPrincipalName")
		}
		if !st.domains[strings.ToLower(v[at+1:])] {
			msg := "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization."
			return nil, &graphError{status: http.StatusBadRequest, code: "Request_BadRequest", message: msg,
				details: []errorDetail{{Code: "InvalidValue", Message: msg, Target: "userPrincipalName"}}}
		}
	}
	return wr, nil
}

// validMailNickname applies the documented character restrictions
// (https://learn.microsoft.com/graph/api/resources/group#properties).
func validMailNickname(v string) bool {
	if v == "" || len(v) > 64 {
		return false
	}
	return !strings.ContainsAny(v, "@()\\[]\";:<>, ")
}

func typeOK(t propType, v any) bool {
	if v == nil {
		return true
	}
	switch t {
	case tString:
		_, ok := v.(string)
		return ok
	case tBool:
		_, ok := v.(bool)
		return ok
	case tNumber:
		_, ok := v.(float64)
		return ok
	case tObject:
		_, ok := v.(map[string]any)
		return ok
	case tStrings, tObjects:
		a, ok := v.([]any)
		if !ok {
			return false
		}
		for _, e := range a {
			if t == tStrings {
				if _, ok := e.(string); !ok {
					return false
				}
			} else if _, ok := e.(map[string]any); !ok {
				return false
			}
		}
		return true
	default: // extension property: scalar or collection of strings
		switch x := v.(type) {
		case string, bool, float64:
			return true
		case []any:
			return typeOK(tStrings, x)
		}
		return false
	}
}

// bindIDs extracts object ids from an @odata.bind collection. Graph allows
// up to 20 per request (https://learn.microsoft.com/graph/api/group-update).
func bindIDs(name string, v any) ([]string, *graphError) {
	a, ok := v.([]any)
	if !ok {
		return nil, badRequest("Invalid value for '%s'.", name)
	}
	if len(a) > 20 {
		return nil, badRequest("The number of references in '%s' exceeds the maximum of 20.", name)
	}
	ids := make([]string, 0, len(a))
	for _, e := range a {
		s, ok := e.(string)
		if !ok {
			return nil, badRequest("Invalid value for '%s'.", name)
		}
		ids = append(ids, refID(s))
	}
	return ids, nil
}

// refID returns the trailing id of a reference URL such as
// https://graph.microsoft.com/v1.0/directoryObjects/{id}.
func refID(ref string) string {
	ref = strings.TrimRight(ref, "/")
	if i := strings.LastIndexByte(ref, '/'); i >= 0 {
		ref = ref[i+1:]
	}
	// directoryObjects('id') form
	if i := strings.IndexByte(ref, '('); i >= 0 {
		ref = strings.Trim(ref[i+1:], "()'")
	}
	return ref
}

// uniqueKeys are the tenant-wide unique values an object would hold.
type uniqueKeys struct {
	upn, immutable string
	proxies        []string
}

func keysOf(props map[string]any) uniqueKeys {
	var u uniqueKeys
	if v, ok := props["userPrincipalName"].(string); ok {
		u.upn = strings.ToLower(v)
	}
	if v, ok := props["onPremisesImmutableId"].(string); ok && v != "" {
		u.immutable = strings.ToLower(v)
	}
	if a, ok := props["proxyAddresses"].([]any); ok {
		for _, p := range a {
			if s, ok := p.(string); ok {
				u.proxies = append(u.proxies, proxyKey(s))
			}
		}
	}
	return u
}

// checkUnique reports a conflict with an object other than self.
func (st *store) checkUnique(u uniqueKeys, self string) *graphError {
	if u.upn != "" {
		if id, ok := st.upn[u.upn]; ok && id != self {
			return conflict("userPrincipalName")
		}
	}
	if u.immutable != "" {
		if id, ok := st.immutable[u.immutable]; ok && id != self {
			return conflict("onPremisesImmutableId")
		}
	}
	for _, p := range u.proxies {
		if id, ok := st.proxy[p]; ok && id != self {
			return conflict("proxyAddresses")
		}
	}
	return nil
}

func (st *store) index(id string, u uniqueKeys) {
	if u.upn != "" {
		st.upn[u.upn] = id
	}
	if u.immutable != "" {
		st.immutable[u.immutable] = id
	}
	for _, p := range u.proxies {
		st.proxy[p] = id
	}
}

func (st *store) unindex(id string, u uniqueKeys) {
	if u.upn != "" && st.upn[u.upn] == id {
		delete(st.upn, u.upn)
	}
	if u.immutable != "" && st.immutable[u.immutable] == id {
		delete(st.immutable, u.immutable)
	}
	for _, p := range u.proxies {
		if st.proxy[p] == id {
			delete(st.proxy, p)
		}
	}
}

// deriveProxies recomputes proxyAddresses from mail: a primary SMTP
// address mirrors mail (https://learn.microsoft.com/graph/api/resources/user,
// proxyAddresses). Unified groups get mail = mailNickname@initial domain.
func (st *store) deriveProxies(k kind, props map[string]any) {
	if k == kindGroup {
		unified := false
		if gt, ok := props["groupTypes"].([]any); ok {
			for _, t := range gt {
				if s, _ := t.(string); strings.EqualFold(s, "Unified") {
					unified = true
				}
			}
		}
		if nick, ok := props["mailNickname"].(string); ok && unified && props["mailEnabled"] == true {
			props["mail"] = nick + "@" + st.initialDomain
		} else if _, ok := props["mail"]; !ok {
			props["mail"] = nil
		}
	}
	if k != kindUser && k != kindGroup {
		return
	}
	if m, ok := props["mail"].(string); ok && m != "" {
		props["proxyAddresses"] = []any{"SMTP:" + m}
	} else {
		props["proxyAddresses"] = []any{}
	}
}

// create validates and stores a new object.
func (st *store) create(k kind, body map[string]any) (*object, *graphError) {
	wr, gerr := st.validate(k, body, true)
	if gerr != nil {
		return nil, gerr
	}
	return st.createValidated(k, wr)
}

func (st *store) createValidated(k kind, wr *write) (*object, *graphError) {
	props := make(map[string]any, len(wr.props)+8)
	for n, v := range wr.props {
		if v != nil {
			props[n] = v
		}
	}
	switch k {
	case kindUser:
		setDefault(props, "businessPhones", []any{})
		setDefault(props, "imAddresses", []any{})
		setDefault(props, "otherMails", []any{})
	case kindGroup:
		setDefault(props, "groupTypes", []any{})
	}
	st.deriveProxies(k, props)
	u := keysOf(props)
	if gerr := st.checkUnique(u, ""); gerr != nil {
		return nil, gerr
	}
	if gerr := st.checkRefs(wr.memberBinds); gerr != nil {
		return nil, gerr
	}
	if gerr := st.checkRefs(wr.ownerBinds); gerr != nil {
		return nil, gerr
	}
	props["createdDateTime"] = st.timestamp()
	o := &object{id: st.newID(), kind: k, props: props}
	if k == kindGroup || k == kindRole {
		o.members = newIDSet()
		o.owners = newIDSet()
	}
	st.objects[o.id] = o
	st.order[k] = append(st.order[k], o)
	st.index(o.id, u)
	st.touch(o)
	o.createdSeq = o.lastSeq
	for _, m := range wr.memberBinds {
		st.addMember(o, m)
	}
	for _, m := range wr.ownerBinds {
		st.addOwner(o, m)
	}
	return o, nil
}

func setDefault(props map[string]any, name string, v any) {
	if _, ok := props[name]; !ok {
		props[name] = v
	}
}

func (st *store) checkRefs(ids []string) *graphError {
	for _, id := range ids {
		if st.get(id) == nil {
			return notFound(id)
		}
	}
	return nil
}

// update applies a PATCH body to o.
func (st *store) update(o *object, body map[string]any) *graphError {
	wr, gerr := st.validate(o.kind, body, false)
	if gerr != nil {
		return gerr
	}
	props := make(map[string]any, len(o.props)+len(wr.props))
	for n, v := range o.props {
		props[n] = v
	}
	for n, v := range wr.props {
		if v == nil {
			delete(props, n)
		} else {
			props[n] = v
		}
	}
	st.deriveProxies(o.kind, props)
	oldKeys, newKeys := keysOf(o.props), keysOf(props)
	if gerr := st.checkUnique(newKeys, o.id); gerr != nil {
		return gerr
	}
	if gerr := st.checkRefs(wr.memberBinds); gerr != nil {
		return gerr
	}
	for _, m := range wr.memberBinds {
		if o.members.has(strings.ToLower(m)) {
			return alreadyMember("members")
		}
	}
	st.unindex(o.id, oldKeys)
	st.index(o.id, newKeys)
	o.props = props
	st.touch(o)
	for _, m := range wr.memberBinds {
		st.addMember(o, m)
	}
	for _, m := range wr.ownerBinds {
		st.addOwner(o, m)
	}
	return nil
}

// alreadyMember is Graph's answer to adding an existing member or owner.
// https://learn.microsoft.com/graph/api/group-post-members
func alreadyMember(prop string) *graphError {
	return badRequest("One or more added object references already exist for the following modified properties: '%s'.", prop)
}

// remove deletes o, its memberships and its unique values. The object is
// kept as a tombstone for delta queries.
func (st *store) remove(o *object) {
	st.unindex(o.id, keysOf(o.props))
	if parents := st.memberOf[o.id]; parents != nil {
		for _, pid := range slices.Clone(parents.ids) {
			if p := st.objects[pid]; p != nil {
				st.removeMember(p, o.id)
			}
		}
		delete(st.memberOf, o.id)
	}
	if o.members != nil {
		for _, m := range o.members.ids {
			if set := st.memberOf[m]; set != nil {
				set.remove(o.id)
			}
		}
		o.members = newIDSet()
		o.owners = newIDSet()
	}
	// Owners are not indexed in reverse: a deleted owner stays in owner
	// sets and is skipped when rendered.
	if o.kind == kindUser {
		st.managerGone(o)
		if o.manager != "" {
			st.reportsOf(o.manager).remove(o.id)
		}
	}
	o.deleted = true
	st.touch(o)
}

// addMember adds member id m (which must exist) to group or role g.
func (st *store) addMember(g *object, m string) bool {
	mo := st.get(m)
	if mo == nil || !g.members.add(mo.id) {
		return false
	}
	set := st.memberOf[mo.id]
	if set == nil {
		set = newIDSet()
		st.memberOf[mo.id] = set
	}
	set.add(g.id)
	st.touch(g)
	g.memberLog = append(g.memberLog, memberChange{seq: g.lastSeq, id: mo.id})
	return true
}

func (st *store) removeMember(g *object, m string) bool {
	m = strings.ToLower(m)
	if !g.members.remove(m) {
		return false
	}
	if set := st.memberOf[m]; set != nil {
		set.remove(g.id)
	}
	st.touch(g)
	g.memberLog = append(g.memberLog, memberChange{seq: g.lastSeq, id: m, removed: true})
	return true
}

func (st *store) addOwner(g *object, m string) bool {
	mo := st.get(m)
	if mo == nil {
		return false
	}
	return g.owners.add(mo.id)
}

// role returns the activated directory role with the given display name,
// activating it on first use (https://learn.microsoft.com/graph/api/directoryrole-post-directoryroles).
func (st *store) role(name string) *object {
	for _, r := range st.order[kindRole] {
		if strings.EqualFold(r.props["displayName"].(string), name) {
			return r
		}
	}
	tmpl := roleTemplateID(name)
	if tmpl == "" {
		tmpl = st.newID()
	}
	wr := &write{props: map[string]any{"displayName": name, "roleTemplateId": tmpl, "description": name}}
	o, _ := st.createValidated(kindRole, wr)
	return o
}

// render returns the selected properties of o. Values are shared with the
// store (see the invariant on object).
func (st *store) render(o *object, sel []string) map[string]any {
	sc := st.schemas[o.kind]
	if sel == nil {
		sel = sc.defaultProps()
	}
	out := make(map[string]any, len(sel)+1)
	out["id"] = o.id
	for _, name := range sel {
		if name == "id" || name == "members" {
			continue
		}
		v, ok := o.props[name]
		if !ok {
			if _, declared := sc.props[name]; !declared {
				continue // unset extension property: omitted as Graph does
			}
		}
		out[name] = v
	}
	return out
}

// snapshot returns a deep copy of o for the direct-state accessors.
func (st *store) snapshot(o *object) map[string]any {
	out := make(map[string]any, len(o.props)+3)
	for n, v := range o.props {
		out[n] = deepCopy(v)
	}
	out["id"] = o.id
	if o.manager != "" {
		out["manager"] = o.manager
	}
	if o.members != nil {
		out["members"] = slices.Clone(o.members.ids)
		out["owners"] = slices.Clone(o.owners.ids)
	}
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = deepCopy(e)
		}
		return a
	default:
		return v
	}
}
