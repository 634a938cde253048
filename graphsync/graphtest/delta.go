package graphtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// deltaToken is the state carried by $skiptoken/$deltatoken of delta
// queries. It is self-contained (JSON, base64url, HMAC-signed) so a
// client may persist it; Server.ExpireDeltaTokens bumps the epoch to
// invalidate every token issued before.
type deltaToken struct {
	Kind   kind   `json:"k"`
	Since  uint64 `json:"s"`            // changes after this sequence number are reported
	Cursor uint64 `json:"c"`            // log position already reported in this round
	Start  uint64 `json:"st,omitempty"` // sequence number when the first round began
	Epoch  uint64 `json:"e"`
	Select string `json:"sel,omitempty"`
}

func (s *Server) encodeToken(t deltaToken) string {
	b, _ := json.Marshal(t)
	mac := hmac.New(sha256.New, s.secret)
	mac.Write(b)
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

func (s *Server) decodeToken(raw string) (deltaToken, bool) {
	var t deltaToken
	payload, sig, ok := strings.Cut(raw, ".")
	if !ok {
		return t, false
	}
	b, err1 := base64.RawURLEncoding.DecodeString(payload)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return t, false
	}
	mac := hmac.New(sha256.New, s.secret)
	mac.Write(b)
	if !hmac.Equal(got, mac.Sum(nil)[:16]) {
		return t, false
	}
	return t, json.Unmarshal(b, &t) == nil
}

// ExpireDeltaTokens invalidates every delta $skiptoken and $deltatoken
// issued so far. Using one then fails with 410 Gone, as Graph answers when
// the sync state is lost (https://learn.microsoft.com/graph/delta-query-overview).
// List $skiptokens are not affected.
func (s *Server) ExpireDeltaTokens() {
	s.mu.Lock()
	s.epoch++
	s.mu.Unlock()
}

