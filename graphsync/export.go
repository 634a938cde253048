package graphsync

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/idbridge/idbridge/connector"
)

// task is the export of one change: a sequence of chains of requests
// whose handlers decide what comes next (a quarantined retry, a match).
type task struct {
	c      *Connector
	ch     connector.Change
	t      *connector.ObjectType
	result *connector.ExportResult
	start  func() []*op
	anchor connector.Anchor // the object's, once known
	failed error
	// conflicts counts the uniqueness conflicts handled, to stop a loop.
	conflicts int
	// ownersAdd and ownersRemove are the owner changes update sends.
	ownersAdd, ownersRemove []connector.Anchor
	// managerSet (a user's new manager) or managerClear is the manager
	// change update, or a create, sends by $ref.
	managerSet   connector.Anchor
	managerClear bool
}

// found records the object's anchor (a created or matched object's id).
func (t *task) found(anchor connector.Anchor) { t.anchor = anchor }

func (t *task) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	t.result.Warnings = append(t.result.Warnings, msg)
	t.c.cfg.Logger.Warn("graphsync: export", "type", t.ch.Type, "anchor", string(t.ch.Anchor), "dn", t.ch.DN, "warning", msg)
}

func (t *task) fail(o *op, err error) {
	if t.failed != nil {
		return
	}
	t.failed = err
	t.result.Err = &connector.ObjectError{Anchor: t.ch.Anchor, DN: t.ch.DN, Op: t.ch.Kind.String(), Err: err}
}

// op makes an op whose handler passes a 2xx response to ok and fails the
// task otherwise.
func (t *task) op(method, path string, body map[string]any, ok func(status int, body map[string]any) []*op) *op {
	o := &op{method: method, path: path, body: body, task: t}
	o.then = func(status int, rb map[string]any) []*op {
		if status >= 200 && status < 300 {
			return ok(status, rb)
		}
		t.fail(o, errorFromBody(method, path, status, rb))
		return nil
	}
	return o
}

// refOp makes a write whose only result is success or failure: a 2xx, or
// an error accept takes as the wanted state (a member already there, or
// already gone), succeeds; anything else fails the task.
func (t *task) refOp(method, path string, body map[string]any, accept func(*Error) bool) *op {
	o := &op{method: method, path: path, body: body, task: t}
	o.then = func(status int, rb map[string]any) []*op {
		if status >= 200 && status < 300 {
			return nil
		}
		if e := errorFromBody(method, path, status, rb); !accept(e) {
			t.fail(o, e)
		}
		return nil
	}
	return o
}

func notFound(e *Error) bool { return e.Status == http.StatusNotFound }

// Export applies changes through JSON batches. Users and groups are
// created, updated (PATCH of the changed properties) and deleted; group
// members are added by members@odata.bind (20 per request) and removed by
// $ref. Devices are imported only. Each change gets its own result: a
// change whose requests still fail after MaxAttempts fails alone.
func (c *Connector) Export(ctx context.Context, changes []connector.Change) ([]connector.ExportResult, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	results := make([]connector.ExportResult, len(changes))
	tasks := make([]*task, 0, len(changes))
	for i := range changes {
		ch := changes[i]
		results[i].Anchor = ch.Anchor
		t := &task{c: c, ch: ch, result: &results[i]}
		ot, ok := c.schema.Type(ch.Type)
		if !ok {
			t.fail(nil, fmt.Errorf("unknown object type %q: %w", ch.Type, connector.ErrInvalidObject))
			continue
		}
		t.t = ot
		if err := c.plan(t); err != nil {
			t.fail(nil, err)
			continue
		}
		tasks = append(tasks, t)
	}
	if err := c.run(ctx, tasks); err != nil {
		return nil, err
	}
	// A task is done when none of its requests is left: it succeeded
	// unless one failed.
	for _, t := range tasks {
		if t.failed != nil {
			continue
		}
		if t.anchor == "" {
			t.anchor = t.ch.Anchor
		}
		if t.anchor == "" {
			t.fail(nil, fmt.Errorf("graphsync: export of a %s ended without an id: %w", t.ch.Type, connector.ErrUnavailable))
			continue
		}
		t.result.Anchor = t.anchor
		t.result.DN = dnOf(t.ch.Type, string(t.anchor))
	}
	return results, nil
}

