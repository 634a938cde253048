package ha_test

import (
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFleet: three node processes serve 30 engines with a capacity of 15
// each (PostgreSQL elector, TTL 2 s). The node leading the most engines is
// killed; all of them resume on the others, and the log of leaderships
// shows one leader per engine at any time, with growing terms.
func TestFleet(t *testing.T) {
	const engines, ttl = 30, 2 * time.Second
	dsn, schema := pgEnv(t)
	c := newCluster(t, ttl, "IDBRIDGE_HA_DSN="+dsn, "IDBRIDGE_HA_SCHEMA="+schema, "IDBRIDGE_HA_ELECTOR=pg",
		"IDBRIDGE_HA_ELECTOR_ADDR="+dsn, "IDBRIDGE_HA_FLEET=1", "IDBRIDGE_HA_ENGINES=30", "IDBRIDGE_HA_CAPACITY=15")
	for range 3 {
		c.start()
	}
	// leaders replays the log: key → node leading it now.
	leaders := func() map[string]string {
		cur := map[string]string{}
		for _, ev := range c.events {
			switch {
			case ev.Ev == "lead":
				cur[ev.Key] = ev.Node
			case ev.Ev == "loss" && cur[ev.Key] == ev.Node:
				delete(cur, ev.Key)
			case ev.Ev == "exit":
				for k, n := range cur {
					if n == ev.Node {
						delete(cur, k)
					}
				}
			}
		}
		return cur
	}
	c.waitFor(func(event) bool { return len(leaders()) == engines }, time.Minute)
	perNode := map[string][]string{}
	for k, n := range leaders() {
		perNode[n] = append(perNode[n], k)
	}
	victim := ""
	for n, ks := range perNode {
		assert.LessOrEqual(t, len(ks), 15, "%s is over capacity", n)
		if victim == "" || len(ks) > len(perNode[victim]) {
			victim = n
		}
	}
	moved := perNode[victim]
	t.Logf("engines per node before the kill: %v", counts(perNode))
	c.kill(victim)
	killed := time.Now()
	c.waitFor(func(ev event) bool { return ev.Ev == "exit" && ev.Node == victim }, time.Minute)
	c.waitFor(func(ev event) bool {
		cur := leaders()
		if len(cur) != engines {
			return false
		}
		for _, k := range moved {
			if cur[k] == victim {
				return false
			}
		}
		return true
	}, time.Minute)

	c.mu.Lock()
	events := slices.Clone(c.events)
	c.mu.Unlock()
	var resumed []time.Duration
	for _, k := range moved {
		for _, ev := range events {
			if ev.Ev == "lead" && ev.Key == k && ev.Node != victim && time.Unix(0, ev.At).After(killed) {
				resumed = append(resumed, time.Unix(0, ev.At).Sub(killed))
				break
			}
		}
	}
	require.Len(t, resumed, len(moved))
	t.Logf("%d engines of the killed node resumed elsewhere: p50 %v, max %v after the kill (TTL %v)",
		len(moved), percentile(resumed, 0.5).Round(time.Millisecond), slices.Max(resumed).Round(time.Millisecond), ttl)
	assert.Less(t, slices.Max(resumed), 2*ttl+5*time.Second, "a bound only a broken fleet exceeds")

	// One leader per engine at any time: a leadership ends with its loss
	// event or its node's exit, before the next one begins.
	type span struct {
		node       string
		term       uint64
		start, end int64
	}
	spans := map[string][]*span{}
	open := map[string]*span{}
	for _, ev := range events {
		switch ev.Ev {
		case "lead":
			s := &span{node: ev.Node, term: ev.Term, start: ev.At, end: -1}
			spans[ev.Key] = append(spans[ev.Key], s)
			open[ev.Key+"/"+ev.Node] = s
		case "loss":
			if s := open[ev.Key+"/"+ev.Node]; s != nil {
				s.end = ev.At
				delete(open, ev.Key+"/"+ev.Node)
			}
		case "exit":
			for id, s := range open {
				if s.node == ev.Node {
					s.end = killed.UnixNano()
					delete(open, id)
				}
			}
		}
	}
	for k, ss := range spans {
		for i := 1; i < len(ss); i++ {
			assert.Greater(t, ss[i].term, ss[i-1].term, "%s: terms", k)
			assert.True(t, ss[i-1].end >= 0 && ss[i-1].end <= ss[i].start,
				"%s: %s led (term %d) before %s's leadership (term %d) ended", k, ss[i].node, ss[i].term, ss[i-1].node, ss[i-1].term)
		}
	}
}

func counts(m map[string][]string) []int {
	var out []int
	for _, ks := range m {
		out = append(out, len(ks))
	}
	sort.Ints(out)
	return out
}