// delta answers GET /users/delta (and groups, devices).
//
// Semantics (https://learn.microsoft.com/graph/delta-query-overview,
// https://learn.microsoft.com/graph/api/user-delta,
// https://learn.microsoft.com/graph/api/group-delta):
//   - the first round returns every live object, in pages linked by
//     @odata.nextLink; the last page carries @odata.deltaLink;
//   - later rounds return the objects changed since, each once, with all
//     selected properties (Graph may return only the changed ones for
//     users; returning all is allowed by the docs);
//   - a deleted object is {"id":…,"@removed":{"reason":"deleted"}};
//   - a group includes "members@delta" when members is selected (or
//     nothing is): all members in the first round, then only the member
//     changes since the token, removals marked @removed reason "deleted";
//   - tokens older than ExpireDeltaTokens fail with 410 Gone, code
//     resyncRequired and a Location header to restart from scratch.
func (s *Server) delta(req *apiRequest, k kind) apiResponse {
	sc := s.st.schemas[k]
	var tok deltaToken
	hasTok := false
	for _, name := range []string{"$deltatoken", "$skiptoken"} {
		if raw := req.query.Get(name); raw != "" {
			var ok bool
			if tok, ok = s.decodeToken(raw); !ok || tok.Kind != k {
				return s.errResponse(req, badRequest("Badly formed token."))
			}
			hasTok = true
		}
	}
	rawSel := req.query.Get("$select")
	if hasTok {
		rawSel = tok.Select
	}
	// manager is a navigation property that user delta tracks when it is
	// selected (manager.go).
	withManager, tokSel := false, rawSel
	if k == kindUser {
		names := strings.Split(rawSel, ",")
		withManager = slices.ContainsFunc(names, func(n string) bool { return strings.TrimSpace(n) == "manager" })
		if withManager {
			names = slices.DeleteFunc(names, func(n string) bool { return strings.TrimSpace(n) == "manager" })
			rawSel = strings.Join(names, ",")
			if rawSel == "" {
				rawSel = "id"
			}
		}
	}
	sel, gerr := parseSelect(sc, rawSel, k == kindGroup)
	if gerr != nil {
		return s.errResponse(req, gerr)
	}
	withMembers := k == kindGroup && (sel == nil || slices.Contains(sel, "members"))
	for name := range req.query {
		switch name {
		case "$filter", "$orderby", "$search", "$expand", "$skip", "$count":
			return s.errResponse(req, newError(http.StatusBadRequest, "Request_UnsupportedQuery",
				"graphtest does not support the query option '%s' on delta queries.", name))
		}
	}
	pageSize := s.opts.PageSize
	if n, ok := maxPageSize(req.header.Get("Prefer")); ok {
		pageSize = n
	}
	if t := req.query.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > 999 {
			return s.errResponse(req, badRequest("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", t))
		}
		pageSize = n
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if hasTok && tok.Epoch != s.epoch {
		loc := s.baseURL() + "/" + k.collection() + "/delta()"
		if tokSel != "" {
			loc += "?" + url.Values{"$select": {tokSel}}.Encode()
		}
		e := newError(http.StatusGone, "resyncRequired",
			"Resync required. Replace any local cached copy of the collection with the results of a new delta query without a token.")
		e.header = map[string]string{"Location": loc}
		return s.errResponse(req, e)
	}
	if !hasTok {
		tok = deltaToken{Kind: k, Epoch: s.epoch, Select: tokSel, Start: s.st.seq}
	}
	log := s.st.log[k]
	emittable := func(e logEntry) (*object, bool) {
		o := s.st.objects[e.id]
		if o.lastSeq != e.seq {
			return nil, false // reported at its last change
		}
		if o.deleted && (o.createdSeq > tok.Cursor || tok.Since == 0 && o.lastSeq <= tok.Start) {
			// Created after everything this client has been sent, or
			// deleted before its first round began: never seen,
			// nothing to remove. Other deletions are reported even
			// if the client may have missed the object, as Graph does.
			return nil, false
		}
		return o, true
	}
	i := sort.Search(len(log), func(i int) bool { return log[i].seq > tok.Cursor })
	page := []any{}
	var last uint64
	for ; i < len(log) && len(page) < pageSize; i++ {
		o, ok := emittable(log[i])
		if !ok {
			continue
		}
		last = log[i].seq
		if o.deleted {
			page = append(page, map[string]any{"id": o.id, "@removed": map[string]any{"reason": "deleted"}})
			continue
		}
		m := s.st.render(o, sel)
		if withManager {
			if md := s.st.managerDelta(o, tok.Since); md != nil {
				m["manager@delta"] = md
			}
		}
		if withMembers {
			if md := s.memberDelta(o, tok.Since); len(md) > 0 {
				m["members@delta"] = md
			}
		}
		page = append(page, m)
	}
	more := false
	for ; i < len(log); i++ {
		if _, ok := emittable(log[i]); ok {
			more = true
			break
		}
	}
	body := map[string]any{"@odata.context": s.context(k.collection()), "value": page}
	if more {
		next := tok
		next.Cursor = last
		link := s.baseURL() + req.path + "?$skiptoken=" + s.encodeToken(next)
		if t := req.query.Get("$top"); t != "" {
			link += "&$top=" + t
		}
		body["@odata.nextLink"] = link
	} else {
		next := tok
		next.Since, next.Cursor = s.st.seq, s.st.seq
		body["@odata.deltaLink"] = s.baseURL() + req.path + "?$deltatoken=" + s.encodeToken(next)
	}
	return apiResponse{status: http.StatusOK, body: body}
}

// memberDelta lists member changes of group g after since (all current
// members when since is 0), each member once with its latest state.
func (s *Server) memberDelta(g *object, since uint64) []any {
	var out []any
	if since == 0 {
		for _, id := range g.members.ids {
			out = append(out, map[string]any{"@odata.type": s.st.objects[id].kind.odataType(), "id": id})
		}
		return out
	}
	ml := g.memberLog
	start := sort.Search(len(ml), func(i int) bool { return ml[i].seq > since })
	lastIdx := map[string]int{}
	for i := start; i < len(ml); i++ {
		lastIdx[ml[i].id] = i
	}
	for i := start; i < len(ml); i++ {
		c := ml[i]
		if lastIdx[c.id] != i {
			continue
		}
		m := map[string]any{"@odata.type": s.st.objects[c.id].kind.odataType(), "id": c.id}
		if c.removed {
			m["@removed"] = map[string]any{"reason": "deleted"}
		}
		out = append(out, m)
	}
	return out
}

// maxPageSize parses Prefer: odata.maxpagesize=N
// (https://learn.microsoft.com/graph/delta-query-overview#optional-request-header).
func maxPageSize(prefer string) (int, bool) {
	for _, p := range strings.Split(prefer, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(p), "odata.maxpagesize="); ok {
			n, err := strconv.Atoi(v)
			if err == nil && n > 0 {
				return min(n, 999), true
			}
		}
	}
	return 0, false
}
