package ldif_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector/ldif"
)

// FuzzReader checks that the Reader never panics nor loops, and that what
// it reads, written back by the Writer, reads back the same.
func FuzzReader(f *testing.F) {
	for _, name := range []string{"testdata/import.ldif", "testdata/export.golden.ldif"} {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("version: 1\ndn:: Y249YQ==\n cn: x\n# c\n  d\ncn;lang-fr:< file:///x\n\n\ndn: cn=b\nchangetype: modify\nadd: a\na: 1\n-\n"))
	f.Add([]byte("dn: cn=a\nchangetype: modrdn\nnewrdn: cn=b\ndeleteoldrdn: 0\nnewsuperior: dc=y\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := ldif.NewReader(bytes.NewReader(in))
		var recs []*ldif.Record
		for i := 0; ; i++ {
			if i > len(in)+1 {
				t.Fatal("more records than input bytes")
			}
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			var pe *ldif.ParseError
			if errors.As(err, &pe) {
				continue
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if rec.DN == "" {
				t.Fatal("record without DN")
			}
			recs = append(recs, rec)
		}
		var out bytes.Buffer
		w := ldif.NewWriter(&out)
		var written []*ldif.Record
		for _, rec := range recs {
			if w.Write(rec) == nil {
				written = append(written, rec)
			}
		}
		back := ldif.NewReader(&out)
		for _, want := range written {
			got, err := back.Next()
			if err != nil {
				t.Fatalf("reading back %q: %v\n%s", want.DN, err, out.String())
			}
			if got.DN != want.DN || got.ChangeType != want.ChangeType || len(got.Attrs) != len(want.Attrs) || len(got.Mods) != len(want.Mods) ||
				got.NewRDN != want.NewRDN || got.NewSuperior != want.NewSuperior || got.DeleteOldRDN != want.DeleteOldRDN {
				t.Fatalf("round trip: got %+v, want %+v", got, want)
			}
			for i := range got.Attrs {
				if got.Attrs[i].Name != want.Attrs[i].Name || got.Attrs[i].Value != want.Attrs[i].Value {
					t.Fatalf("round trip of %s: got %+v, want %+v", want.DN, got.Attrs[i], want.Attrs[i])
				}
			}
		}
	})
}
