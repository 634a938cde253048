// Package codec is the binary record format shared by the persistent
// metaverse stores (boltstore, pgstore): a compact, versioned encoding of
// metaverse.Entry, metaverse.CSObject and metaverse.RunRecord, and a JSON
// projection of attributes for stores that index them as JSON.
//
// A record starts with a kind byte ('E', 'O', 'R') and a format version byte.
// Strings are a uvarint length and the bytes; integers are varints; times
// are seconds and nanoseconds since the Unix epoch (read back in UTC); maps
// and slices are a uvarint of length+1, 0 meaning nil, so that nil and empty
// survive a round trip (an Export attribute present with no values stays
// present and empty).
//
// Decoding never panics on bad input: it returns an error wrapping
// ErrCorrupt, or metaverse.ErrIncompatible for a record of a newer version.
//
// # Errors
//
// DecodeEntry, DecodeObject and DecodeRun return an error wrapping
// ErrCorrupt, with the byte offset, for a malformed record, and one
// wrapping metaverse.ErrIncompatible for a record of a newer version.
//
// # Concurrency
//
// Every function is safe for concurrent use; none retains its arguments.
package codec