// plan sets the task's first chain.
func (c *Connector) plan(t *task) error {
	ch := t.ch
	if ch.Type == TypeDevice && ch.Kind != connector.Delete {
		return fmt.Errorf("devices are registered by the devices themselves, not created or changed by sync: %w", connector.ErrUnsupported)
	}
	switch ch.Kind {
	case connector.Add:
		if typ := typeOfDN(ch.DN); typ != "" {
			// users/{id} is the DN of an object Graph created: an Add
			// naming it is a duplicate (Graph chooses the ids).
			return fmt.Errorf("%s names an existing object: %w", ch.DN, connector.ErrAlreadyExists)
		}
		return c.planAdd(t)
	case connector.Update:
		if ch.Anchor == "" {
			return fmt.Errorf("an update without an anchor: %w", connector.ErrInvalidObject)
		}
		return c.planUpdate(t)
	case connector.Delete:
		if ch.Anchor == "" {
			return fmt.Errorf("a delete without an anchor: %w", connector.ErrInvalidObject)
		}
		// A delete sent again after a lost response finds the object gone:
		// that is its own outcome. The first attempt reports a missing
		// object (the engine's next import confirms it).
		var o *op
		o = t.refOp(http.MethodDelete, "/"+collection[ch.Type]+"/"+url.PathEscape(string(ch.Anchor)), nil, func(e *Error) bool {
			return notFound(e) && o.attempts > 0
		})
		t.start = func() []*op { return []*op{o} }
		return nil
	}
	return fmt.Errorf("change kind %v: %w", ch.Kind, connector.ErrInvalidObject)
}

// body converts the writable attributes of an add.
func (c *Connector) body(t *task, attrs connector.Attributes) (map[string]any, error) {
	b := map[string]any{}
	for name, vs := range attrs {
		a, ok := t.t.Attr(name)
		if !ok {
			return nil, fmt.Errorf("%s has no attribute %q: %w", t.t.Name, name, connector.ErrInvalidObject)
		}
		if a.Name == "members" || a.Name == "owners" {
			continue
		}
		if a.Name == "manager" && t.t.Name == TypeUser {
			if ids := refs(vs); len(ids) > 0 {
				t.managerSet = ids[0]
			}
			continue
		}
		if a.ReadOnly {
			return nil, fmt.Errorf("%s is read-only in Graph: %w", name, connector.ErrInvalidObject)
		}
		v, err := toJSON(*a, vs)
		if err != nil {
			return nil, err
		}
		if v != nil {
			b[name] = v
		}
	}
	return b, nil
}

