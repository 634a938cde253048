// Package ldap is the LDAP and Active Directory connector, on
// github.com/go-ldap/ldap/v3: the on-premises side of the bridge.
//
// # Connection
//
// ldaps:// URLs use TLS; ldap:// URLs are upgraded with StartTLS. The
// server certificate is verified (against Config.CAFile or RootCAs when
// given); plain LDAP needs Config.Plaintext, a deliberate choice. The
// connector binds with a DN and password (connector.Secret: never logged,
// never in an error), dials on first use, and dials again when the
// connection dropped. Every operation honours its context: go-ldap's
// synchronous calls are made to return by closing the connection when the
// context ends.
//
// # Scope and schema
//
// Config.Containers are the subtrees imported, each with subtrees to leave
// out (Entra Connect's OU filtering); Config.Types map object classes (and
// an optional filter) to object types. The schema is read from the
// server's subschema subentry: attribute syntaxes become connector types
// (DN → Reference, INTEGER → Integer, Boolean, GeneralizedTime → Time,
// octet strings → Bytes, the rest String), SINGLE-VALUE decides
// single-valuedness, so rules are type-checked against the real directory.
//
// # Import
//
// A full import is a streaming paged search (memory bounded by
// Config.PageSize). Active Directory's ranged retrieval of large attributes
// (member;range=0-1499) is followed until the whole attribute is read. The
// anchor is objectGUID on Active Directory (as a GUID string), entryUUID
// elsewhere, or Config.Anchor. DN-valued attributes are references; the
// engine resolves them to anchors, so a renamed member stays linked.
//
// DeltaImport uses what the server offers: RFC 4533 content
// synchronization (refreshOnly) on OpenLDAP, deletes included; DirSync on
// Active Directory, or uSNChanged and tombstones (Show Deleted) for an
// account without replication rights; modifyTimestamp elsewhere (deletes
// are then found by the next full import). Watch uses refreshAndPersist:
// a change reaches the engine in milliseconds.
//
// # Export
//
// Adds (the parent container must exist: ErrParentMissing), modifications
// (add, remove, replace; large multi-valued changes in chunks of
// Config.MaxValuesPerModify values), renames and moves (ModifyDN), deletes.
// SetPassword uses unicodePwd on Active Directory (over TLS only) and the
// Password Modify extended operation elsewhere.
//
// # Errors
//
// Result codes map to the connector sentinels inside a *ResultError:
// noSuchObject → connector.ErrNoSuchObject, entryAlreadyExists →
// ErrAlreadyExists, constraint violations → ErrConstraint (duplicate values
// → ErrDuplicateValue), schema violations → ErrInvalidObject, insufficient
// access → ErrAccessDenied, busy or unavailable → ErrUnavailable
// (retryable). Wrong credentials give ErrInvalidCredentials, a certificate
// that does not verify ErrUntrustedCertificate. A per-object export failure
// is a *connector.ObjectError in its result; the other changes still run.
//
// # Concurrency
//
// A Connector may be used from several goroutines, but the engine calls it
// from one at a time (Watch aside, which has a connection of its own).
package ldap
