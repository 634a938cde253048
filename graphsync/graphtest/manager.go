package graphtest

import (
	"fmt"
	"net/http"
	"strings"
)

// A user's manager, a single-valued navigation property
// (https://learn.microsoft.com/graph/api/resources/user#relationships):
//
//   - PUT /users/{id}/manager/$ref with {"@odata.id": ".../users/{managerId}"}
//     sets it, 204 No Content; the manager must be a user (or an
//     orgContact, which the emulator does not hold)
//     (https://learn.microsoft.com/graph/api/user-post-manager);
//   - DELETE /users/{id}/manager/$ref removes it, 204, or 404 when there is
//     none (https://learn.microsoft.com/graph/api/user-delete-manager);
//   - GET /users/{id}/manager returns the manager, or 404
//     (https://learn.microsoft.com/graph/api/user-list-manager);
//   - a user delta with manager in $select reports it as "manager@delta":
//     [{"@odata.type": "#microsoft.graph.user", "id": …}], in the first
//     round and whenever it changed; a removed manager as
//     [{"id": …, "@removed": {"reason": "deleted"}}]
//     (https://learn.microsoft.com/graph/api/user-delta, "manager@delta"
//     in its responses; https://learn.microsoft.com/graph/delta-query-overview);
//   - deleting the manager removes it from its reports, as a change of
//     each report.

// setManager makes m the manager of u (both live users) and reports
// whether it changed.
func (st *store) setManager(u, m *object) bool {
	if u.manager == m.id {
		return false
	}
	if u.manager != "" {
		st.reportsOf(u.manager).remove(u.id)
	}
	u.manager, u.managerRemoved = m.id, ""
	st.reportsOf(m.id).add(u.id)
	st.touch(u)
	u.managerSeq = u.lastSeq
	return true
}

// clearManager removes u's manager and reports whether it had one.
func (st *store) clearManager(u *object) bool {
	if u.manager == "" {
		return false
	}
	st.reportsOf(u.manager).remove(u.id)
	u.manager, u.managerRemoved = "", u.manager
	st.touch(u)
	u.managerSeq = u.lastSeq
	return true
}

func (st *store) reportsOf(id string) *idSet {
	if st.reports == nil {
		st.reports = map[string]*idSet{}
	}
	id = strings.ToLower(id)
	set := st.reports[id]
	if set == nil {
		set = newIDSet()
		st.reports[id] = set
	}
	return set
}

// managerGone clears the manager of the reports of a deleted user.
func (st *store) managerGone(o *object) {
	set := st.reports[strings.ToLower(o.id)]
	if set == nil {
		return
	}
	for _, id := range append([]string(nil), set.ids...) {
		if u := st.objects[id]; u != nil && !u.deleted {
			st.clearManager(u)
		}
	}
	delete(st.reports, strings.ToLower(o.id))
}

// managerDelta is the "manager@delta" of user u in a delta round after
// since (0: a first round), or nil when it has nothing to report.
func (st *store) managerDelta(u *object, since uint64) []any {
	if since > 0 && u.managerSeq <= since {
		return nil
	}
	switch {
	case u.manager != "":
		m := st.objects[strings.ToLower(u.manager)]
		if m == nil {
			return nil
		}
		return []any{map[string]any{"@odata.type": m.kind.odataType(), "id": m.id}}
	case since > 0 && u.managerRemoved != "":
		return []any{map[string]any{"id": u.managerRemoved, "@removed": map[string]any{"reason": "deleted"}}}
	}
	return nil
}

// managerRoute answers /users/{id}/manager and /users/{id}/manager/$ref.
func (s *Server) managerRoute(req *apiRequest, id string, ref bool) apiResponse {
	switch {
	case !ref && req.method == http.MethodGet:
		return s.getManager(req, id)
	case ref && req.method == http.MethodPut:
		return s.putManager(req, id)
	case ref && req.method == http.MethodDelete:
		return s.deleteManager(req, id)
	}
	return s.errResponse(req, methodNotAllowed())
}

func (s *Server) getManager(req *apiRequest, id string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.getKind(kindUser, id)
	if u == nil {
		return s.errResponse(req, notFound(id))
	}
	m := s.st.get(u.manager)
	if u.manager == "" || m == nil {
		return s.errResponse(req, notFound("manager"))
	}
	body := s.st.render(m, nil)
	body["@odata.context"] = s.context("directoryObjects/$entity")
	body["@odata.type"] = m.kind.odataType()
	return apiResponse{status: http.StatusOK, body: body}
}

func (s *Server) putManager(req *apiRequest, id string) apiResponse {
	body, gerr := decodeJSON(req.body)
	if gerr != nil {
		return s.errResponse(req, gerr)
	}
	ref, _ := body["@odata.id"].(string)
	if ref == "" {
		return s.errResponse(req, badRequest("Invalid object reference: '@odata.id' is required."))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.getKind(kindUser, id)
	if u == nil {
		return s.errResponse(req, notFound(id))
	}
	m := s.st.get(refID(ref))
	if m == nil {
		return s.errResponse(req, notFound(refID(ref)))
	}
	if m.kind != kindUser {
		return s.errResponse(req, badRequest("A manager must be a user or an organizational contact, not a %s.", m.kind.typeName()))
	}
	s.st.setManager(u, m)
	return apiResponse{status: http.StatusNoContent}
}

func (s *Server) deleteManager(req *apiRequest, id string) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.getKind(kindUser, id)
	if u == nil {
		return s.errResponse(req, notFound(id))
	}
	if !s.st.clearManager(u) {
		return s.errResponse(req, notFound("manager"))
	}
	return apiResponse{status: http.StatusNoContent}
}

// SetManager makes managerID the manager of user userID, or removes the
// manager when managerID is "": a change made in the tenant, out of band.
func (s *Server) SetManager(userID, managerID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.getKind(kindUser, userID)
	if u == nil {
		return fmt.Errorf("graphtest: manager of %s: %w", userID, notFound(userID))
	}
	if managerID == "" {
		s.st.clearManager(u)
		return nil
	}
	m := s.st.getKind(kindUser, managerID)
	if m == nil {
		return fmt.Errorf("graphtest: manager of %s: %w", userID, notFound(managerID))
	}
	s.st.setManager(u, m)
	return nil
}
