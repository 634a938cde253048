package idbridge

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idbridge/idbridge/connector"
)

func TestSameImported(t *testing.T) {
	ref := connector.RefValue
	member := func(vs ...connector.Value) connector.Attributes {
		return connector.Attributes{"cn": {connector.StringValue("Team")}, "member": vs}
	}
	tests := []struct {
		name string
		a, b connector.Attributes
		want bool
	}{
		{"same anchor, newer DN", member(ref("u1", "CN=U1,OU=Old"), ref("u2", "CN=U2,OU=Old")), member(ref("u2", "cn=u2,ou=new"), ref("u1", "CN=U1,OU=New")), true},
		{"DN-only, same DN in another case", member(ref("", "CN=U1,OU=X")), member(ref("", "cn=u1, ou=x")), true},
		{"DN-only, another DN", member(ref("", "CN=U1,OU=Old")), member(ref("", "CN=U1,OU=New")), false},
		{"anchored now, DN-only before", member(ref("u1", "CN=U1,OU=X")), member(ref("", "CN=U1,OU=X")), false},
		{"another object under the same DN", member(ref("u1", "CN=U1,OU=X")), member(ref("u9", "CN=U1,OU=X")), false},
		{"a member more", member(ref("u1", "CN=U1")), member(ref("u1", "CN=U1"), ref("u2", "CN=U2")), false},
		{"the same anchor twice is not two members", member(ref("u1", "CN=U1"), ref("u1", "CN=U1")), member(ref("u1", "CN=U1"), ref("u2", "CN=U2")), false},
		{"a string differs", connector.Attributes{"cn": {connector.StringValue("A")}}, connector.Attributes{"cn": {connector.StringValue("a")}}, false},
		{"an empty attribute is no attribute", connector.Attributes{"cn": {connector.StringValue("A")}, "member": nil}, connector.Attributes{"cn": {connector.StringValue("A")}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, sameImported(tt.a, tt.b))
			assert.Equal(t, tt.want, sameImported(tt.b, tt.a))
		})
	}
}

func TestDedupRefs(t *testing.T) {
	ref := connector.RefValue
	tests := []struct {
		name     string
		in, want []connector.Value
	}{
		{"none repeated", []connector.Value{ref("u1", "A"), ref("", "B")}, []connector.Value{ref("u1", "A"), ref("", "B")}},
		{"an anchor repeated under another DN", []connector.Value{ref("u1", "CN=U1,OU=Old"), ref("u2", "B"), ref("u1", "CN=U1,OU=New")}, []connector.Value{ref("u1", "CN=U1,OU=Old"), ref("u2", "B")}},
		{"a DN repeated", []connector.Value{ref("", "CN=X"), ref("", "cn=x")}, []connector.Value{ref("", "CN=X")}},
		{"a DN-only value and an anchored one are kept", []connector.Value{ref("", "CN=X"), ref("u1", "CN=X")}, []connector.Value{ref("", "CN=X"), ref("u1", "CN=X")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, dedupRefs(tt.in))
		})
	}
}

// TestDNRefsThen: a removal by DN noted earlier in a pass is voided by a
// later add of the same value or replace of the attribute, and every
// earlier note by a later whole read of the object.
func TestDNRefsThen(t *testing.T) {
	ref := connector.RefValue
	remove := func(vs ...connector.Value) connector.Mod {
		return connector.Mod{Name: "member", Op: connector.ModRemove, Values: vs}
	}
	tests := []struct {
		name  string
		first dnRefs
		next  dnRefs
		want  []connector.Mod
	}{
		{"removals add up", dnRefs{removals: []connector.Mod{remove(ref("", "CN=A"))}}, dnRefs{removals: []connector.Mod{remove(ref("", "CN=B"))}},
			[]connector.Mod{remove(ref("", "CN=A")), remove(ref("", "CN=B"))}},
		{"added again", dnRefs{removals: []connector.Mod{remove(ref("", "CN=A"), ref("", "CN=B"))}},
			dnRefs{adds: []connector.Mod{{Name: "member", Op: connector.ModAdd, Values: []connector.Value{ref("a", "cn=a")}}}},
			[]connector.Mod{remove(ref("", "CN=B"))}},
		{"added to another attribute", dnRefs{removals: []connector.Mod{remove(ref("", "CN=A"))}},
			dnRefs{adds: []connector.Mod{{Name: "manager", Op: connector.ModAdd, Values: []connector.Value{ref("", "CN=A")}}}},
			[]connector.Mod{remove(ref("", "CN=A"))}},
		{"replaced", dnRefs{removals: []connector.Mod{remove(ref("", "CN=A"))}}, dnRefs{replaced: []string{"member"}}, nil},
		{"read whole", dnRefs{removals: []connector.Mod{remove(ref("", "CN=A"))}}, dnRefs{reset: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.first
			d.then(&tt.next)
			assert.ElementsMatch(t, tt.want, d.removals)
		})
	}
}
