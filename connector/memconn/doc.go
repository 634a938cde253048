// Package memconn is an in-memory connected system and its connector, for
// testing what runs on the engine — rule files above all — without a
// directory server: build a System with a schema, Put the objects a test
// needs, give System.Connector to idbridge.New as any other connector, and
// read back with Get, ByDN or All what the engine exported.
//
// The connector implements connector.Connector, connector.DeltaImporter
// (every out-of-band change — Put, Modify, Rename, Delete — and every
// applied export is in the change log a delta import reads) and
// connector.PasswordSetter. Exports behave as a directory's: an Add
// assigns a new anchor ("mem-1", …) and fails with
// connector.ErrAlreadyExists on a DN in use; Update and Delete of an
// unknown anchor fail with connector.ErrNoSuchObject; a reference given by
// DN is stored with the anchor of the object it names.
//
// # Fault injection
//
// A test makes the system fail as a real one does, and checks what the
// engine and its rules make of it:
//
//   - FailCall(op, err): the next Import, DeltaImport or Export call fails
//     as a whole (a server that is down, connector.ErrWatermarkExpired for
//     a delta that cannot start from its watermark). Queued, one per call.
//   - FailObject(op, anchorOrDN, err): one object fails in every call of
//     op: imports report it through ImportSink.Error and go on, exports
//     return the error in its result and apply the other changes.
//   - Malform(anchor): imports meet a malformed record for the object
//     (ErrMalformed, wrapping connector.ErrInvalidObject); the object is
//     still there, so a full import must not delete it downstream.
//   - FailImportAfter (an import that breaks off after n objects) and
//     FailExport (a function that decides per change), as fields.
//
// ClearFaults removes what the methods injected; Calls counts calls.
//
// # Errors
//
// Failures are wrapped in *connector.ObjectError (per object) or returned
// wrapped (per call), with the connector package's sentinels and the
// injected errors matchable with errors.Is.
//
// # Concurrency
//
// A System and its Connectors are safe for concurrent use; the exported
// fields are the exception (see System).
package memconn
