package codec

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

var when = time.Date(2026, 11, 24, 19, 0, 0, 123456789, time.UTC)

func allValues() []connector.Value {
	return []connector.Value{
		connector.StringValue("ada"), connector.StringValue(""), connector.StringValue("nul\x00\xff"),
		connector.BytesValue([]byte{0, 1, 2, 255}), connector.BytesValue(nil),
		connector.IntValue(-1 << 63), connector.IntValue(1<<63 - 1), connector.IntValue(0),
		connector.BoolValue(true), connector.BoolValue(false),
		connector.TimeValue(when), connector.TimeValue(time.Unix(0, -5)),
		connector.RefValue("guid-1", "CN=Ada,DC=example"), connector.RefValue("", "cn=x"),
	}
}

func sampleObject() *metaverse.CSObject {
	return &metaverse.CSObject{
		ID: "o1", Connector: "ad", Anchor: "a1", DN: "CN=Ada", Type: "user",
		Attrs:   connector.Attributes{"all": allValues(), "empty": {}, "nil": nil},
		Pending: metaverse.ImportUpdate, Changed: []string{"all"},
		EntryID: "e1", LinkType: metaverse.StickyJoin, Rule: "r",
		Export: &metaverse.Export{Kind: connector.Update, DN: "CN=B", State: metaverse.ExportFailed,
			Attrs: connector.Attributes{"mail": {}, "cn": {connector.StringValue("B")}}, Attempts: 3, LastError: "x", Updated: when},
		Seen: 7, Imported: when, Error: "bad",
	}
}

func sampleEntry() *metaverse.Entry {
	return &metaverse.Entry{
		ID: "e1", Type: "person", Attrs: connector.Attributes{"all": allValues(), "empty": {}},
		Sources: map[string]metaverse.Source{"all": {Connector: "ad", Rule: "in"}},
		Links:   []metaverse.Link{{Connector: "ad", ObjectID: "o1", Type: metaverse.Provision, Rule: "in", Inbound: true}},
		Created: when, Updated: when.Add(time.Second),
	}
}

func TestRoundTrip(t *testing.T) {
	t.Run("entry", func(t *testing.T) {
		for _, e := range []*metaverse.Entry{sampleEntry(), {ID: "x"}, {ID: "y", Attrs: connector.Attributes{}, Sources: map[string]metaverse.Source{}, Links: []metaverse.Link{}}} {
			got, err := DecodeEntry(AppendEntry(nil, e))
			require.NoError(t, err)
			assert.Equal(t, e, got)
		}
		typ, err := EntryType(AppendEntry(nil, sampleEntry()))
		require.NoError(t, err)
		assert.Equal(t, "person", typ)
	})
	t.Run("object", func(t *testing.T) {
		for _, o := range []*metaverse.CSObject{sampleObject(), {ID: "x"}, {ID: "y", Changed: []string{}}} {
			got, err := DecodeObject(AppendObject(nil, o))
			require.NoError(t, err)
			assert.Equal(t, o, got)
		}
		got, _ := DecodeObject(AppendObject(nil, sampleObject()))
		vs, present := got.Export.Attrs["mail"]
		assert.True(t, present, "present-and-empty attribute must stay present")
		assert.Empty(t, vs)
	})
	t.Run("run", func(t *testing.T) {
		for _, r := range []*metaverse.RunRecord{{ID: "1", Connector: "ad", Profile: "FullImport", Started: when, Ended: when,
			Counts: map[string]int{"adds": 3, "neg": -1}, Errors: []string{"e"}, Err: "stopped"}, {ID: "2"}} {
			got, err := DecodeRun(AppendRun(nil, r))
			require.NoError(t, err)
			assert.Equal(t, r, got)
		}
	})
	t.Run("values exact", func(t *testing.T) {
		for _, v := range allValues() {
			r := reader{buf: AppendValue(nil, v)}
			assert.Equal(t, v, r.value(), v.String())
			assert.NoError(t, r.done())
		}
	})
}

func TestDecodeErrors(t *testing.T) {
	good := AppendEntry(nil, sampleEntry())
	_, err := DecodeEntry(good[:len(good)-3])
	assert.ErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), "entry")
	_, err = DecodeObject(good)
	assert.ErrorIs(t, err, ErrCorrupt, "an entry is not an object")
	newer := append([]byte{}, good...)
	newer[1] = Version + 1
	_, err = DecodeEntry(newer)
	assert.ErrorIs(t, err, metaverse.ErrIncompatible)
	assert.Contains(t, err.Error(), "version 2")
	_, err = DecodeEntry(append(good, 0))
	assert.ErrorIs(t, err, ErrCorrupt)
}

func TestJSON(t *testing.T) {
	b := AttrsJSON(connector.Attributes{"all": allValues(), "empty": {}})
	var m map[string][]string
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	assert.Len(t, m["all"], len(allValues()))
	assert.Empty(t, m["empty"])
	for _, v := range allValues() {
		var arr []string
		require.NoError(t, json.Unmarshal(ValueJSON(v), &arr))
	}
	assert.NotContains(t, string(b), `\u0000`)
}

func FuzzDecode(f *testing.F) {
	f.Add(AppendEntry(nil, sampleEntry()))
	f.Add(AppendObject(nil, sampleObject()))
	f.Add(AppendRun(nil, &metaverse.RunRecord{ID: "1", Counts: map[string]int{"a": 1}}))
	f.Add([]byte{})
	f.Add([]byte("E\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, dec := range []func([]byte) error{
			func(b []byte) error { _, err := DecodeEntry(b); return err },
			func(b []byte) error { _, err := DecodeObject(b); return err },
			func(b []byte) error { _, err := DecodeRun(b); return err },
			func(b []byte) error { _, err := EntryType(b); return err },
		} {
			if err := dec(b); err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, metaverse.ErrIncompatible) {
				t.Fatalf("unclear error %v", err)
			}
		}
	})
}

func TestDecodeObjectKeys(t *testing.T) {
	for _, o := range []*metaverse.CSObject{
		{ID: "1", Connector: "ad"},
		{ID: "2", Connector: "ad", Anchor: "a", DN: "CN=x", Type: "user", Pending: metaverse.ImportAdd,
			Attrs: connector.Attributes{"s": {connector.StringValue("v")}, "b": {connector.BytesValue([]byte{1, 2})},
				"i": {connector.IntValue(-5)}, "t": {connector.BoolValue(true)}, "r": {connector.RefValue("x", "CN=y")},
				"d": {connector.TimeValue(time.Unix(5, 0))}},
			Changed: []string{"s"}, EntryID: "e", Rule: "r",
			Export: &metaverse.Export{Kind: connector.Update, Attrs: connector.Attributes{"s": {connector.StringValue("w")}}}},
	} {
		b := AppendObject(nil, o)
		k, err := DecodeObjectKeys(b)
		require.NoError(t, err)
		assert.Equal(t, KeysOf(o), k)
		_, err = DecodeObjectKeys(b[:len(b)/2])
		assert.Error(t, err, "a truncated object is refused")
	}
}
