package idbridge

import (
	"github.com/idbridge/idbridge/connector"
)

// References take three forms:
//   - in a connector space's imported Attrs, the anchor (and DN) of the
//     referenced object of the same connector space, as the connector
//     reported it; DN-only when the target was not yet known;
//   - in the metaverse, the referenced entry's ID, as the anchor;
//   - in a pending export's desired Attrs, the CSObject ID of the target
//     object in the same connector space, as the anchor, because the
//     target may not have an anchor yet (provisioned, not yet exported).

// resolveDesired turns a pending export's desired attributes into the
// connected system's terms: CSObject IDs in references become the target
// objects' anchors and DNs. unresolved reports references to objects that
// have neither yet (they are left out).
func resolveDesired(w *work, connName string, desired connector.Attributes) (connector.Attributes, bool, error) {
	out := make(connector.Attributes, len(desired))
	unresolved := false
	for name, vs := range desired {
		if len(vs) == 0 || vs[0].Type() != connector.Reference {
			out[name] = vs
			continue
		}
		rs := make([]connector.Value, 0, len(vs))
		for _, v := range vs {
			id, _ := v.Ref()
			ref, ok, err := w.objectRef(connName, string(id))
			if err != nil {
				return nil, false, err
			}
			if a, dn := ref.Ref(); !ok || (a == "" && dn == "") {
				unresolved = true
				continue
			}
			rs = append(rs, ref)
		}
		out[name] = rs
	}
	return out, unresolved, nil
}

// attrsMatch reports whether have holds, for every attribute of want, the
// same values (references compared by anchor, else by DN).
func attrsMatch(have, want connector.Attributes) bool {
	for name, vs := range want {
		if !valuesMatch(have[name], vs) {
			return false
		}
	}
	return true
}

// valuesMatch compares value sets; references match by anchor when both
// have one, else by DN.
func valuesMatch(a, b []connector.Value) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	if a[0].Type() != connector.Reference || b[0].Type() != connector.Reference {
		return connector.SameValues(a, b)
	}
	anchors := make(map[connector.Anchor]int, len(a))
	dns := make(map[string]int, len(a))
	for _, v := range a {
		an, dn := v.Ref()
		anchors[an]++
		dns[connector.FoldDN(dn)]++
	}
	for _, v := range b {
		an, dn := v.Ref()
		switch {
		case an != "" && anchors[an] > 0:
			anchors[an]--
		case dn != "" && dns[connector.FoldDN(dn)] > 0:
			dns[connector.FoldDN(dn)]--
		default:
			return false
		}
	}
	return true
}

// refDelta returns the references of want missing from have and of have
// missing from want, matching as valuesMatch does.
func refDelta(have, want []connector.Value) (add, remove []connector.Value) {
	match := func(set []connector.Value) (map[connector.Anchor]bool, map[string]bool) {
		as, ds := map[connector.Anchor]bool{}, map[string]bool{}
		for _, v := range set {
			a, dn := v.Ref()
			if a != "" {
				as[a] = true
			}
			if dn != "" {
				ds[connector.FoldDN(dn)] = true
			}
		}
		return as, ds
	}
	in := func(v connector.Value, as map[connector.Anchor]bool, ds map[string]bool) bool {
		a, dn := v.Ref()
		return (a != "" && as[a]) || (dn != "" && ds[connector.FoldDN(dn)])
	}
	ha, hd := match(have)
	wa, wd := match(want)
	for _, v := range want {
		if !in(v, ha, hd) {
			add = append(add, v)
		}
	}
	for _, v := range have {
		if !in(v, wa, wd) {
			remove = append(remove, v)
		}
	}
	return add, remove
}