func (c *Connector) planAdd(t *task) error {
	b, err := c.body(t, t.ch.Attrs)
	if err != nil {
		return err
	}
	switch t.ch.Type {
	case TypeUser:
		upn, _ := b["userPrincipalName"].(string)
		if upn == "" {
			return fmt.Errorf("a user needs a userPrincipalName: %w", connector.ErrInvalidObject)
		}
		local, _, _ := strings.Cut(upn, "@")
		setDefault(b, "accountEnabled", true)
		setDefault(b, "displayName", local)
		setDefault(b, "mailNickname", nickname(local))
		// Graph requires a password on create; the synced user signs in
		// with the one password hash sync or writeback sets, so this
		// one is random and never kept.
		pw, err := randomPassword()
		if err != nil {
			return err
		}
		b["passwordProfile"] = map[string]any{"password": pw, "forceChangePasswordNextSignIn": false}
		t.start = func() []*op { return []*op{c.createUser(t, b)} }
	case TypeGroup:
		name, _ := b["displayName"].(string)
		if name == "" {
			return fmt.Errorf("a group needs a displayName: %w", connector.ErrInvalidObject)
		}
		anchor := ""
		if c.cfg.GroupAnchor != "" {
			anchor, _ = b[c.cfg.GroupAnchor].(string)
		}
		if anchor == "" {
			return groupAnchorError(c)
		}
		setDefault(b, "mailEnabled", false)
		setDefault(b, "securityEnabled", true)
		setDefault(b, "mailNickname", nickname(name))
		members := refs(t.ch.Attrs["members"])
		first := members[:min(len(members), maxBatch)]
		if len(first) > 0 {
			b["members@odata.bind"] = c.binds(first)
		}
		rest := members[len(first):]
		owners := refs(t.ch.Attrs["owners"])
		firstOwners := owners[:min(len(owners), maxBatch)]
		if len(firstOwners) > 0 {
			b["owners@odata.bind"] = c.binds(firstOwners)
		}
		restOwners := owners[len(firstOwners):]
		create := func() []*op {
			o := t.op(http.MethodPost, "/groups", b, func(_ int, rb map[string]any) []*op {
				id, _ := rb["id"].(string)
				if id == "" {
					t.fail(nil, fmt.Errorf("graph: created group without an id: %w", connector.ErrUnavailable))
					return nil
				}
				t.found(connector.Anchor(id))
				ops := append(c.memberOps(t, connector.Anchor(id), rest, nil), c.ownerOps(t, connector.Anchor(id), restOwners, nil)...)
				for _, o := range ops {
					o.free = true // the group exists: member changes in parallel
				}
				return ops
			})
			c.recoverable(t, o, "groups", b)
			return []*op{o}
		}
		// Hard match of groups: look for a group that carries the anchor
		// (also the group an earlier create made whose result the engine
		// did not record: a crash after Graph applied it).
		t.start = func() []*op {
			q := "/groups?$select=id&$filter=" + url.QueryEscape(c.cfg.GroupAnchor+" eq '"+odataString(anchor)+"'")
			return []*op{t.op(http.MethodGet, q, nil, func(_ int, rb map[string]any) []*op {
				id := firstID(rb)
				if id == "" {
					return create()
				}
				t.warn("hard-matched the existing cloud group %s by %s", id, c.cfg.GroupAnchor)
				t.found(connector.Anchor(id))
				delete(b, "members@odata.bind")
				delete(b, "owners@odata.bind")
				t.ownersAdd = owners
				return c.update(t, connector.Anchor(id), b, members, nil)
			})}
		}
	}
	return nil
}

// createUser posts a user; a uniqueness conflict is resolved by a match
// or a quarantine, as Entra Connect does.
func (c *Connector) createUser(t *task, b map[string]any) *op {
	o := &op{method: http.MethodPost, path: "/users", body: b, task: t}
	o.then = func(status int, rb map[string]any) []*op {
		if status == http.StatusCreated || status == http.StatusOK {
			id, _ := rb["id"].(string)
			if id == "" {
				t.fail(o, fmt.Errorf("graph: created user without an id: %w", connector.ErrUnavailable))
				return nil
			}
			t.found(connector.Anchor(id))
			return c.managerOps(t, connector.Anchor(id))
		}
		e := errorFromBody(o.method, o.path, status, rb)
		if e.Target == "" || t.conflicts >= 4 {
			t.fail(o, e)
			return nil
		}
		t.conflicts++
		if strings.EqualFold(e.Target, "onPremisesImmutableId") {
			return c.resolveConflict(t, b, e.Target)
		}
		return c.ownAnchorHolder(t, b, func() []*op { return c.resolveConflict(t, b, e.Target) })
	}
	c.recoverable(t, o, "users", b)
	return o
}

// resolveConflict handles a user create that collided on target.
func (c *Connector) resolveConflict(t *task, b map[string]any, target string) []*op {
	switch strings.ToLower(target) {
	case "onpremisesimmutableid":
		// Hard match: the cloud user already anchored to this source
		// object is taken over.
		imm, _ := b["onPremisesImmutableId"].(string)
		return []*op{c.findUser(t, "onPremisesImmutableId eq '"+odataString(imm)+"'", func(u map[string]any) []*op {
			if u == nil {
				t.fail(nil, fmt.Errorf("onPremisesImmutableId %q conflicts, but no user holds it: %w", imm, connector.ErrConstraint))
				return nil
			}
			id, _ := u["id"].(string)
			t.warn("hard-matched the existing cloud user %s by onPremisesImmutableId", id)
			return c.takeOver(t, id, b)
		})}
	case "userprincipalname":
		upn, _ := b["userPrincipalName"].(string)
		quarantine := func() []*op {
			return c.quarantineUPN(t, b, upn)
		}
		if !c.cfg.SoftMatch {
			return quarantine()
		}
		return []*op{c.findUser(t, "userPrincipalName eq '"+odataString(upn)+"'", func(u map[string]any) []*op {
			return c.softMatch(t, b, u, "userPrincipalName", quarantine)
		})}
	case "proxyaddresses", "mail":
		mail, _ := b["mail"].(string)
		quarantine := func() []*op {
			t.warn("mail %q is already a proxy address of another object: quarantined (created without it)", mail)
			delete(b, "mail")
			return []*op{c.createUser(t, b)}
		}
		if !c.cfg.SoftMatch || mail == "" {
			return quarantine()
		}
		return []*op{c.findUser(t, "proxyAddresses/any(p:p eq '"+odataString("SMTP:"+mail)+"')", func(u map[string]any) []*op {
			return c.softMatch(t, b, u, "primary SMTP address", quarantine)
		})}
	}
	t.fail(nil, fmt.Errorf("a value of %s is already taken: %w", target, connector.ErrDuplicateValue))
	return nil
}

