package localelector_test

import (
	"testing"

	"github.com/idbridge/idbridge/ha"
	"github.com/idbridge/idbridge/ha/hatest"
	"github.com/idbridge/idbridge/ha/localelector"
)

// node is the elector every node of one process shares, until closed.
type node struct {
	*localelector.Elector
	closed bool
}

func (n *node) Close() error {
	n.closed = true
	return n.Elector.Close()
}

func TestConformance(t *testing.T) {
	hatest.Run(t, hatest.Harness{NewElector: func() func(t *testing.T) ha.Elector {
		var shared *node
		return func(t *testing.T) ha.Elector {
			if shared == nil || shared.closed {
				shared = &node{Elector: localelector.New()}
				n := shared
				t.Cleanup(func() { n.Close() })
			}
			return shared
		}
	}()})
}
