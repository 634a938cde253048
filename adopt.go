package idbridge

import (
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

type addIndex struct{}

func (s *stager) adoptByMatch(w *work, ch *connector.Change) (*metaverse.CSObject, error) {
	return nil, nil
}
