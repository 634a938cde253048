// Package connector defines the connector-space object model and the
// interface every connected system implements.
//
// An Object is identified by an immutable Anchor (objectGUID, entryUUID, a
// Graph id), has a DN that may change, an object type from the connector's
// Schema and typed multi-valued Attributes (string, bytes, integer, boolean,
// time, reference). A Change adds, updates (per-attribute add, remove or
// replace of values), deletes or renames one object.
//
// A Connector has four methods: Schema, Import (a full, streaming import
// into an ImportSink with checkpointed watermarks), Export (a batch of
// changes, one ExportResult each) and Close. Optional capabilities are
// separate interfaces that the engine discovers by type assertion:
// DeltaImporter (import since a watermark), Watcher (change notification),
// PasswordSetter (password writeback) and ExportBatcher (preferred batch
// size). Each says what the engine does when it is absent.
//
// # Errors
//
// Per-object failures are *ObjectError values wrapping one of the sentinel
// errors (ErrNoSuchObject, ErrAlreadyExists, ErrConstraint,
// ErrDuplicateValue, ErrAccessDenied, ErrUnavailable, ErrInvalidObject,
// ErrUnsupported, ErrWatermarkExpired); match them with errors.Is.
// IsRetryable tells whether a failure may succeed later; Permanent marks
// one that must not be retried.
//
// # Secrets
//
// Passwords travel as Secret, which formats as "[redacted]" everywhere
// (every fmt verb, reflection over a struct that holds one, log/slog,
// JSON and YAML encoders) except through Reveal. A Secret decodes from a
// JSON or YAML configuration as the text itself, env:NAME (an environment
// variable) or file:PATH (a file's content); SecretFromEnv and
// SecretFromFile do the same from code. Duration is a time.Duration that
// configuration files write as "30s".
//
// # Concurrency
//
// Values, Attributes and Changes are plain data: safe to share once no
// longer modified. The engine runs one import or export at a time per
// engine, but under Engine.Run a Watcher's Watch runs concurrently with
// them; the Connector documentation says exactly which calls overlap.
//
// # Serialisation
//
// Value has a typed text form (MarshalText, "integer:42") and a typed JSON
// form (MarshalJSON, {"type":"integer","value":42}), both of which round-trip
// through the matching Unmarshal method, so that json.Marshal of Attributes, or of
// a struct holding them, keeps every value and its type.
package connector
