//go:build unix

package crashtest

import (
	"fmt"
	"maps"
	"slices"

	"github.com/idbridge/idbridge/connector"
)

// The source data: nUsers people and nGroups groups, then a round of
// changes (titles, renames, deletes, adds) for the delta phase.
const (
	nUsers  = 180
	nGroups = 20
)

func userAnchor(i int) connector.Anchor  { return connector.Anchor(fmt.Sprintf("s-u%03d", i)) }
func groupAnchor(g int) connector.Anchor { return connector.Anchor(fmt.Sprintf("s-g%02d", g)) }

func sv(s string) []connector.Value { return []connector.Value{connector.StringValue(s)} }

func ref(a connector.Anchor) connector.Value { return connector.RefValue(a, "") }

func user(i int, cn, title string, manager int) connector.Object {
	attrs := connector.Attributes{
		"uid": sv(fmt.Sprintf("u%03d", i)), "cn": sv(cn),
		"mail": sv(fmt.Sprintf("U%03d@Example.com", i)), "title": sv(title),
	}
	if manager > 0 {
		attrs["manager"] = []connector.Value{ref(userAnchor(manager))}
	}
	return connector.Object{Anchor: userAnchor(i), Type: "user", DN: "cn=" + cn + ",ou=people,o=src", Attrs: attrs}
}

// managerOf gives most people a manager with a smaller number and every
// third one a manager further on, so that sync meets references to
// entries it has not projected yet.
func managerOf(i int) int {
	switch {
	case i%3 == 0:
		return (i+13)%nUsers + 1
	case i%10 != 1:
		return i/10*10 + 1
	}
	return 0
}

func group(g int, members []int) connector.Object {
	cn := fmt.Sprintf("Group %02d", g)
	vs := make([]connector.Value, len(members))
	for i, m := range members {
		vs[i] = ref(userAnchor(m))
	}
	return connector.Object{Anchor: groupAnchor(g), Type: "group", DN: "cn=" + cn + ",ou=groups,o=src", Attrs: connector.Attributes{"cn": sv(cn), "member": vs}}
}

// source is the source directory's content, kept by the test to write
// changes to the journal.
type source struct {
	users   map[int]connector.Object
	members map[int][]int
}

// writeInitial writes the initial content to an empty source journal.
func writeInitial(d *Dir) (*source, error) {
	s := &source{users: map[int]connector.Object{}, members: map[int][]int{}}
	for i := 1; i <= nUsers; i++ {
		u := user(i, fmt.Sprintf("User %03d", i), fmt.Sprintf("Title %d", i%7), managerOf(i))
		s.users[i] = u
		if err := d.Put(u); err != nil {
			return nil, err
		}
	}
	for g := 1; g <= nGroups; g++ {
		for i := g; i <= nUsers; i += nGroups {
			s.members[g] = append(s.members[g], i)
		}
		if err := d.Put(group(g, s.members[g])); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// writeChanges writes the delta phase's changes to the source journal: 20
// new titles, 4 renames, 8 deletes (with the groups and managers that
// named them), 10 new people in two groups.
func (s *source) writeChanges(d *Dir) error {
	put := func(o connector.Object) error { return d.Put(o) }
	for i := 1; i <= nUsers; i += 9 {
		u := s.users[i]
		u.Attrs = u.Attrs.Clone()
		u.Attrs["title"] = sv("Promoted")
		s.users[i] = u
		if err := put(u); err != nil {
			return err
		}
	}
	for _, i := range []int{5, 50, 95, 140} {
		u := s.users[i]
		cn := fmt.Sprintf("User %03d Renamed", i)
		u.Attrs = u.Attrs.Clone()
		u.Attrs["cn"] = sv(cn)
		u.DN = "cn=" + cn + ",ou=people,o=src"
		s.users[i] = u
		if err := put(u); err != nil {
			return err
		}
	}
	for _, gone := range []int{7, 33, 66, 99, 132, 165, 170, 177} {
		for _, g := range slices.Sorted(maps.Keys(s.members)) {
			ms := s.members[g]
			for j, m := range ms {
				if m == gone {
					s.members[g] = append(ms[:j:j], ms[j+1:]...)
					if err := put(group(g, s.members[g])); err != nil {
						return err
					}
					break
				}
			}
		}
		for _, i := range slices.Sorted(maps.Keys(s.users)) {
			u := s.users[i]
			if a, _ := firstRef(u.Attrs["manager"]); a == userAnchor(gone) {
				u.Attrs = u.Attrs.Clone()
				delete(u.Attrs, "manager")
				s.users[i] = u
				if err := put(u); err != nil {
					return err
				}
			}
		}
		delete(s.users, gone)
		if err := d.Delete(userAnchor(gone)); err != nil {
			return err
		}
	}
	for i := nUsers + 1; i <= nUsers+10; i++ {
		u := user(i, fmt.Sprintf("User %03d", i), "New", 1)
		s.users[i] = u
		if err := put(u); err != nil {
			return err
		}
	}
	for _, g := range []int{1, 2} {
		for i := nUsers + g; i <= nUsers+10; i += 2 {
			s.members[g] = append(s.members[g], i)
		}
		if err := put(group(g, s.members[g])); err != nil {
			return err
		}
	}
	return nil
}

func firstRef(vs []connector.Value) (connector.Anchor, string) {
	if len(vs) == 0 {
		return "", ""
	}
	return vs[0].Ref()
}
