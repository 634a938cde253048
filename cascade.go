package idbridge

import (
	"github.com/idbridge/idbridge/metaverse"
)

func (s *stager) cascade(w *work, o *metaverse.CSObject, oldDN string, n *RunResult) error {
	return nil
}
