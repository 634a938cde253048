package memconn

import (
	"strings"

	"github.com/idbridge/idbridge/connector"
)

// RenameSubtree renames a container out of band as a directory does: the
// object with anchor a gets dn, and every object under its old DN (compared
// with connector.FoldDN) gets the new DN too. Only the container's rename
// is logged for delta imports, as Active Directory's DirSync and uSNChanged
// report only the container: the objects under it change DN silently.
// DNs with escaped commas above the container are not supported.
func (s *System) RenameSubtree(a connector.Anchor, dn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[a]
	if !ok {
		return connector.ErrNoSuchObject
	}
	old := connector.FoldDN(o.DN)
	suffix := "," + old
	for _, c := range s.objects {
		f := connector.FoldDN(c.DN)
		if c == o || !strings.HasSuffix(f, suffix) {
			continue
		}
		// The RDNs above the container, as written, then the new DN.
		rdns := strings.Count(f, ",") - strings.Count(suffix, ",") + 1
		parts := strings.SplitN(c.DN, ",", rdns+1)
		s.rename(c, strings.Join(parts[:rdns], ",")+","+dn)
	}
	s.rename(o, dn)
	s.log = append(s.log, logEntry{anchor: a})
	return nil
}
