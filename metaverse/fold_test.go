package metaverse_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

func TestFoldString(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"Ada@Contoso.com", "ada@contoso.com", true},
		{"ADA@CONTOSO.COM", "ada@contoso.com", true},
		{"ada@contoso.com", "ada@contoso.org", false},
		{"Élodie", "éLODIE", true},
		{"straße", "STRASSE", false}, // simple folding, as strings.EqualFold
		{"ſ", "S", true},             // long s folds with s
		{"\u212a", "k", true},        // Kelvin sign folds with k
		{"Σίσυφος", "ΣΊΣΥΦΟΣ", true},
		{"ς", "σ", true},
		{"\xff", "\xff", true},
		{"\xffA", "\xffa", false}, // not UTF-8: matches itself only
		{"", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.a+"|"+tt.b, func(t *testing.T) {
			assert.Equal(t, tt.same, metaverse.FoldString(tt.a) == metaverse.FoldString(tt.b))
		})
	}
}

func TestFoldValue(t *testing.T) {
	assert.Equal(t, connector.StringValue("ADA"), metaverse.FoldValue(connector.StringValue("Ada")))
	b := connector.BytesValue([]byte("Ada"))
	assert.Equal(t, b, metaverse.FoldValue(b), "bytes are not folded")
	r := connector.RefValue("Anchor", "CN=Ada")
	assert.Equal(t, r, metaverse.FoldValue(r), "references are not folded")
}

// FuzzFoldString checks that FoldString is a canonical form of
// strings.EqualFold: two valid strings fold alike exactly when EqualFold
// says they are equal, and folding is idempotent.
func FuzzFoldString(f *testing.F) {
	for _, s := range [][2]string{{"Ada", "ADA"}, {"ſ", "s"}, {"\u212a", "K"}, {"Σ", "ς"}, {"\xff", "a"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		fa, fb := metaverse.FoldString(a), metaverse.FoldString(b)
		if fa != metaverse.FoldString(fa) {
			t.Fatalf("FoldString(%q) = %q is not a fixed point", a, fa)
		}
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return
		}
		if (fa == fb) != strings.EqualFold(a, b) {
			t.Fatalf("FoldString(%q) = %q, FoldString(%q) = %q, EqualFold = %v", a, fa, b, fb, strings.EqualFold(a, b))
		}
	})
}