// softMatch takes over u unless it is anchored already or holds a
// directory role; otherwise it quarantines.
func (c *Connector) softMatch(t *task, b map[string]any, u map[string]any, by string, quarantine func() []*op) []*op {
	if u == nil {
		return quarantine()
	}
	id, _ := u["id"].(string)
	if imm, _ := u["onPremisesImmutableId"].(string); imm != "" && imm != b["onPremisesImmutableId"] {
		t.warn("no soft match with %s: it is anchored to another source object", id)
		return quarantine()
	}
	path := "/users/" + url.PathEscape(id) + "/memberOf?$select=id"
	return []*op{t.op(http.MethodGet, path, nil, func(_ int, rb map[string]any) []*op {
		if holdsRole(rb) {
			t.warn("no soft match with %s: it holds a directory role", id)
			return quarantine()
		}
		t.warn("soft-matched the existing cloud user %s by %s", id, by)
		return c.takeOver(t, id, b)
	})}
}

func holdsRole(rb map[string]any) bool {
	vs, _ := rb["value"].([]any)
	for _, v := range vs {
		m, _ := v.(map[string]any)
		if typ, _ := m["@odata.type"].(string); typ == "#microsoft.graph.directoryRole" {
			return true
		}
	}
	return false
}

// takeOver patches the matched user with the source's values (its
// password stays: it is not the source's to set).
func (c *Connector) takeOver(t *task, id string, b map[string]any) []*op {
	patch := map[string]any{}
	for k, v := range b {
		if k != "passwordProfile" {
			patch[k] = v
		}
	}
	t.found(connector.Anchor(id))
	return c.update(t, connector.Anchor(id), patch, nil, nil)
}

// quarantineUPN creates the user with a userPrincipalName made unique the
// way Entra Connect does: the prefix, four random digits, the initial
// domain.
func (c *Connector) quarantineUPN(t *task, b map[string]any, upn string) []*op {
	withDomain := func(domain string) []*op {
		local, _, _ := strings.Cut(upn, "@")
		n, err := rand.Int(rand.Reader, big.NewInt(10000))
		if err != nil {
			t.fail(nil, err)
			return nil
		}
		q := fmt.Sprintf("%s%04d@%s", local, n.Int64(), domain)
		t.warn("userPrincipalName %q is taken by another object: quarantined as %q", upn, q)
		b["userPrincipalName"] = q
		return []*op{c.createUser(t, b)}
	}
	c.mu.Lock()
	domain := c.initialDomain
	c.mu.Unlock()
	if domain != "" {
		return withDomain(domain)
	}
	return []*op{t.op(http.MethodGet, "/domains?$select=id,isInitial", nil, func(_ int, rb map[string]any) []*op {
		vs, _ := rb["value"].([]any)
		for _, v := range vs {
			m, _ := v.(map[string]any)
			if ini, _ := m["isInitial"].(bool); ini {
				domain, _ = m["id"].(string)
			}
		}
		if domain == "" {
			t.fail(nil, fmt.Errorf("userPrincipalName %q is taken and the tenant's initial domain is unknown (set Config.InitialDomain): %w", upn, connector.ErrDuplicateValue))
			return nil
		}
		c.mu.Lock()
		c.initialDomain = domain
		c.mu.Unlock()
		return withDomain(domain)
	})}
}

