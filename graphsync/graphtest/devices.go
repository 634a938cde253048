package graphtest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Registered owners of devices
// (https://learn.microsoft.com/graph/api/device-list-registeredowners,
// https://learn.microsoft.com/graph/api/device-post-registeredowners,
// https://learn.microsoft.com/graph/api/device-delete-registeredowners):
//
//   - GET /devices/{id}/registeredOwners lists the owners as typed
//     directory objects ($select and $top apply as on group members);
//   - POST /devices/{id}/registeredOwners/$ref adds a user (204), a second
//     add of the same user is 400 as for group members;
//   - DELETE /devices/{id}/registeredOwners/{userId}/$ref removes one (204).
//
// "The registered owner is set at the time of registration. Currently,
// there can be only one owner": the emulator takes users only, and refuses
// a second owner with 400, as the documentation describes the directory.
// A change of owners is not a change of the device: a device delta round
// does not report it (Graph documents no registeredOwners in device delta).
// Device owners live in the device object's owners set.

// registeredOwners answers the /devices/{id}/registeredOwners routes.
func (s *Server) registeredOwners(req *apiRequest, segs []string) apiResponse {
	n := len(segs)
	switch {
	case n == 3 && req.method == http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		d := s.st.getKind(kindDevice, segs[1])
		if d == nil {
			return s.errResponse(req, notFound(segs[1]))
		}
		var ids []string
		if d.owners != nil {
			ids = d.owners.ids
		}
		return s.pageOf(req, ids, "directoryObjects")
	case n == 4 && segs[3] == "$ref" && req.method == http.MethodPost:
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
		if gerr := s.st.addRegisteredOwner(segs[1], refID(ref)); gerr != nil {
			return s.errResponse(req, gerr)
		}
		return apiResponse{status: http.StatusNoContent}
	case n == 5 && segs[4] == "$ref" && req.method == http.MethodDelete:
		s.mu.Lock()
		defer s.mu.Unlock()
		d := s.st.getKind(kindDevice, segs[1])
		if d == nil {
			return s.errResponse(req, notFound(segs[1]))
		}
		if d.owners == nil || !d.owners.remove(strings.ToLower(segs[3])) {
			return s.errResponse(req, notFound(segs[3]))
		}
		return apiResponse{status: http.StatusNoContent}
	case n > 5 || (n == 4 && segs[3] != "$ref") || (n == 5 && segs[4] != "$ref"):
		return s.errResponse(req, segmentNotFound(segs[n-1]))
	}
	return s.errResponse(req, methodNotAllowed())
}

func (st *store) addRegisteredOwner(deviceID, userID string) *graphError {
	d := st.getKind(kindDevice, deviceID)
	if d == nil {
		return notFound(deviceID)
	}
	u := st.getKind(kindUser, userID)
	if u == nil {
		return notFound(userID)
	}
	if d.owners == nil {
		d.owners = newIDSet()
	}
	if d.owners.has(u.id) {
		return alreadyMember("registeredOwners")
	}
	if len(d.owners.ids) > 0 {
		return badRequest("A device has only one registered owner: remove '%s' first.", d.owners.ids[0])
	}
	d.owners.add(u.id)
	return nil
}

// AddRegisteredOwner makes user userID the registered owner of device
// deviceID, as POST /devices/{id}/registeredOwners/$ref does.
func (s *Server) AddRegisteredOwner(deviceID, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gerr := s.st.addRegisteredOwner(deviceID, userID); gerr != nil {
		return fmt.Errorf("graphtest: registered owner of %s: %w", deviceID, gerr)
	}
	return nil
}

// RegisteredOwners returns the ids of the registered owners of a device.
func (s *Server) RegisteredOwners(deviceID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.st.getKind(kindDevice, deviceID)
	if d == nil || d.owners == nil {
		return nil
	}
	return slices.Clone(d.owners.ids)
}

// SetSyncProperties sets read-only on-premises properties of a user
// (onPremisesSecurityIdentifier, onPremisesSamAccountName,
// onPremisesDomainName, onPremisesDistinguishedName,
// onPremisesUserPrincipalName, onPremisesSyncEnabled), as Entra Connect's
// sync service does through its own provisioning endpoint, which Graph
// does not offer: Graph refuses them on PATCH. The change appears in user
// delta rounds. Other properties are refused.
func (s *Server) SetSyncProperties(userID string, props map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.getKind(kindUser, userID)
	if u == nil {
		return fmt.Errorf("graphtest: sync properties of %s: %w", userID, notFound(userID))
	}
	next := make(map[string]any, len(u.props)+len(props))
	for k, v := range u.props {
		next[k] = v
	}
	for name, v := range normalize(props) {
		switch name {
		case "onPremisesSecurityIdentifier", "onPremisesSamAccountName", "onPremisesDomainName",
			"onPremisesDistinguishedName", "onPremisesUserPrincipalName":
			if _, ok := v.(string); !ok && v != nil {
				return fmt.Errorf("graphtest: sync properties of %s: %w", userID, invalidValue(kindUser, name))
			}
		case "onPremisesSyncEnabled":
			if _, ok := v.(bool); !ok && v != nil {
				return fmt.Errorf("graphtest: sync properties of %s: %w", userID, invalidValue(kindUser, name))
			}
		default:
			return fmt.Errorf("graphtest: sync properties of %s: %q is not an on-premises property: %w", userID, name, badRequest("Property '%s' cannot be set.", name))
		}
		if v == nil {
			delete(next, name)
		} else {
			next[name] = v
		}
	}
	u.props = next // replaced, never mutated: rendered copies share values
	s.st.touch(u)
	return nil
}
