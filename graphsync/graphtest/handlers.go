package graphtest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

func isWrite(method string) bool {
	return method == http.MethodPost || method == http.MethodPatch || method == http.MethodDelete || method == http.MethodPut
}

// route dispatches a request (path without /v1.0). Writes are charged to
// the write budget first.
func (s *Server) route(req *apiRequest) apiResponse {
	if isWrite(req.method) {
		if gerr := s.admitWrite(); gerr != nil {
			return s.errResponse(req, gerr)
		}
	}
	resp := s.dispatch(req)
	if isWrite(req.method) && resp.status < 300 {
		s.writes.Add(1)
	}
	return resp
}

func (s *Server) dispatch(req *apiRequest) apiResponse {
	segs := strings.Split(strings.Trim(req.path, "/"), "/")
	var k kind
	switch segs[0] {
	case "users":
		k = kindUser
	case "groups":
		k = kindGroup
	case "devices":
		k = kindDevice
	case "directoryRoles":
		k = kindRole
	case "directoryObjects":
		if len(segs) == 2 && req.method == http.MethodGet {
			return s.getObject(req, -1, segs[1])
		}
		return s.errResponse(req, segmentNotFound(req.path))
	case "domains":
		if len(segs) == 1 && req.method == http.MethodGet {
			return s.listDomains(req)
		}
		return s.errResponse(req, segmentNotFound(req.path))
	default:
		return s.errResponse(req, segmentNotFound(segs[0]))
	}
	if k == kindDevice && len(segs) >= 3 && segs[2] == "registeredOwners" {
		return s.registeredOwners(req, segs) // devices.go
	}
	readOnly := k == kindRole
	n := len(segs)
	switch {
	case n == 1:
		switch {
		case req.method == http.MethodGet:
			return s.list(req, k)
		case req.method == http.MethodPost && !readOnly:
			return s.create(req, k)
		}
	case n == 2 && segs[1] == "$count":
		if req.method == http.MethodGet {
			return s.count(req, k)
		}
	case n == 2 && (segs[1] == "delta" || segs[1] == "delta()") && k != kindRole:
		if req.method == http.MethodGet {
			return s.delta(req, k)
		}
	case n == 2:
		switch {
		case req.method == http.MethodGet:
			return s.getObject(req, k, segs[1])
		case req.method == http.MethodPatch && !readOnly:
			return s.patch(req, k, segs[1])
		case req.method == http.MethodDelete && !readOnly:
			return s.deleteObject(req, k, segs[1])
		}
	case (n == 3 || n == 4 && segs[3] == "$ref") && segs[2] == "manager" && k == kindUser:
		return s.managerRoute(req, segs[1], n == 4)
	case n == 3 && segs[2] == "memberOf":
		if req.method == http.MethodGet {
			return s.listMemberOf(req, k, segs[1])
		}
	case n == 3 && (segs[2] == "members" || (segs[2] == "owners" && k == kindGroup)):
		if req.method == http.MethodGet && (k == kindGroup || k == kindRole) {
			return s.listMembers(req, k, segs[1], segs[2])
		}
	case n == 4 && (segs[2] == "members" || segs[2] == "owners") && segs[3] == "$ref" && k == kindGroup:
		if req.method == http.MethodPost {
			return s.addRef(req, segs[1], segs[2])
		}
	case n == 5 && (segs[2] == "members" || segs[2] == "owners") && segs[4] == "$ref" && k == kindGroup:
		if req.method == http.MethodDelete {
			return s.removeRef(req, segs[1], segs[2], segs[3])
		}
	default:
		return s.errResponse(req, segmentNotFound(segs[n-1]))
	}
	return s.errResponse(req, methodNotAllowed())
}