// findUser looks a user up by an OData filter; fn gets nil when none.
func (c *Connector) findUser(t *task, filter string, fn func(map[string]any) []*op) *op {
	path := "/users?$select=id,userPrincipalName,onPremisesImmutableId&$filter=" + url.QueryEscape(filter)
	return t.op(http.MethodGet, path, nil, func(_ int, rb map[string]any) []*op {
		vs, _ := rb["value"].([]any)
		if len(vs) == 0 {
			return fn(nil)
		}
		m, _ := vs[0].(map[string]any)
		return fn(m)
	})
}

func (c *Connector) planUpdate(t *task) error {
	ch := t.ch
	patch := map[string]any{}
	var add, remove []connector.Anchor
	clearMembers := false
	var merge []connector.Mod // multi-valued strings changed by values: need the current set
	for _, m := range ch.Mods {
		a, ok := t.t.Attr(m.Name)
		if !ok {
			return fmt.Errorf("%s has no attribute %q: %w", t.t.Name, m.Name, connector.ErrInvalidObject)
		}
		if a.ReadOnly {
			return fmt.Errorf("%s is read-only in Graph: %w", m.Name, connector.ErrInvalidObject)
		}
		if a.Name == "owners" {
			switch {
			case m.Op == connector.ModRemove && len(m.Values) == 0:
				return fmt.Errorf("owners: removing every owner of a group is refused by Graph (a group keeps one): %w", connector.ErrConstraint)
			case m.Op == connector.ModRemove:
				t.ownersRemove = append(t.ownersRemove, refs(m.Values)...)
			default:
				t.ownersAdd = append(t.ownersAdd, refs(m.Values)...)
			}
			continue
		}
		if a.Name == "manager" && t.t.Name == TypeUser {
			ids := refs(m.Values)
			switch {
			case m.Op == connector.ModRemove:
				t.managerSet, t.managerClear = "", true
			case len(ids) > 0:
				t.managerSet, t.managerClear = ids[0], false
			default: // a replace with no value
				t.managerSet, t.managerClear = "", true
			}
			continue
		}
		if a.Name == "members" {
			switch {
			case m.Op == connector.ModRemove && len(m.Values) == 0:
				clearMembers = true
			case m.Op == connector.ModRemove:
				remove = append(remove, refs(m.Values)...)
			default: // add, or replace of a set the engine knew empty
				add = append(add, refs(m.Values)...)
			}
			continue
		}
		switch {
		case m.Op == connector.ModReplace || m.Op == connector.ModRemove && len(m.Values) == 0:
			v, err := toJSON(*a, m.Values)
			if err != nil {
				return err
			}
			if v == nil && a.Multi {
				v = []any{}
			}
			patch[a.Name] = v
		case a.Multi:
			merge = append(merge, m)
		default:
			return fmt.Errorf("%s: %v of a single-valued property: %w", m.Name, m.Op, connector.ErrInvalidObject)
		}
	}
	id := ch.Anchor
	t.start = func() []*op {
		if len(merge) > 0 {
			return c.mergeThenUpdate(t, id, patch, merge, add, remove)
		}
		if clearMembers {
			return c.clearThenUpdate(t, id, patch, add)
		}
		return c.update(t, id, patch, add, remove)
	}
	return nil
}

// update sends the PATCH of properties, then member additions (20 per
// PATCH) and removals, as one chain, and finishes the task.
func (c *Connector) update(t *task, id connector.Anchor, patch map[string]any, add, remove []connector.Anchor) []*op {
	path := "/" + collection[t.ch.Type] + "/" + url.PathEscape(string(id))
	var chain []*op
	if len(patch) > 0 {
		o := &op{method: http.MethodPatch, path: path, body: patch, task: t}
		o.then = func(status int, rb map[string]any) []*op {
			if status >= 200 && status < 300 {
				return nil
			}
			e := errorFromBody(o.method, path, status, rb)
			if e.Target == "" || t.conflicts >= 4 {
				t.fail(o, e)
				return nil
			}
			// Duplicate attribute resiliency on update: the conflicting
			// value is not written (the object keeps its current one).
			t.conflicts++
			var drop []string
			switch strings.ToLower(e.Target) {
			case "userprincipalname":
				drop = []string{"userPrincipalName"}
			case "proxyaddresses", "mail":
				drop = []string{"mail"}
			case "onpremisesimmutableid":
				drop = []string{"onPremisesImmutableId"}
			}
			p2 := map[string]any{}
			for k, v := range patch {
				if !contains(drop, k) {
					p2[k] = v
				}
			}
			for _, d := range drop {
				t.warn("%s %v is already held by another object: quarantined (not written)", d, jsonString(patch[d]))
			}
			if len(p2) == len(patch) {
				t.fail(o, e)
				return nil
			}
			return c.update(t, id, p2, add, remove)
		}
		chain = append(chain, o)
	}
	refOps := append(c.memberOps(t, id, add, remove), c.ownerOps(t, id, t.ownersAdd, t.ownersRemove)...)
	refOps = append(refOps, c.managerOps(t, id)...)
	t.ownersAdd, t.ownersRemove = nil, nil // sent once, even if update runs again
	if len(chain)+len(refOps) <= maxBatch {
		// One $batch, in order (dependsOn): when the object is gone, the
		// PATCH fails and the rest is not attempted.
		return append(chain, refOps...)
	}
	// Many member changes (a large group): each on its own, in parallel.
	for _, o := range refOps {
		o.free = true
	}
	return append(chain, refOps...)
}

