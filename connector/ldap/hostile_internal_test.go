package ldap

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	ldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
)

// Input from the server is outside input: attribute names, values, DNs and
// schema definitions must never panic the connector, and text that is not
// UTF-8 must not be passed on.

// TestParseValueRangeNotUTF8: a byte that is not UTF-8 before ";range="
// (strings.ToLower turns it into a 3-byte U+FFFD) panicked with an index
// out of range.
func TestParseValueRangeNotUTF8(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want valueRange
		ok   bool
	}{
		{"\xff;range=0-9", valueRange{base: "\xff", lo: 0, hi: 9}, true},
		{"m\xc3;RANGE=5-*", valueRange{base: "m\xc3", lo: 5, last: true}, true},
		{"\xff\xfe\xfd;x", valueRange{base: "\xff\xfe\xfd;x"}, false},
	} {
		var got valueRange
		var ok bool
		require.NotPanics(t, func() { got, ok = parseValueRange(tc.in) }, "%q", tc.in)
		assert.Equal(t, tc.ok, ok, "%q", tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
	}
}

// TestToValueRefusesInvalidUTF8: a string-typed value that is not UTF-8
// is an error; binary values pass as they are.
func TestToValueRefusesInvalidUTF8(t *testing.T) {
	for _, typ := range []connector.AttrType{connector.String, connector.Reference, connector.Integer, connector.Boolean, connector.Time} {
		_, err := toValue(typ, "caf\xe9", []byte("caf\xe9"))
		assert.ErrorContains(t, err, "not valid UTF-8", "type %v", typ)
	}
	v, err := toValue(connector.Bytes, "\xff\x00", []byte{0xff, 0})
	require.NoError(t, err)
	assert.Equal(t, []byte{0xff, 0}, v.Octets())
	v, err = toValue(connector.String, "café", []byte("café"))
	require.NoError(t, err)
	assert.Equal(t, "café", v.Str())
}

// TestToObjectInvalidUTF8IsObjectError: an entry with a value that is not
// UTF-8 is an object error that names its anchor (so that the engine
// keeps the object rather than take it for gone) and matches
// connector.ErrInvalidObject.
func TestToObjectInvalidUTF8IsObjectError(t *testing.T) {
	c := &Connector{root: &rootDSE{dialect: ActiveDirectory}}
	typ := &objType{TypeConfig: TypeConfig{Name: "user"}, attrs: map[string]connector.Attribute{
		"displayname": {Name: "displayName", Type: connector.String},
	}}
	guid := bytes.Repeat([]byte{0xab}, 16)
	for name, e := range map[string]*ldap.Entry{
		"value": {DN: "CN=x,DC=example,DC=test", Attributes: []*ldap.EntryAttribute{
			{Name: "displayName", Values: []string{"Ren\xe9"}, ByteValues: [][]byte{[]byte("Ren\xe9")}},
			{Name: "objectGUID", Values: []string{string(guid)}, ByteValues: [][]byte{guid}},
		}},
		"DN": {DN: "CN=Ren\xe9,DC=example,DC=test", Attributes: []*ldap.EntryAttribute{
			{Name: "objectGUID", Values: []string{string(guid)}, ByteValues: [][]byte{guid}},
		}},
	} {
		_, err := c.toObject(context.Background(), e, typ)
		var oe *connector.ObjectError
		require.ErrorAs(t, err, &oe, name)
		assert.Equal(t, guidAnchor(guid), oe.Anchor, name)
		assert.ErrorIs(t, err, connector.ErrInvalidObject, name)
	}
}

// TestIsUnderEscapedComma: an escaped comma does not separate RDNs, so
// "cn=x\,ou=t,dc=example" is not under ou=t.
func TestIsUnderEscapedComma(t *testing.T) {
	assert.False(t, isUnder(`cn=x\,ou=t,dc=example,dc=test`, "ou=t,dc=example,dc=test"))
	assert.True(t, isUnder(`cn=x\\,ou=t,dc=example,dc=test`, "ou=t,dc=example,dc=test"), "an escaped backslash, then a separator")
	assert.True(t, isUnder(`CN=x\,y,OU=t,DC=example,DC=test`, "ou=t,dc=example,dc=test"))
}

