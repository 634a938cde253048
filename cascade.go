package idbridge

import (
	"strings"

	"github.com/idbridge/idbridge/metaverse"
)

// cascadePage is the number of descendants read at a time when a container
// rename cascades: larger than a batch, because a store without an index
// by DN suffix compares its whole DN index for each page.
const cascadePage = 5000

// cascade gives the objects of the connector space under a renamed object
// their new DNs, as Entra Connect does for the container hierarchy it
// keeps in the connector space: directories report the rename of an OU
// but not the new DNs of the objects under it (neither DirSync nor
// uSNChanged does). Without the cascade those objects keep stale DNs until
// the next full import, and a reference that arrives under a new DN in
// between names no known object and is dropped.
//
// The descendants are written in the same unit of work as the rename, and
// so in the same store transaction: a crash leaves both or neither. They
// become pending updates, counted as renames, so that sync flows what
// rules derive from DNs. The store's metaverse.SubtreeReader finds them;
// without it, the connector space is read through.
func (s *stager) cascade(w *work, parent *metaverse.CSObject, oldDN string, n *RunResult) error {
	now := s.e.opts.Now()
	return s.under(w, oldDN, func(page []*metaverse.CSObject) {
		for _, o := range page {
			o = w.adopt(o)
			if o == nil || o.ID == parent.ID || o.Anchor == "" || !metaverse.Under(o.DN, oldDN) {
				// Deleted or moved in this unit of work, or provisioned and
				// never exported: its DN is what rules want, not what was read.
				continue
			}
			o.DN = reparent(o.DN, oldDN, parent.DN)
			if o.Pending == metaverse.ImportNone {
				o.Pending = metaverse.ImportUpdate
			}
			o.Imported = now
			w.putObject(o)
			n.Renames++
		}
	})
}

// under calls fn with the pages of objects below base, as the transaction
// had them before the unit of work.
func (s *stager) under(w *work, base string, fn func(page []*metaverse.CSObject)) error {
	sr, indexed := w.tx.(metaverse.SubtreeReader)
	after := ""
	for {
		var page []*metaverse.CSObject
		var err error
		if indexed {
			page, err = sr.ObjectsUnder(w.ctx, s.c.name, base, after, cascadePage)
		} else {
			page, err = w.tx.Objects(w.ctx, s.c.name, after, cascadePage)
		}
		if err != nil {
			return fatal(err)
		}
		if len(page) == 0 {
			return nil
		}
		after = page[len(page)-1].ID
		if !indexed {
			page = filterUnder(page, base)
		}
		fn(page)
	}
}

func filterUnder(page []*metaverse.CSObject, base string) []*metaverse.CSObject {
	kept := page[:0]
	for _, o := range page {
		if metaverse.Under(o.DN, base) {
			kept = append(kept, o)
		}
	}
	return kept
}

// reparent returns dn, which is under oldBase (metaverse.Under), moved
// under newBase: its RDNs above oldBase, as written, then newBase.
func reparent(dn, oldBase, newBase string) string {
	rs := rdns(dn)
	return strings.Join(rs[:len(rs)-len(rdns(oldBase))], ",") + "," + newBase
}

// rdns splits a DN into its RDNs, as written (an escaped comma stays in
// its RDN), without the spaces around the separators.
func rdns(dn string) []string {
	parts := strings.Split(dn, ",")
	out := make([]string, 0, len(parts))
	for i := 0; i < len(parts); i++ {
		p := parts[i]
		for strings.HasSuffix(p, `\`) && !strings.HasSuffix(p, `\\`) && i+1 < len(parts) {
			i++
			p += "," + parts[i]
		}
		out = append(out, strings.TrimSpace(p))
	}
	return out
}