// ownerOps add owners by $ref (one request each: Graph binds owners in a
// PATCH only at creation) and remove them; an owner already there, or
// already gone, is what was wanted.
func (c *Connector) ownerOps(t *task, group connector.Anchor, add, remove []connector.Anchor) []*op {
	gpath := "/groups/" + url.PathEscape(string(group)) + "/owners"
	var ops []*op
	for _, m := range add {
		ops = append(ops, t.refOp(http.MethodPost, gpath+"/$ref", map[string]any{"@odata.id": c.bindURL(m)}, alreadyMember))
	}
	for _, m := range remove {
		ops = append(ops, t.refOp(http.MethodDelete, gpath+"/"+url.PathEscape(string(m))+"/$ref", nil, notFound))
	}
	return ops
}

// managerOps set a user's manager (PUT /users/{id}/manager/$ref,
// https://learn.microsoft.com/graph/api/user-post-manager) or remove it
// (DELETE /users/{id}/manager/$ref, where no manager is what was wanted,
// https://learn.microsoft.com/graph/api/user-delete-manager), once.
func (c *Connector) managerOps(t *task, user connector.Anchor) []*op {
	path := "/users/" + url.PathEscape(string(user)) + "/manager/$ref"
	var ops []*op
	switch {
	case t.managerSet != "":
		ops = []*op{t.refOp(http.MethodPut, path, map[string]any{"@odata.id": c.bindURL(t.managerSet)}, func(*Error) bool { return false })}
	case t.managerClear:
		ops = []*op{t.refOp(http.MethodDelete, path, nil, notFound)}
	}
	t.managerSet, t.managerClear = "", false
	return ops
}

// memberOps are the requests that add and remove members.
func (c *Connector) memberOps(t *task, group connector.Anchor, add, remove []connector.Anchor) []*op {
	gpath := "/groups/" + url.PathEscape(string(group))
	var ops []*op
	for i := 0; i < len(add); i += maxBatch {
		chunk := add[i:min(i+maxBatch, len(add))]
		ops = append(ops, c.bindOp(t, gpath, chunk))
	}
	for _, m := range remove {
		// Not a member (any more) is what was wanted.
		ops = append(ops, t.refOp(http.MethodDelete, gpath+"/members/"+url.PathEscape(string(m))+"/$ref", nil, notFound))
	}
	return ops
}

// bindOp adds up to 20 members with one PATCH of members@odata.bind
// (https://learn.microsoft.com/graph/api/group-update). When one of them
// is a member already Graph refuses the whole request: they are then
// added one by one, an existing member counting as added.
func (c *Connector) bindOp(t *task, gpath string, chunk []connector.Anchor) *op {
	o := &op{method: http.MethodPatch, path: gpath, body: map[string]any{"members@odata.bind": c.binds(chunk)}, task: t}
	o.then = func(status int, rb map[string]any) []*op {
		if status >= 200 && status < 300 {
			return nil
		}
		e := errorFromBody(o.method, gpath, status, rb)
		if !alreadyMember(e) {
			t.fail(o, e)
			return nil
		}
		var one []*op
		for _, m := range chunk {
			one = append(one, t.refOp(http.MethodPost, gpath+"/members/$ref", map[string]any{"@odata.id": c.bindURL(m)}, alreadyMember))
		}
		return one
	}
	return o
}

func alreadyMember(e *Error) bool {
	return e.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Message), "already exist")
}