// TestExportRefusesOutOfScope: exports refuse a DN outside the configured
// containers — one a rule built as "cn=" + displayName from "Mallory,
// ou=admins" — with ErrOutOfScope, before they reach the server.
func TestExportRefusesOutOfScope(t *testing.T) {
	c := &Connector{cfg: Config{Containers: []Container{{DN: "OU=Users,DC=example,DC=test", Exclude: []string{"OU=Service,OU=Users,DC=example,DC=test"}}}}}
	for _, dn := range []string{
		"cn=Mallory,ou=admins,DC=example,DC=test",
		`cn=Mallory\,OU=Users,DC=example,DC=test`,
		"CN=svc,OU=Service,OU=Users,DC=example,DC=test",
		"CN=x,OU=Users,DC=example,DC=test,",
		"not a dn",
	} {
		err := c.inScope(dn)
		assert.ErrorIs(t, err, ErrOutOfScope, dn)
		assert.ErrorIs(t, err, connector.ErrInvalidObject, dn)
	}
	assert.NoError(t, c.inScope("CN=Mallory,OU=Users,DC=example,DC=test"))
	assert.NoError(t, c.inScope(`CN=Mallory\, ou=admins,OU=Users,DC=example,DC=test`), "an escaped comma in the RDN stays in it")
}

// TestURLPasswordNotEchoed: a password put in the URL's user-info is
// refused and never appears in the error.
func TestURLPasswordNotEchoed(t *testing.T) {
	for _, u := range []string{
		"ldaps://admin:S3cret-pw@dc.example.test",
		"ldaps://admin:S3cret-pw@dc.example.test:bad",
		"http://admin:S3cret-pw@dc.example.test",
		"ldaps://admin:S3cret-pw@[::1",
	} {
		cfg := Config{URL: u, BindDN: "cn=a", Containers: []Container{{DN: "dc=x"}}, Types: []TypeConfig{{Name: "u", ObjectClasses: []string{"user"}}}}
		err := cfg.Validate()
		require.Error(t, err, u)
		assert.NotContains(t, err.Error(), "S3cret-pw", u)
	}
	assert.Equal(t, "ldap://…@host/dc=x??sub", redactURL("ldap://u:p@host/dc=x??sub"), "the user info is replaced, so that a reader sees there was one")
}

// TestInsecureSkipVerifyWarns: a connector that does not verify the
// server's certificate says so in the log, once, at creation.
func TestInsecureSkipVerifyWarns(t *testing.T) {
	var buf bytes.Buffer
	cfg := Config{URL: "ldaps://dc.example.test", BindDN: "cn=a", Password: connector.NewSecret("pw-not-logged"),
		InsecureSkipVerify: true, Logger: slog.New(slog.NewTextHandler(&buf, nil)),
		Containers: []Container{{DN: "dc=x"}}, Types: []TypeConfig{{Name: "u", ObjectClasses: []string{"user"}}}}
	_, err := New(cfg)
	require.NoError(t, err)
	assert.Contains(t, buf.String(), "level=WARN")
	assert.Contains(t, buf.String(), "bind password")
	assert.NotContains(t, buf.String(), "pw-not-logged")

	buf.Reset()
	cfg.InsecureSkipVerify = false
	_, err = New(cfg)
	require.NoError(t, err)
	assert.Empty(t, buf.String())
}

// TestReferralReported: a continuation reference that may lead to
// objects of the containers is reported to the sink as an object error
// matching connector.ErrReferral, its URL without user-info; one to a
// subtree outside them is not.
func TestReferralReported(t *testing.T) {
	var got []*connector.ObjectError
	sink := errSink(func(oe *connector.ObjectError) { got = append(got, oe) })
	c := &Connector{cfg: Config{Containers: []Container{{DN: "OU=Staff,DC=example,DC=test", Exclude: []string{"OU=Old,OU=Staff,DC=example,DC=test"}}}}}
	ref := c.referrals(context.Background(), sink)
	for _, r := range []string{
		"ldap://u:pw@other.example.test/OU=Far,OU=Staff,DC=example,DC=test", // inside a container
		"ldap://other.example.test/DC=test",                                 // above one: may hold it
		"ldap://other.example.test/",                                        // no DN: cannot tell
	} {
		require.NoError(t, ref(r))
	}
	require.Len(t, got, 3)
	for _, oe := range got {
		assert.ErrorIs(t, oe, connector.ErrReferral)
		assert.NotContains(t, oe.Error(), "pw")
	}
	assert.Equal(t, "ldap://…@other.example.test/OU=Far,OU=Staff,DC=example,DC=test", got[0].DN)

	// Subtrees outside every container: the Configuration partition a
	// search of the domain head meets, an excluded subtree.
	got = nil
	require.NoError(t, ref("ldaps://example.test/CN=Configuration,DC=example,DC=test"))
	require.NoError(t, ref("ldaps://example.test/OU=Old,OU=Staff,DC=example,DC=test"))
	assert.Empty(t, got)
}

