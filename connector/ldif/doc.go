// Package ldif is a file connector for LDIF (RFC 2849): it imports an LDIF
// export of a directory (ldifde, ldapsearch, slapcat output) and writes
// exported changes as LDIF change records. The quickstart syncs a sample
// Active Directory export through it.
//
// The Reader and Writer are usable alone. NewReader streams records (with
// their line numbers) from any io.Reader; it accepts the version line,
// comments (folded ones too), folded lines, CRLF, "attr:: base64" values
// and DNs, attribute options ("cn;lang-fr", "userCertificate;binary") and
// change records (add, delete, modify, modrdn/moddn). "attr:< URL" values
// are refused (ErrURLValue): a file could otherwise make the reader open
// local files. NewWriter writes content or change records, in base64 where
// a value is not a safe string, folding lines at 76 columns.
//
// # Import
//
// Connector.Import streams the file: it holds one record at a time, plus the
// set of anchors seen (to report duplicates).
//
//   - Config.Types maps objectClass values to the schema's object types;
//     entries that match none (organizational units) are out of scope.
//   - Attributes are matched to the schema case-insensitively and renamed
//     to its spelling; attributes not in the schema are dropped, and so are
//     values with options other than ";binary" (language tags) unless the
//     schema declares the full description.
//   - Values are converted to the schema type: Integer from decimal text,
//     Boolean from TRUE/FALSE, Time from GeneralizedTime
//     ("20240101120000.0Z"), Bytes raw, Reference from a DN as
//     connector.RefValue("", dn) (the engine resolves DNs to anchors).
//   - The anchor is read from Config.Anchor or the type's schema Anchor;
//     a 16-octet Bytes value (objectGUID) becomes its GUID text in Active
//     Directory's mixed-endian form.
//
// Import checkpoints once, at the end, with a fingerprint of the file (its
// size and SHA-256). DeltaImport reports nothing when the file still has
// that fingerprint, and otherwise asks the engine for a full import.
//
// ActiveDirectorySchema is the schema of an AD export's users and groups.
//
// # Export
//
// Connector.Export appends change records to Config.ExportPath, in the
// order of the changes: "changetype: add" (objectClass first, then the
// attributes sorted by name), "changetype: modify" with add:, delete: and
// replace: sections, "changetype: modrdn" (newrdn, deleteoldrdn: 1,
// newsuperior for a move) and "changetype: delete". An Add without anchor
// gets a random UUID, written into the anchor attribute when the schema
// has one, and returned in its ExportResult.
//
// # Errors
//
// A malformed record (bad base64, no dn line, a value that does not convert
// to its schema type, a missing or duplicate anchor, a change record in an
// import) is reported to the sink as a *connector.ObjectError with Op
// "import", the DN when known, Where "file.ldif:LINE" (the record's first
// line) and an error wrapping connector.ErrInvalidObject (a *ParseError,
// which also names the offending line); the import goes on with the next
// record. Failing to open or read the file fails the import.
//
// A change Export cannot express fails alone, with an *connector.ObjectError
// wrapping connector.ErrInvalidObject (no DN, an attribute not in the
// schema, a value of the wrong type, a reference without DN) or
// connector.ErrUnsupported (an object type not in the schema). Export has
// no directory to check against: it cannot report ErrNoSuchObject or
// ErrAlreadyExists. Without ExportPath, Export fails with ErrUnsupported.
//
// # Concurrency
//
// A Connector is meant to be called by one engine: Import, DeltaImport and
// Export must not run concurrently with each other. Close may be called at
// any time; it stops a running import. Readers and Writers are not safe for
// concurrent use.
package ldif
