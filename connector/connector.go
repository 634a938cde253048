package connector

import (
	"context"
)

// Connector is what a connected system implements: read its schema, import
// its objects, export changes to it. The engine, not the connector, keeps the
// connector space, the watermarks and the pending exports; a connector holds
// only a connection and its configuration.
//
// # Concurrency
//
// The engine runs one run profile at a time, so it never calls Schema,
// Import, DeltaImporter.DeltaImport and Export concurrently with one
// another. Two calls may overlap all the same:
//
//   - Watcher.Watch: under Engine.Run, Watch runs in a goroutine of its own
//     for as long as Run does, concurrently with the imports and exports of
//     the cycles it triggers. A connector that implements Watcher must allow
//     that (typically Watch holds a connection of its own).
//   - Close: the engine never calls it (Engine.Close closes neither store
//     nor connectors); its owner may, while a call is running, to stop it.
//     The running call then returns an error.
//
// Beyond that, an implementation need not be safe for concurrent use; a
// program that calls a connector itself while an engine uses it must
// serialise its calls with the engine's runs.
type Connector interface {
	// Schema returns the object types and attributes this connector
	// imports and exports. The engine calls it once, in idbridge.New, and
	// keeps the result for its lifetime: Engine.SetRules checks new rules
	// against that schema without calling Schema again, so a schema change
	// in the connected system needs a new Engine.
	Schema(ctx context.Context) (*Schema, error)

	// Import reads every object in scope and hands each to sink as an Add.
	// The engine treats an object it held before but that this import did
	// not report as deleted, so a full import must report all objects, and
	// must fail rather than return early.
	//
	// An object that cannot be read (a malformed entry, an unparsable value)
	// is reported with sink.Error and the import goes on. A failure of the
	// whole import (the server went away) is returned, and the engine keeps
	// what was staged up to the last checkpoint.
	//
	// Before it returns, Import calls sink.Checkpoint with the watermark from
	// which a later DeltaImport will start (nil when the connector has no
	// delta capability).
	Import(ctx context.Context, sink ImportSink) error

	// Export applies changes in order and returns one result per change, in
	// the same order. A change that fails is reported in its result and the
	// others still run; the error return is only for a failure of the whole
	// call (for example the connection could not be opened), in which case
	// the engine treats every change as not applied. Export receives at most
	// ExportOptions.BatchSize changes at a time.
	Export(ctx context.Context, changes []Change) ([]ExportResult, error)

	// Close releases the connector's resources.
	Close() error
}

// ImportSink receives what an import reads. Its methods must not be called
// concurrently.
type ImportSink interface {
	// Object stages one change. Imports report Add (the object as it is
	// now), Update (only some attributes or values changed, or a rename)
	// and Delete. A non-nil error (the context was cancelled, the store
	// failed) must end the import with that error.
	Object(ctx context.Context, c Change) error

	// Error reports an object that could not be read. The import goes on.
	Error(ctx context.Context, err *ObjectError) error

	// Checkpoint records that everything reported so far is covered by
	// watermark: if the import stops later, the next delta import resumes
	// from here. The engine commits staged objects and the watermark
	// together, so a connector should call it at natural boundaries (a page,
	// a DirSync cookie) and once at the end.
	Checkpoint(ctx context.Context, watermark []byte) error
}

// DeltaImporter is implemented by connectors that can import only what
// changed since a watermark. Without it, the engine's delta import runs a
// full import.
type DeltaImporter interface {
	// DeltaImport reports the changes since watermark to sink. It calls
	// sink.Checkpoint as Import does. If the watermark can no longer be
	// used (it expired, the server lost its change log) it returns an error
	// wrapping ErrWatermarkExpired and the engine runs a full import.
	DeltaImport(ctx context.Context, watermark []byte, sink ImportSink) error
}

// Watcher is implemented by connectors that can say when something changed
// (LDAP persistent search, syncrepl refreshAndPersist, Graph change
// notifications). Without it, Engine.Run starts cycles only at its
// Schedule.Interval.
//
// Watch runs concurrently with the connector's other methods (see
// Connector): Engine.Run calls it in a goroutine of its own while cycles
// import from and export to the same connector.
type Watcher interface {
	// Watch blocks until ctx is done or the watch fails, calling notify
	// (possibly many times, never concurrently) when the connected system
	// has changes that a DeltaImport would return. notify does not block.
	//
	// When ctx is done, Watch returns promptly, with nil or ctx's error;
	// the engine ignores what it returns then. Any other return is a
	// failure of the watch: the engine logs it and calls Watch again.
	// A connector that finds it cannot watch this connected system (no
	// persistent search, no syncrepl) returns an error wrapping
	// ErrUnsupported.
	Watch(ctx context.Context, notify func()) error
}

// PasswordSetter is implemented by connectors that can set an object's
// password (AD unicodePwd, LDAP Password Modify, Graph passwordProfile).
// Without it, password writeback to that connector fails with ErrUnsupported.
type PasswordSetter interface {
	// SetPassword sets the password of the object with the given anchor and
	// DN. The connector must never log or wrap the password in an error.
	SetPassword(ctx context.Context, anchor Anchor, dn string, password Secret) error
}

// ExportBatcher is implemented by connectors that want export batches of a
// particular size (Graph's $batch takes 20 requests). Without it, or when
// ExportBatchSize returns 0 or less, the engine sends batches of its
// Options.ExportBatchSize (default 100).
type ExportBatcher interface {
	// ExportBatchSize returns the largest number of changes one Export
	// call should receive.
	ExportBatchSize() int
}

// AddMatcher is implemented by connectors whose connected system names new
// objects itself (Graph's users/{id}), so that an object created by an Add
// cannot be recognised afterwards by its DN. It names, per object type, the
// attributes whose values identify an object this engine created (Graph:
// onPremisesImmutableId for users, the group anchor extension for groups).
// When an import reports an object the engine does not know whose value of
// one of these attributes equals that of an Add whose outcome was not
// recorded (a crash, a lost response), the engine adopts the imported object
// as the result of that Add instead of staging a second object, and never
// sends the Add again.
type AddMatcher interface {
	// MatchAttributes returns the identifying attributes of objects of
	// type typ, or nil when objects of that type can only be matched by DN.
	MatchAttributes(typ string) []string
}
