package codec

import (
	"encoding/binary"

	"github.com/idbridge/idbridge/connector"
)

// ValueKey returns the index key of a value: its type byte then
// Value.Key, so that equal values have equal keys and values of different
// types never collide (the string "5" and the integer 5).
func ValueKey(v connector.Value) string {
	return string([]byte{byte(v.Type())}) + v.Key()
}

// AppendLP appends s with a uvarint length prefix, so that keys made of
// several components are unambiguous whatever bytes they hold, and a
// prefix of components selects exactly the keys that start with them.
func AppendLP(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
