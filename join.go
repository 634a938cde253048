package idbridge

import (
	"context"
	"fmt"
	"slices"

	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/rules"
)

// indexJoins declares the metaverse attributes that join conditions look
// up: those of case-insensitive conditions folded (metaverse.FoldIndexer),
// the others exact. On a store that cannot fold, a case-insensitive
// condition is checked on the candidates an exact condition of its group
// found, and a group with no exact condition is refused with
// ErrCaseInsensitiveJoin.
func (e *Engine) indexJoins(ctx context.Context, set *rules.Set) error {
	fi, folds := e.store.(metaverse.FoldIndexer)
	var exact, folded []string
	for _, r := range set.Rules() {
		rule := r.Rule()
		for g, group := range rule.Join {
			conds := group.Conditions
			if len(conds) == 0 {
				continue
			}
			if lookupKey(len(conds), func(i int) bool { return conds[i].CaseInsensitive }, folds) < 0 {
				return fmt.Errorf("idbridge: rule %q join group %d (%s): %w", rule.Name, g+1, conds[0].Pos, ErrCaseInsensitiveJoin)
			}
			for _, c := range conds {
				if c.CaseInsensitive && folds {
					folded = append(folded, c.Target)
				} else {
					exact = append(exact, c.Target)
				}
			}
		}
	}
	slices.Sort(exact)
	slices.Sort(folded)
	exact, folded = slices.Compact(exact), slices.Compact(folded)
	if len(folded) > 0 {
		if err := fi.IndexFolded(ctx, folded...); err != nil {
			return fmt.Errorf("idbridge: indexing case-insensitive join attributes: %w", err)
		}
	}
	if len(exact) > 0 {
		if err := e.store.Index(ctx, exact...); err != nil {
			return fmt.Errorf("idbridge: indexing join attributes: %w", err)
		}
	}
	return nil
}

// foldedJoinAttrs returns the attributes indexJoins declares folded: those
// of case-insensitive join conditions, when the store can fold.
func foldedJoinAttrs(set *rules.Set, st metaverse.Store) map[string]bool {
	out := map[string]bool{}
	if _, ok := st.(metaverse.FoldIndexer); !ok {
		return out
	}
	for _, r := range set.Rules() {
		for _, g := range r.Rule().Join {
			for _, c := range g.Conditions {
				if c.CaseInsensitive {
					out[c.Target] = true
				}
			}
		}
	}
	return out
}
