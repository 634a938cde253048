package graphtest

import (
	"fmt"
	"slices"
	"strings"
)

// The methods in this file read and change the tenant directly, for
// seeding and assertions. They apply the same validation and uniqueness
// rules as the HTTP API and their changes appear in delta queries, but
// they are not logged, not throttled and not charged to the write budget.

// CreateUser creates a user from Graph JSON properties (as POST /users
// takes them, e.g. "passwordProfile": map[string]any{"password": "x"}).
// Values must be JSON-shaped: string, bool, float64, []any, map[string]any.
func (s *Server) CreateUser(props map[string]any) (string, error) {
	return s.createDirect(kindUser, props)
}

// CreateGroup creates a group; "members@odata.bind" and "owners@odata.bind"
// are accepted as in POST /groups.
func (s *Server) CreateGroup(props map[string]any) (string, error) {
	return s.createDirect(kindGroup, props)
}

// CreateDevice creates a device. Unlike POST /devices, only displayName is
// required, to keep seeding short.
func (s *Server) CreateDevice(props map[string]any) (string, error) {
	if v, _ := props["displayName"].(string); v == "" {
		return "", fmt.Errorf("graphtest: create device: %w", invalidValue(kindDevice, "displayName"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wr, gerr := s.st.validate(kindDevice, normalize(props), false)
	if gerr == nil {
		var o *object
		if o, gerr = s.st.createValidated(kindDevice, wr); gerr == nil {
			return o.id, nil
		}
	}
	return "", fmt.Errorf("graphtest: create device: %w", gerr)
}

func (s *Server) createDirect(k kind, props map[string]any) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, gerr := s.st.create(k, normalize(props))
	if gerr != nil {
		return "", fmt.Errorf("graphtest: create %s: %w", strings.ToLower(k.resourceName()), gerr)
	}
	return o.id, nil
}

// normalize converts Go values a caller may pass ([]string, int) into the
// JSON shapes the store holds.
func normalize(props map[string]any) map[string]any {
	out := make(map[string]any, len(props))
	for k, v := range props {
		out[k] = normalizeValue(v)
	}
	return out
}

func normalizeValue(v any) any {
	switch x := v.(type) {
	case []string:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = e
		}
		return a
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = e
		}
		return m
	case map[string]any:
		return normalize(x)
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = normalizeValue(e)
		}
		return a
	}
	return v
}

// Update applies props to the object with id as PATCH does; a nil value
// clears a property.
func (s *Server) Update(id string, props map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.get(id)
	if o == nil || o.kind == kindRole {
		return fmt.Errorf("graphtest: update %s: %w", id, notFound(id))
	}
	if gerr := s.st.update(o, normalize(props)); gerr != nil {
		return fmt.Errorf("graphtest: update %s: %w", id, gerr)
	}
	return nil
}

// Delete deletes the object with id; delta queries report it removed.
func (s *Server) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.get(id)
	if o == nil || o.kind == kindRole {
		return fmt.Errorf("graphtest: delete %s: %w", id, notFound(id))
	}
	s.st.remove(o)
	return nil
}

// AddMember adds memberID to group groupID.
func (s *Server) AddMember(groupID, memberID string) error {
	return s.membership(groupID, memberID, "members", true)
}

// RemoveMember removes memberID from group groupID.
func (s *Server) RemoveMember(groupID, memberID string) error {
	return s.membership(groupID, memberID, "members", false)
}

// AddOwner adds ownerID to the owners of group groupID.
func (s *Server) AddOwner(groupID, ownerID string) error {
	return s.membership(groupID, ownerID, "owners", true)
}

func (s *Server) membership(groupID, memberID, rel string, add bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.getKind(kindGroup, groupID)
	if g == nil {
		return fmt.Errorf("graphtest: %s of %s: %w", rel, groupID, notFound(groupID))
	}
	m := s.st.get(memberID)
	if m == nil {
		return fmt.Errorf("graphtest: %s of %s: %w", rel, groupID, notFound(memberID))
	}
	var ok bool
	switch {
	case add && rel == "members":
		ok = s.st.addMember(g, m.id)
	case add:
		ok = s.st.addOwner(g, m.id)
	default:
		ok = s.st.removeMember(g, m.id)
	}
	if !ok {
		if add {
			return fmt.Errorf("graphtest: %s of %s: %w: %w", rel, groupID, ErrConflict, alreadyMember(rel))
		}
		return fmt.Errorf("graphtest: %s of %s: %w", rel, groupID, notFound(memberID))
	}
	return nil
}

// AssignRole makes user userID a member of the directory role with the
// given display name (e.g. "Global Administrator"), activating the role
// if needed. The role then appears in GET /directoryRoles and the user's
// memberOf.
func (s *Server) AssignRole(userID, roleDisplayName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.getKind(kindUser, userID)
	if u == nil {
		return fmt.Errorf("graphtest: assign role: %w", notFound(userID))
	}
	r := s.st.role(roleDisplayName)
	if !s.st.addMember(r, u.id) {
		return fmt.Errorf("graphtest: assign role %q: %w: %w", roleDisplayName, ErrConflict, alreadyMember("members"))
	}
	return nil
}

// Object returns a deep copy of the object's properties including "id";
// groups and roles also have "members" and "owners" ([]string ids).
func (s *Server) Object(id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.get(id)
	if o == nil {
		return nil, false
	}
	return s.st.snapshot(o), true
}

// Users returns copies of all users, sorted by id.
func (s *Server) Users() []map[string]any { return s.all(kindUser) }

// Groups returns copies of all groups, sorted by id.
func (s *Server) Groups() []map[string]any { return s.all(kindGroup) }

// Devices returns copies of all devices, sorted by id.
func (s *Server) Devices() []map[string]any { return s.all(kindDevice) }

func (s *Server) all(k kind) []map[string]any {
	s.mu.Lock()
	var out []map[string]any
	for _, o := range s.st.order[k] {
		if !o.deleted {
			out = append(out, s.st.snapshot(o))
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b map[string]any) int { return strings.Compare(a["id"].(string), b["id"].(string)) })
	return out
}