// mergeThenUpdate reads the current values of multi-valued properties
// changed by values (Graph replaces collections whole), then updates.
func (c *Connector) mergeThenUpdate(t *task, id connector.Anchor, patch map[string]any, merge []connector.Mod, add, remove []connector.Anchor) []*op {
	var names []string
	for _, m := range merge {
		names = append(names, m.Name)
	}
	path := "/" + collection[t.ch.Type] + "/" + url.PathEscape(string(id)) + "?$select=" + strings.Join(names, ",")
	return []*op{t.op(http.MethodGet, path, nil, func(_ int, rb map[string]any) []*op {
		cur := connector.Attributes{}
		for _, n := range names {
			a, _ := t.t.Attr(n)
			vs, err := fromJSON(*a, rb[n])
			if err != nil {
				t.fail(nil, fmt.Errorf("%s: %w", n, err))
				return nil
			}
			cur[n] = vs
		}
		cur.Apply(merge)
		for _, n := range names {
			a, _ := t.t.Attr(n)
			v, err := toJSON(*a, cur[n])
			if err != nil {
				t.fail(nil, err)
				return nil
			}
			if v == nil {
				v = []any{}
			}
			patch[n] = v
		}
		return c.update(t, id, patch, add, remove)
	})}
}

// clearThenUpdate removes every member (read page by page), then updates.
func (c *Connector) clearThenUpdate(t *task, id connector.Anchor, patch map[string]any, add []connector.Anchor) []*op {
	var current []connector.Anchor
	var page func(path string) []*op
	page = func(path string) []*op {
		return []*op{t.op(http.MethodGet, path, nil, func(_ int, rb map[string]any) []*op {
			vs, _ := rb["value"].([]any)
			for _, v := range vs {
				m, _ := v.(map[string]any)
				if mid, _ := m["id"].(string); mid != "" {
					current = append(current, connector.Anchor(mid))
				}
			}
			if next, _ := rb["@odata.nextLink"].(string); next != "" {
				if u, err := url.Parse(next); err == nil {
					rel := strings.TrimPrefix(u.Path, mustPath(c.cfg.BaseURL))
					return page(rel + "?" + u.RawQuery)
				}
			}
			var remove []connector.Anchor
			for _, m := range current {
				if !containsAnchor(add, m) {
					remove = append(remove, m)
				}
			}
			return c.update(t, id, patch, add, remove)
		})}
	}
	return page("/groups/" + url.PathEscape(string(id)) + "/members?$select=id&$top=999")
}

func mustPath(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return u.Path
}

func (c *Connector) binds(ids []connector.Anchor) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = c.bindURL(id)
	}
	return out
}

// refs returns the anchors of reference values (unresolved ones, without
// an anchor, are left for a later export).
func refs(vs []connector.Value) []connector.Anchor {
	var out []connector.Anchor
	for _, v := range vs {
		if a, _ := v.Ref(); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func firstID(rb map[string]any) string {
	vs, _ := rb["value"].([]any)
	if len(vs) == 0 {
		return ""
	}
	m, _ := vs[0].(map[string]any)
	id, _ := m["id"].(string)
	return id
}

func setDefault(b map[string]any, k string, v any) {
	if _, ok := b[k]; !ok {
		b[k] = v
	}
}

// nickname makes a mailNickname from a name: Graph allows ASCII letters,
// digits and a few marks, at most 64 characters.
var nickBad = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func nickname(s string) string {
	n := nickBad.ReplaceAllString(s, "")
	if len(n) > 64 {
		n = n[:64]
	}
	if n == "" {
		n = "group"
	}
	return n
}

// odataString escapes a string literal for $filter (” for ').
func odataString(s string) string { return strings.ReplaceAll(s, "'", "''") }

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func containsAnchor(as []connector.Anchor, a connector.Anchor) bool {
	for _, x := range as {
		if x == a {
			return true
		}
	}
	return false
}

const pwChars = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!@#$%^&*-_=+"

// randomPassword returns 32 random characters with every class Graph's
// complexity rule asks for.
func randomPassword() (string, error) {
	b := make([]byte, 32)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(pwChars))))
		if err != nil {
			return "", err
		}
		b[i] = pwChars[n.Int64()]
	}
	return "Aa1!" + string(b[4:]), nil
}