func segmentNotFound(seg string) *graphError {
	return newError(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", seg)
}

func (s *Server) baseURL() string { return s.ts.URL + "/v1.0" }

func (s *Server) context(frag string) string { return s.baseURL() + "/$metadata#" + frag }

// listQuery holds the parsed OData system query options of a list.
type listQuery struct {
	sel    []string
	filter *filter
	top    int
	count  bool
	offset int
}

// parseListQuery validates the query options a directory list accepts.
// https://learn.microsoft.com/graph/query-parameters,
// https://learn.microsoft.com/graph/aad-advanced-queries
func (s *Server) parseListQuery(req *apiRequest, sc *schema) (*listQuery, *graphError) {
	q := &listQuery{top: s.opts.PageSize}
	for name := range req.query {
		switch name {
		case "$select", "$filter", "$top", "$count", "$skiptoken":
		case "$orderby", "$search", "$expand", "$skip":
			return nil, newError(http.StatusBadRequest, "Request_UnsupportedQuery", "graphtest does not support the query option '%s'.", name)
		}
	}
	var gerr *graphError
	if q.sel, gerr = parseSelect(sc, req.query.Get("$select"), false); gerr != nil {
		return nil, gerr
	}
	if f := req.query.Get("$filter"); f != "" {
		if q.filter, gerr = parseFilter(sc, f); gerr != nil {
			return nil, gerr
		}
	}
	if t := req.query.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > 999 {
			return nil, badRequest("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", t)
		}
		q.top = n
	}
	if c := req.query.Get("$count"); c != "" {
		q.count = strings.EqualFold(c, "true")
		// $count on directory objects is an advanced query: it needs
		// ConsistencyLevel: eventual.
		if q.count && !eventual(req) {
			return nil, badRequest("$count is not currently supported.")
		}
	}
	if q.filter.advanced() && !(q.count && eventual(req)) {
		return nil, newError(http.StatusBadRequest, "Request_UnsupportedQuery",
			"Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", q.filter.firstProp(), sc.kind.resourceName())
	}
	if st := req.query.Get("$skiptoken"); st != "" {
		off, ok := decodeSkip(st)
		if !ok {
			return nil, badRequest("Invalid $skiptoken.")
		}
		q.offset = off
	}
	return q, nil
}

func eventual(req *apiRequest) bool {
	return strings.EqualFold(req.header.Get("ConsistencyLevel"), "eventual")
}

// List skip tokens are opaque offsets into a stable creation order.
func encodeSkip(off int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("L1:" + strconv.Itoa(off)))
}

func decodeSkip(tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), "L1:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

// nextLink rebuilds the request URL with a new $skiptoken, keeping the
// other options (https://learn.microsoft.com/graph/paging).
func (s *Server) nextLink(req *apiRequest, skip string) string {
	q := url.Values{}
	for k, v := range req.query {
		if k != "$skiptoken" && k != "$deltatoken" {
			q[k] = v
		}
	}
	q.Set("$skiptoken", skip)
	return s.baseURL() + req.path + "?" + q.Encode()
}

// list answers GET /users, /groups, /devices, /directoryRoles.
// https://learn.microsoft.com/graph/api/user-list
func (s *Server) list(req *apiRequest, k kind) apiResponse {
	sc := s.st.schemas[k]
	q, gerr := s.parseListQuery(req, sc)
	if gerr != nil {
		return s.errResponse(req, gerr)
	}
	var page []any
	next, total := -1, 0
	s.mu.Lock()
	if prop, val, ok := q.filter.indexedEq(); ok && q.offset == 0 {
		if o := s.lookupIndexed(k, prop, val); o != nil && q.filter.match(o.props, o.id, nil) {
			page = append(page, s.st.render(o, q.sel))
		}
		total = len(page)
	} else {
		order := s.st.order[k]
		for i := q.offset; i < len(order); i++ {
			o := order[i]
			if o.deleted || (q.filter != nil && !q.filter.match(o.props, o.id, nil)) {
				continue
			}
			if len(page) == q.top {
				if next < 0 {
					next = i
				}
				if !q.count {
					break
				}
				total++
				continue
			}
			page = append(page, s.st.render(o, q.sel))
			total++
		}
		if q.count && q.offset > 0 {
			total = s.countLocked(k, q.filter)
		}
	}
	s.mu.Unlock()
	if page == nil {
		page = []any{}
	}
	body := map[string]any{"@odata.context": s.context(k.collection()), "value": page}
	if q.count {
		body["@odata.count"] = total
	}
	if next >= 0 {
		body["@odata.nextLink"] = s.nextLink(req, encodeSkip(next))
	}
	return apiResponse{status: http.StatusOK, body: body}
}

func (s *Server) lookupIndexed(k kind, prop, val string) *object {
	var id string
	switch prop {
	case "id":
		id = val
	case "userPrincipalName":
		id = s.st.upn[strings.ToLower(val)]
	case "mail":
		id = s.st.proxy[proxyKey(val)]
	case "onPremisesImmutableId":
		id = s.st.immutable[strings.ToLower(val)]
	}
	o := s.st.get(id)
	if o == nil || o.kind != k {
		return nil
	}
	return o
}

