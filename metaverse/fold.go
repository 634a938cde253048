package metaverse

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/idbridge/idbridge/connector"
)

// FoldIndexer is implemented by stores that can index attributes
// case-insensitively, for join conditions marked caseInsensitive (Entra
// Connect compares mail and userPrincipalName that way).
//
// IndexFolded declares attributes as Store.Index does, and makes
// FindEntries on them match String values case-insensitively: a string
// matches when FoldString gives the same result for both (as
// strings.EqualFold compares). Other value types still match exactly. An
// attribute declared both ways is folded: a folded lookup finds a superset
// of the exact one, and callers that want the exact case filter the
// entries they get. IndexFolded may be called again with more attributes;
// it re-indexes the existing entries of an attribute declared exact before.
//
// Without it, FindEntries matches strings exactly, and the engine can join
// case-insensitively only on a join group that also has an exact condition.
type FoldIndexer interface {
	IndexFolded(ctx context.Context, attrs ...string) error
}

// FoldString returns the form of s under which strings that
// strings.EqualFold reports equal are identical: each rune becomes the
// smallest rune of its Unicode simple case-folding orbit ("Ada" and "ADA"
// both fold to "ADA", "ſ" to "S"). A string that is not valid UTF-8 is
// returned unchanged, so it only matches itself.
func FoldString(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		// The smallest rune of an ASCII letter's orbit is its upper case.
		return strings.ToUpper(s)
	}
	if !utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// FoldValue returns v with a String value folded by FoldString; values of
// other types are returned as they are.
func FoldValue(v connector.Value) connector.Value {
	if v.Type() != connector.String {
		return v
	}
	return connector.StringValue(FoldString(v.Str()))
}
