package codec

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/metaverse"
)

// FuzzDecodeRoundTrip feeds arbitrary bytes (a damaged or hostile store
// file) to the decoders, as FuzzDecode does, and checks that what decodes
// encodes and decodes again to the same record.
func FuzzDecodeRoundTrip(f *testing.F) {
	f.Add(AppendObject(nil, sampleObject()))
	f.Add(AppendEntry(nil, &metaverse.Entry{ID: "e1", Type: "person", Attrs: sampleObject().Attrs}))
	f.Add(AppendRun(nil, &metaverse.RunRecord{Connector: "ad", Profile: "Full import", Counts: map[string]int{"adds": 1}}))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		if o, err := DecodeObject(b); err == nil {
			again, err := DecodeObject(AppendObject(nil, o))
			require.NoError(t, err)
			require.Equal(t, o.Anchor, again.Anchor)
			require.Len(t, again.Attrs, len(o.Attrs))
		}
		if e, err := DecodeEntry(b); err == nil {
			again, err := DecodeEntry(AppendEntry(nil, e))
			require.NoError(t, err)
			require.Equal(t, e.ID, again.ID)
		}
		_, _ = DecodeRun(b)
		_, _ = EntryType(b)
	})
}
