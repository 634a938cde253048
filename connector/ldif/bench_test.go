package ldif_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"testing"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldif"
)

// benchLDIF returns an AD-like export of n users.
func benchLDIF(n int) []byte {
	var b bytes.Buffer
	w := ldif.NewWriter(&b)
	for i := range n {
		guid := make([]byte, 16)
		binary.BigEndian.PutUint64(guid[8:], uint64(i))
		dn := fmt.Sprintf("CN=User %d,OU=Staff,OU=Contoso,DC=contoso,DC=com", i)
		_ = w.Write(&ldif.Record{DN: dn, ChangeType: ldif.ChangeAdd, Attrs: []ldif.Attr{
			{Name: "objectClass", Value: "top"}, {Name: "objectClass", Value: "person"},
			{Name: "objectClass", Value: "organizationalPerson"}, {Name: "objectClass", Value: "user"},
			{Name: "cn", Value: fmt.Sprintf("User %d", i)},
			{Name: "sAMAccountName", Value: fmt.Sprintf("user%d", i)},
			{Name: "userPrincipalName", Value: fmt.Sprintf("user%d@contoso.com", i)},
			{Name: "givenName", Value: "User"}, {Name: "sn", Value: fmt.Sprint(i)},
			{Name: "displayName", Value: fmt.Sprintf("User %d", i)},
			{Name: "mail", Value: fmt.Sprintf("user%d@contoso.com", i)},
			{Name: "proxyAddresses", Value: fmt.Sprintf("SMTP:user%d@contoso.com", i)},
			{Name: "department", Value: "Engineering"}, {Name: "title", Value: "Engineer"},
			{Name: "employeeID", Value: fmt.Sprint(100000 + i)},
			{Name: "manager", Value: "CN=User 0,OU=Staff,OU=Contoso,DC=contoso,DC=com"},
			{Name: "userAccountControl", Value: "512"},
			{Name: "objectGUID", Value: string(guid)},
			{Name: "whenCreated", Value: "20240101120000.0Z"},
		}})
	}
	return b.Bytes()
}

type countSink struct{ n int }

func (s *countSink) Object(context.Context, connector.Change) error      { s.n++; return nil }
func (s *countSink) Error(context.Context, *connector.ObjectError) error { return nil }
func (s *countSink) Checkpoint(context.Context, []byte) error            { return nil }

// BenchmarkImport imports 100k AD users from memory; see records/s.
func BenchmarkImport(b *testing.B) {
	const n = 100_000
	data := benchLDIF(n)
	c, err := ldif.New(ldif.Config{
		Open:   func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		Schema: ldif.ActiveDirectorySchema(), Types: adTypes,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var s countSink
		if err := c.Import(context.Background(), &s); err != nil {
			b.Fatal(err)
		}
		if s.n != n {
			b.Fatalf("imported %d", s.n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkReader reads the same records without conversion.
func BenchmarkReader(b *testing.B) {
	data := benchLDIF(100_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := ldif.NewReader(bytes.NewReader(data))
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