func (s *Server) countLocked(k kind, f *filter) int {
	n := 0
	for _, o := range s.st.order[k] {
		if !o.deleted && (f == nil || f.match(o.props, o.id, nil)) {
			n++
		}
	}
	return n
}

// count answers GET /users/$count, which needs ConsistencyLevel: eventual.
// https://learn.microsoft.com/graph/query-parameters#count-parameter
func (s *Server) count(req *apiRequest, k kind) apiResponse {
	if !eventual(req) {
		return s.errResponse(req, badRequest("Count is not currently supported."))
	}
	var f *filter
	if raw := req.query.Get("$filter"); raw != "" {
		var gerr *graphError
		if f, gerr = parseFilter(s.st.schemas[k], raw); gerr != nil {
			return s.errResponse(req, gerr)
		}
	}
	s.mu.Lock()
	n := s.countLocked(k, f)
	s.mu.Unlock()
	text := strconv.Itoa(n)
	return apiResponse{status: http.StatusOK, text: &text}
}

// getObject answers GET /{collection}/{id}; k < 0 means any kind
// (/directoryObjects/{id}).
func (s *Server) getObject(req *apiRequest, k kind, id string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	var o *object
	if k < 0 {
		o = s.st.get(id)
	} else {
		o = s.st.getKind(k, id)
	}
	if o == nil {
		return s.errResponse(req, notFound(id))
	}
	sel, gerr := parseSelect(s.st.schemas[o.kind], req.query.Get("$select"), false)
	if gerr != nil {
		return s.errResponse(req, gerr)
	}
	body := s.st.render(o, sel)
	body["@odata.context"] = s.context(o.kind.collection() + "/$entity")
	if k < 0 {
		body["@odata.type"] = o.kind.odataType()
	}
	return apiResponse{status: http.StatusOK, body: body}
}

// create answers POST /users, /groups, /devices with 201 and the object.
// https://learn.microsoft.com/graph/api/user-post-users
func (s *Server) create(req *apiRequest, k kind) apiResponse {
	body, gerr := decodeJSON(req.body)
	if gerr != nil {
		return s.errResponse(req, gerr)
	}
	s.mu.Lock()
	o, gerr := s.st.create(k, body)
	var out map[string]any
	if gerr == nil {
		sel := []string(nil)
		if k == kindUser {
			sel = s.st.schemas[k].defaultProps()
		}
		out = s.st.render(o, sel)
	}
	s.mu.Unlock()
	if gerr != nil {
		return s.errResponse(req, gerr)
	}
	out["@odata.context"] = s.context(k.collection() + "/$entity")
	return apiResponse{status: http.StatusCreated, body: out,
		header: map[string]string{"Location": s.baseURL() + "/directoryObjects/" + o.id + "/" + k.typeName()}}
}

// patch answers PATCH /{collection}/{id} with 204.
// https://learn.microsoft.com/graph/api/user-update
func (s *Server) patch(req *apiRequest, k kind, id string) apiResponse {
	body, gerr := decodeJSON(req.body)
	if gerr != nil {
		return s.errResponse(req, gerr)
	}
	s.mu.Lock()
	o := s.st.getKind(k, id)
	if o == nil {
		gerr = notFound(id)
	} else {
		gerr = s.st.update(o, body)
	}
	s.mu.Unlock()
	if gerr != nil {
		return s.errResponse(req, gerr)
	}
	return apiResponse{status: http.StatusNoContent}
}

// deleteObject answers DELETE /{collection}/{id} with 204.
// https://learn.microsoft.com/graph/api/user-delete
func (s *Server) deleteObject(req *apiRequest, k kind, id string) apiResponse {
	s.mu.Lock()
	o := s.st.getKind(k, id)
	if o != nil {
		s.st.remove(o)
	}
	s.mu.Unlock()
	if o == nil {
		return s.errResponse(req, notFound(id))
	}
	return apiResponse{status: http.StatusNoContent}
}