type errSink func(*connector.ObjectError)

func (errSink) Object(context.Context, connector.Change) error { return errors.New("unexpected") }
func (f errSink) Error(_ context.Context, oe *connector.ObjectError) error {
	f(oe)
	return nil
}
func (errSink) Checkpoint(context.Context, []byte) error { return nil }

// FuzzParseValueRange: attribute names from the server never panic the
// range parser, and a parsed range's base is a prefix of the name.
func FuzzParseValueRange(f *testing.F) {
	for _, s := range []string{"member", "member;range=0-1499", "Member;Range=1500-*", "\xff;range=1-1", "m;range=-", ";range=0-0", "a;range=9999999999999999999-*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		r, ok := parseValueRange(name)
		if !strings.HasPrefix(name, r.base) {
			t.Fatalf("base %q is not a prefix of %q", r.base, name)
		}
		if ok && (r.lo < 0 || !r.last && r.hi < r.lo) {
			t.Fatalf("bad range %+v from %q", r, name)
		}
	})
}

// FuzzToValue: values from the server either convert or fail with an
// error, and a converted text value is valid UTF-8.
func FuzzToValue(f *testing.F) {
	for _, s := range []string{"TRUE", "42", "-1", "20240101120000.0Z", "20240101120000Z", "CN=x,DC=y", "caf\xe9", ""} {
		f.Add(s, uint8(0))
	}
	types := []connector.AttrType{connector.String, connector.Reference, connector.Integer, connector.Boolean, connector.Time, connector.Bytes}
	f.Fuzz(func(t *testing.T, s string, k uint8) {
		typ := types[int(k)%len(types)]
		v, err := toValue(typ, s, []byte(s))
		if err != nil {
			return
		}
		if typ == connector.String && !utf8.ValidString(v.Str()) {
			t.Fatalf("invalid UTF-8 passed on: %q", v.Str())
		}
	})
}

// FuzzDNScope: DNs never panic the scope checks, and a DN in scope parses.
func FuzzDNScope(f *testing.F) {
	for _, s := range []string{"CN=x,OU=Users,DC=example,DC=test", `cn=x\,ou=users,dc=example,dc=test`, "cn=a+uid=b,ou=users,dc=example,dc=test", "\xff=\xfe", ",,,", `\`} {
		f.Add(s)
	}
	c := &Connector{cfg: Config{Containers: []Container{{DN: "OU=Users,DC=example,DC=test"}}}}
	f.Fuzz(func(t *testing.T, dn string) {
		_ = connector.FoldDN(dn)
		if err := c.inScope(dn); err == nil {
			if _, perr := ldap.ParseDN(dn); perr != nil {
				t.Fatalf("%q in scope but does not parse: %v", dn, perr)
			}
		}
	})
}

// FuzzParseDef: schema definitions from the server never panic the parser.
func FuzzParseDef(f *testing.F) {
	for _, s := range []string{
		`( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'RFC4519: common name(s)' SUP name )`,
		`( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( userPassword $ telephoneNumber ) )`,
		`( 1 NAME 'x`, `(`, `( 1 NAME ( 'a' `, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { _ = parseDef(s) })
}

// FuzzNameChangedAfter: replPropertyMetaData from the server never panics
// its reader.
func FuzzNameChangedAfter(f *testing.F) {
	f.Add(metadata(map[uint32]int64{attrtypName: 5}), int64(3))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, int64(0))
	f.Fuzz(func(t *testing.T, meta []byte, usn int64) { _ = nameChangedAfter(meta, usn) })
}
