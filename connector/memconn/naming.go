package memconn

import "github.com/idbridge/idbridge/connector"

var _ connector.AddMatcher = (*Connector)(nil)

// SelfNaming makes the system name the objects it creates, as Microsoft
// Graph does (users/{id}): an exported Add's DN is ignored and the new
// object is named TYPEs/ANCHOR ("users/mem-7"), returned in its
// ExportResult, so that it cannot be recognised afterwards by a DN the
// engine chose. match gives, per
// object type, the attributes whose values identify an object the engine
// created (connector.AddMatcher); the engine adopts by them an Add whose
// result it did not record.
func (s *System) SelfNaming(match map[string][]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.naming = map[string][]string{}
	for t, attrs := range match {
		s.naming[t] = append([]string(nil), attrs...)
	}
}

// MatchAttributes implements connector.AddMatcher: the attributes given to
// SelfNaming for typ, nil when the system names objects by the DN asked
// for.
func (c *Connector) MatchAttributes(typ string) []string {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.naming[typ]
}