// pageOf renders one page of ids as typed directory objects.
func (s *Server) pageOf(req *apiRequest, ids []string, ctx string) apiResponse {
	top := s.opts.PageSize
	if t := req.query.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > 999 {
			return s.errResponse(req, badRequest("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", t))
		}
		top = n
	}
	off := 0
	if st := req.query.Get("$skiptoken"); st != "" {
		var ok bool
		if off, ok = decodeSkip(st); !ok {
			return s.errResponse(req, badRequest("Invalid $skiptoken."))
		}
	}
	rawSel := req.query.Get("$select")
	page := []any{}
	next := -1
	for i := off; i < len(ids); i++ {
		o := s.st.get(ids[i])
		if o == nil {
			continue
		}
		if len(page) == top {
			next = i
			break
		}
		var sel []string
		if rawSel != "" {
			// Mixed types: keep the selected names this type declares.
			for _, n := range strings.Split(rawSel, ",") {
				if _, ok := s.st.schemas[o.kind].lookup(strings.TrimSpace(n)); ok {
					sel = append(sel, strings.TrimSpace(n))
				}
			}
		}
		m := s.st.render(o, sel)
		m["@odata.type"] = o.kind.odataType()
		page = append(page, m)
	}
	body := map[string]any{"@odata.context": s.context(ctx), "value": page}
	if next >= 0 {
		body["@odata.nextLink"] = s.nextLink(req, encodeSkip(next))
	}
	return apiResponse{status: http.StatusOK, body: body}
}

// listMembers answers GET /groups/{id}/members|owners and
// /directoryRoles/{id}/members. https://learn.microsoft.com/graph/api/group-list-members
func (s *Server) listMembers(req *apiRequest, k kind, id, rel string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.getKind(k, id)
	if g == nil {
		return s.errResponse(req, notFound(id))
	}
	set := g.members
	if rel == "owners" {
		set = g.owners
	}
	return s.pageOf(req, set.ids, "directoryObjects")
}

// listMemberOf answers GET /users/{id}/memberOf: groups and directory
// roles. https://learn.microsoft.com/graph/api/user-list-memberof
func (s *Server) listMemberOf(req *apiRequest, k kind, id string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.getKind(k, id)
	if o == nil {
		return s.errResponse(req, notFound(id))
	}
	var ids []string
	if set := s.st.memberOf[o.id]; set != nil {
		ids = set.ids
	}
	return s.pageOf(req, ids, "directoryObjects")
}

// addRef answers POST /groups/{id}/members/$ref.
// https://learn.microsoft.com/graph/api/group-post-members
func (s *Server) addRef(req *apiRequest, id, rel string) apiResponse {
	body, gerr := decodeJSON(req.body)
	if gerr != nil {
		return s.errResponse(req, gerr)
	}
	ref, _ := body["@odata.id"].(string)
	if ref == "" {
		return s.errResponse(req, badRequest("Invalid object reference: '@odata.id' is required."))
	}
	mid := refID(ref)
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.getKind(kindGroup, id)
	if g == nil {
		return s.errResponse(req, notFound(id))
	}
	m := s.st.get(mid)
	if m == nil {
		return s.errResponse(req, notFound(mid))
	}
	var added bool
	if rel == "members" {
		added = s.st.addMember(g, m.id)
	} else {
		added = s.st.addOwner(g, m.id)
	}
	if !added {
		return s.errResponse(req, alreadyMember(rel))
	}
	return apiResponse{status: http.StatusNoContent}
}

// removeRef answers DELETE /groups/{id}/members/{memberId}/$ref.
// https://learn.microsoft.com/graph/api/group-delete-members
func (s *Server) removeRef(req *apiRequest, id, rel, mid string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.getKind(kindGroup, id)
	if g == nil {
		return s.errResponse(req, notFound(id))
	}
	var removed bool
	if rel == "members" {
		removed = s.st.removeMember(g, mid)
	} else {
		removed = g.owners.remove(strings.ToLower(mid))
	}
	if !removed {
		return s.errResponse(req, notFound(mid))
	}
	return apiResponse{status: http.StatusNoContent}
}

// listDomains answers GET /domains. https://learn.microsoft.com/graph/api/domain-list
func (s *Server) listDomains(req *apiRequest) apiResponse {
	s.mu.Lock()
	names := slices.Clone(s.st.domainList)
	initial := s.st.initialDomain
	s.mu.Unlock()
	var vals []any
	for i, d := range names {
		vals = append(vals, map[string]any{
			"id": d, "isVerified": true, "isInitial": strings.EqualFold(d, initial),
			"isDefault": i == 1 || len(names) == 1, "authenticationType": "Managed",
		})
	}
	return apiResponse{status: http.StatusOK, body: map[string]any{"@odata.context": s.context("domains"), "value": vals}}
}
