package connector

import (
	"maps"
	"slices"
	"strings"
)

// Anchor is the immutable, opaque identifier of an object in its connected
// system: objectGUID (as a GUID string) in Active Directory, entryUUID in
// OpenLDAP, the object id in Microsoft Entra ID. Anchors never change when an
// object is renamed or moved; DNs do.
type Anchor string

// Attributes maps attribute names to their values. A missing name and a name
// with no values both mean "no value". Names are those of the connector's
// Schema; connectors canonicalise names read from the wire (LDAP names are
// case-insensitive) to the schema's spelling.
type Attributes map[string][]Value

// Get returns the values of name (nil when absent).
func (a Attributes) Get(name string) []Value { return a[name] }

// First returns the first value of name and whether there was one.
func (a Attributes) First(name string) (Value, bool) {
	if vs := a[name]; len(vs) > 0 {
		return vs[0], true
	}
	return Value{}, false
}

// Set replaces the values of name; no values deletes it.
func (a Attributes) Set(name string, values ...Value) {
	if len(values) == 0 {
		delete(a, name)
		return
	}
	a[name] = values
}

// Clone returns a copy whose value slices can be modified independently.
func (a Attributes) Clone() Attributes {
	if a == nil {
		return nil
	}
	// One backing array for all values: two allocations, not one per
	// attribute. Each slice's capacity is capped so appends never spill
	// into a neighbour.
	n := 0
	for _, v := range a {
		n += len(v)
	}
	buf := make([]Value, n)
	c := make(Attributes, len(a))
	for k, v := range a {
		m := copy(buf, v)
		c[k] = buf[:m:m]
		buf = buf[m:]
	}
	return c
}

// Names returns the attribute names with at least one value, sorted.
func (a Attributes) Names() []string {
	names := make([]string, 0, len(a))
	for k, v := range a {
		if len(v) > 0 {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}

// Equal reports whether a and b hold the same values for every name, ignoring
// the order of values and names with no values.
func (a Attributes) Equal(b Attributes) bool {
	for k, v := range a {
		if !SameValues(v, b[k]) {
			return false
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok && len(v) > 0 {
			return false
		}
	}
	return true
}

// Apply applies modifications in order. Add appends values not yet present,
// Remove drops the listed values (all values when none are listed), Replace
// sets the values.
func (a Attributes) Apply(mods []Mod) {
	for _, m := range mods {
		switch m.Op {
		case ModReplace:
			a.Set(m.Name, slices.Clone(m.Values)...)
		case ModAdd:
			cur := a[m.Name]
			for _, v := range m.Values {
				if !holdsValue(cur, v) {
					cur = append(cur, v)
				}
			}
			a.Set(m.Name, cur...)
		case ModRemove:
			if len(m.Values) == 0 {
				delete(a, m.Name)
				continue
			}
			cur := slices.DeleteFunc(slices.Clone(a[m.Name]), func(v Value) bool { return holdsValue(m.Values, v) })
			a.Set(m.Name, cur...)
		}
	}
}

// Diff returns the modifications that turn from into to, limited to the
// attribute names in names (all names of both when names is nil). Multi-valued
// attributes (per multi) get Add and Remove of the differing values, so that a
// one-member change to a large group is a one-value modification; others get
// Replace. The result is sorted by attribute name.
func Diff(from, to Attributes, names []string, multi func(name string) bool) []Mod {
	if names == nil {
		set := make(map[string]struct{}, len(from)+len(to))
		for k := range from {
			set[k] = struct{}{}
		}
		for k := range to {
			set[k] = struct{}{}
		}
		names = slices.Sorted(maps.Keys(set))
	} else {
		names = slices.Sorted(slices.Values(names))
	}
	var mods []Mod
	for _, n := range names {
		old, cur := from[n], to[n]
		if SameValues(old, cur) {
			continue
		}
		if multi != nil && multi(n) && len(old) > 0 && len(cur) > 0 {
			add, remove := valueDelta(old, cur)
			if len(add) > 0 {
				mods = append(mods, Mod{Name: n, Op: ModAdd, Values: add})
			}
			if len(remove) > 0 {
				mods = append(mods, Mod{Name: n, Op: ModRemove, Values: remove})
			}
			continue
		}
		if len(cur) == 0 {
			mods = append(mods, Mod{Name: n, Op: ModRemove})
			continue
		}
		mods = append(mods, Mod{Name: n, Op: ModReplace, Values: slices.Clone(cur)})
	}
	return mods
}

// valueDelta returns the values of cur missing from old, and of old missing
// from cur, in their original order.
func valueDelta(old, cur []Value) (add, remove []Value) {
	oldSet := make(map[Value]struct{}, len(old))
	for _, v := range old {
		oldSet[v] = struct{}{}
	}
	curSet := make(map[Value]struct{}, len(cur))
	for _, v := range cur {
		curSet[v] = struct{}{}
		if _, ok := oldSet[v]; !ok {
			add = append(add, v)
		}
	}
	for _, v := range old {
		if _, ok := curSet[v]; !ok {
			remove = append(remove, v)
		}
	}
	return add, remove
}

// SameValues reports whether a and b hold the same values as sets.
func SameValues(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 1 {
		return a[0] == b[0]
	}
	if len(a) <= 8 {
		for _, v := range a {
			if !containsValue(b, v) {
				return false
			}
		}
		for _, v := range b {
			if !containsValue(a, v) {
				return false
			}
		}
		return true
	}
	set := make(map[Value]int, len(a))
	for _, v := range a {
		set[v]++
	}
	for _, v := range b {
		if set[v] == 0 {
			return false
		}
		set[v]--
	}
	return true
}

// holdsValue is containsValue for modifications: a reference matches as
// SameReference says (by anchor when both have one, else by DN), so that a
// member removed by DN finds the stored value, which carries an anchor too.
func holdsValue(vs []Value, v Value) bool {
	for _, w := range vs {
		if w == v || v.typ == Reference && SameReference(w, v) {
			return true
		}
	}
	return false
}

func containsValue(vs []Value, v Value) bool {
	for _, w := range vs {
		if w == v {
			return true
		}
	}
	return false
}

// FoldDN returns the form of a DN used to compare DNs: lower case with the
// spaces around RDN separators removed. It does not unescape values.
func FoldDN(dn string) string {
	if dn == "" || isFolded(dn) {
		return dn
	}
	var b strings.Builder
	b.Grow(len(dn))
	parts := strings.Split(dn, ",")
	for i := 0; i < len(parts); i++ {
		p := parts[i]
		// Keep escaped commas ("\,") inside their RDN.
		for strings.HasSuffix(p, `\`) && !strings.HasSuffix(p, `\\`) && i+1 < len(parts) {
			i++
			p += "," + parts[i]
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		p = strings.TrimSpace(p)
		if k, v, ok := strings.Cut(p, "="); ok {
			p = strings.TrimSpace(k) + "=" + strings.TrimSpace(v)
		}
		b.WriteString(strings.ToLower(p))
	}
	return b.String()
}

// isFolded reports whether dn is already in folded form: no upper case and
// no space next to a separator.
func isFolded(dn string) bool {
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 0x80, c == '\\':
			return false
		case c == ' ' && (i == 0 || i == len(dn)-1 || dn[i-1] == ',' || dn[i-1] == '=' || dn[i+1] == ',' || dn[i+1] == '='):
			return false
		}
	}
	return true
}
