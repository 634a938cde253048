package ldif_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldif"
)

// readAll reads every record, keeping parse errors as "line N: message".
func readAll(t *testing.T, in string) (recs []*ldif.Record, errs []string) {
	t.Helper()
	r := ldif.NewReader(strings.NewReader(in))
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, errs
		}
		var pe *ldif.ParseError
		if errors.As(err, &pe) {
			assert.ErrorIs(t, err, connector.ErrInvalidObject)
			errs = append(errs, pe.Error())
			continue
		}
		require.NoError(t, err)
		recs = append(recs, rec)
	}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []*ldif.Record
		errs []string
	}{
		{
			name: "version and content",
			in:   "version: 1\ndn: cn=a,dc=x\ncn: a\n\ndn: cn=b,dc=x\ncn: b\n",
			want: []*ldif.Record{
				{Line: 2, DN: "cn=a,dc=x", Attrs: []ldif.Attr{{Name: "cn", Value: "a", Line: 3}}},
				{Line: 5, DN: "cn=b,dc=x", Attrs: []ldif.Attr{{Name: "cn", Value: "b", Line: 6}}},
			},
		},
		{
			name: "version alone, blank lines, no final newline",
			in:   "\n\nversion: 1\n\n\n\ndn: cn=a,dc=x\ncn:a",
			want: []*ldif.Record{{Line: 7, DN: "cn=a,dc=x", Attrs: []ldif.Attr{{Name: "cn", Value: "a", Line: 8}}}},
		},
		{
			name: "folded lines, folded comments, CRLF",
			in:   "# comment\r\n  continued\r\ndn: cn=a,\r\n dc=x\r\n# inside\r\ndescription: one\r\n  two\r\n\r\n",
			want: []*ldif.Record{{Line: 3, DN: "cn=a,dc=x", Attrs: []ldif.Attr{{Name: "description", Value: "one two", Line: 6}}}},
		},
		{
			name: "base64 and options",
			in:   "dn:: Y249WsO2ZSxkYz14\ncn;lang-de:: WsO2ZQ==\nuserCertificate;binary:: AAEC\nsn:   spaced\n",
			want: []*ldif.Record{{Line: 1, DN: "cn=Zöe,dc=x", Attrs: []ldif.Attr{
				{Name: "cn;lang-de", Value: "Zöe", Line: 2},
				{Name: "userCertificate;binary", Value: "\x00\x01\x02", Line: 3},
				{Name: "sn", Value: "spaced", Line: 4},
			}}},
		},
		{
			name: "change records",
			in: `dn: cn=a,dc=x
changetype: modify
add: mail
mail: a@x
mail: b@x
-
delete: description
-
replace: sn
sn: A
-

dn: cn=a,dc=x
control: 1.2.840.113556.1.4.805 true
changetype: delete

dn: cn=a,dc=x
changetype: moddn
newrdn: cn=b
deleteoldrdn: 1
newsuperior: ou=y,dc=x

dn: cn=c,dc=x
changetype: add
cn: c
`,
			want: []*ldif.Record{
				{Line: 1, DN: "cn=a,dc=x", ChangeType: ldif.ChangeModify, Mods: []ldif.Mod{
					{Op: ldif.ModAdd, Name: "mail", Values: []string{"a@x", "b@x"}},
					{Op: ldif.ModDelete, Name: "description"},
					{Op: ldif.ModReplace, Name: "sn", Values: []string{"A"}},
				}},
				{Line: 13, DN: "cn=a,dc=x", ChangeType: ldif.ChangeDelete, Controls: []string{"1.2.840.113556.1.4.805 true"}},
				{Line: 17, DN: "cn=a,dc=x", ChangeType: ldif.ChangeModRDN, NewRDN: "cn=b", DeleteOldRDN: true, NewSuperior: "ou=y,dc=x"},
				{Line: 23, DN: "cn=c,dc=x", ChangeType: ldif.ChangeAdd, Attrs: []ldif.Attr{{Name: "cn", Value: "c", Line: 25}}},
			},
		},
		{
			name: "malformed records are skipped",
			in: `dn: cn=a,dc=x
cn:: ***

cn: no dn

dn: cn=b,dc=x
jpegPhoto:< file:///etc/passwd

dn: cn=c,dc=x
changetype: rename

dn: cn=d,dc=x
no colon here

dn: cn=e,dc=x
changetype: modify
add: mail
cn: wrong

dn: cn=f,dc=x
changetype: modrdn
newrdn: cn=g

dn: cn=ok,dc=x
cn: ok
`,
			want: []*ldif.Record{{Line: 24, DN: "cn=ok,dc=x", Attrs: []ldif.Attr{{Name: "cn", Value: "ok", Line: 25}}}},
			errs: []string{
				"ldif: line 2: cn: invalid base64 value: illegal base64 data at input byte 0",
				`ldif: line 4: record does not start with a dn line (found "cn")`,
				"ldif: line 7: jpegPhoto: URL values (attr:< url) are not supported",
				`ldif: line 10: unknown changetype "rename"`,
				`ldif: line 13: expected "name: value", got "no colon here"`,
				`ldif: line 18: value of "cn" in a modification of "mail" (missing "-"?)`,
				"ldif: line 20: modrdn record needs newrdn and deleteoldrdn lines",
			},
		},
		{
			name: "bad version",
			in:   "version: 2\n\ndn: cn=a,dc=x\n",
			want: []*ldif.Record{{Line: 3, DN: "cn=a,dc=x"}},
			errs: []string{`ldif: line 1: unsupported LDIF version "2"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := readAll(t, tt.in)
			assert.Equal(t, tt.want, recs)
			assert.Equal(t, tt.errs, errs)
		})
	}
}

func TestReaderLongLinesAndErrors(t *testing.T) {
	long := strings.Repeat("x", 200<<10)
	in := "dn: cn=a,dc=x\ndescription: " + long + "\n"
	r := ldif.NewReader(iotest.OneByteReader(strings.NewReader(in)))
	rec, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, long, rec.Attrs[0].Value)
	_, err = r.Next()
	assert.Equal(t, io.EOF, err)

	boom := errors.New("boom")
	r = ldif.NewReader(io.MultiReader(strings.NewReader("dn: cn=a,dc=x\ncn: a\n"), iotest.ErrReader(boom)))
	_, err = r.Next()
	assert.ErrorIs(t, err, boom, "a read error mid-record is not a ParseError")
	_, err = r.Next()
	assert.ErrorIs(t, err, boom, "read errors are sticky")
}

func TestRecordGetAndBase(t *testing.T) {
	recs, _ := readAll(t, "dn: cn=a,dc=x\nobjectClass: top\nOBJECTCLASS: user\ncn;lang-fr: b\n")
	require.Len(t, recs, 1)
	assert.Equal(t, []string{"top", "user"}, recs[0].Get("objectclass"))
	name, opts := recs[0].Attrs[2].Base()
	assert.Equal(t, "cn", name)
	assert.Equal(t, "lang-fr", opts)
}
