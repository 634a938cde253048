// Package ldap is the LDAP and Active Directory connector, on
// github.com/go-ldap/ldap/v3: the on-premises side of the bridge.
//
// # Connection
//
// ldaps:// URLs use TLS; ldap:// URLs are upgraded with StartTLS. The
// server certificate is verified (against Config.CAFile or RootCAs when
// given); plain LDAP needs Config.Plaintext, a deliberate choice.
// Config.InsecureSkipVerify turns verification off, with a warning to
// Config.Logger. The connector binds with a DN and password
// (connector.Secret: never logged, never in an error; a URL carrying
// user-info is refused, without echoing it), dials on first use, and dials again when the
// connection dropped. Every operation honours its context: go-ldap's
// synchronous calls are made to return by closing the connection when the
// context ends.
//
// # Scope and schema
//
// Config.Containers are the subtrees imported, each with subtrees to leave
// out (Entra Connect's OU filtering); Config.Types map object classes (and
// an optional filter) to object types. Unless Config.NoContainerTypes is
// set, the types "organizationalUnit" and "container" are added (those
// whose class the server has and no configured type takes): the container
// hierarchy is part of the connector space, as in Entra Connect, so that
// the rename or move of an OU reaches the engine as an Update of the OU
// (new DN, same anchor) in full and delta imports alike. Neither DirSync
// nor uSNChanged reports the objects under a renamed OU (measured on Samba
// AD: none of 300; Windows behaves the same way): the engine cascades the
// OU's new DN to them. The schema is read from the
// server's subschema subentry: attribute syntaxes become connector types
// (DN → Reference, INTEGER → Integer, Boolean, GeneralizedTime → Time,
// octet strings → Bytes, the rest String), SINGLE-VALUE decides
// single-valuedness, so rules are type-checked against the real directory.
//
// # Import
//
// A full import is a streaming paged search (memory bounded by
// Config.PageSize). Active Directory's ranged retrieval of large attributes
// (member;range=0-1499) is followed until the whole attribute is read.
// Each page — and each DirSync response — is read whole before its
// entries are converted, so that the reads a conversion needs (the rest of
// a large group's members, a renamed object read again) never wait behind
// the search on the same connection: go-ldap has one reader per
// connection, which stalls when a response's buffer is full. The
// anchor is objectGUID on Active Directory (as a GUID string), entryUUID
// elsewhere, or Config.Anchor. DN-valued attributes are references; the
// engine resolves them to anchors, so a renamed member stays linked.
//
// A continuation reference (a referral inside a search) is not followed:
// it is reported to the sink as an object error wrapping
// connector.ErrReferral (its URL as the DN), so that the engine does not
// take the objects behind it for deleted. Values of text types that are
// not valid UTF-8, and DNs that are not, are object errors
// (connector.ErrInvalidObject) carrying the object's anchor, rather than
// text mangled on the way to the target.
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
// Exports write only inside the configured containers: an add, rename,
// move, modification or delete whose DN is outside them, in an excluded
// subtree, or does not parse fails with ErrOutOfScope before it reaches
// the server (a DN built from "cn=" + displayName "Mallory,ou=admins"
// does not write elsewhere).
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
// (retryable). An import that fails part way returns a *StepError naming
// the step (the page search of a container, the DirSync pass of a type)
// and how many entries it had handed on; a delta's watermark then stays
// where it was, so a step that fails the same way every time says that
// the import makes no progress. Wrong credentials give ErrInvalidCredentials, a certificate
// that does not verify ErrUntrustedCertificate. A per-object export failure
// is a *connector.ObjectError in its result; the other changes still run.
//
// # Concurrency
//
// A Connector may be used from several goroutines, but the engine calls it
// from one at a time (Watch aside, which has a connection of its own).
package ldap
