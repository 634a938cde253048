// Package graphsync is the Microsoft Entra ID connector: users, groups
// (with members) and devices through Microsoft Graph v1.0, on the official
// Go SDK (github.com/microsoftgraph/msgraph-sdk-go). It is the only
// package of idbridge that imports the SDK, whose build is heavy (minutes
// and gigabytes on a cold cache): programs that do not sync to Entra ID
// never pay for it.
//
// # Connection
//
// Config.Credential is any azcore.TokenCredential: an azidentity client
// secret, certificate or managed identity credential in production,
// StaticToken against an emulator, or SecretToken for a token read as a
// connector.Secret (env:, file:). A Connector and a StaticToken print as
// redacted with every fmt verb and through log/slog; New keeps a
// token as a connector.Secret. Tokens go only to the host of Config.BaseURL,
// over https (plain http only on loopback). A credential Entra ID refuses
// (400/401 from the token endpoint: invalid_client, a wrong or expired
// secret) fails with connector.ErrAccessDenied, marked permanent: it is not
// retried until the configuration changes. Requests go through the SDK's
// middleware: its retry handler (configured: the SDK's panics when
// ShouldRetry is unset) honours Retry-After on 429, 503 and 504, capped at
// Config.MaxRetryAfter (default 5 minutes: a Retry-After of a day would
// stop every worker for a day); request bodies are gzip-compressed.
//
// # Import
//
// A full import is a first delta round of each type
// (/users/delta, /groups/delta, /devices/delta with $select of the
// schema's properties, which Config.Select narrows to what the rules
// use): the objects page by page, group members as
// members@delta (a $expand would stop at 20 members), and at the end the
// @odata.deltaLink kept as the watermark. A delta import follows the
// links: changed objects are Updates of the properties Graph returns,
// members@delta are member additions and removals, @removed objects are
// Deletes. A user's manager (a reference) is read from the user delta's
// manager@delta, in full and delta imports, and exported by
// PUT /users/{id}/manager/$ref, or DELETE when it is removed. Group owners are not in Graph's delta: a full import reads
// them (20 groups per $batch) and exports add and remove them by $ref;
// an owner changed in the cloud shows at the next full import. Devices
// come with their registered owner, read for every device a round reports
// (GET /devices/{id}/registeredOwners, 20 devices per $batch): the
// reference as registeredOwners and the owner's
// onPremisesSecurityIdentifier as registeredOwnerSecurityIdentifier
// (DeviceOwnerSID), what device writeback writes to msDS-RegisteredOwner;
// alternativeSecurityIds are given as the text of their certificate keys
// (X509:<SHA1-TP-PUBKEY>…, AD's altSecurityIdentities). A watermark
// Graph no longer accepts (410 Gone) fails with
// connector.ErrWatermarkExpired, and the engine runs a full import. An
// object's anchor is its id; its DN is its Graph path, users/{id}.
//
// # Export
//
// Changes go out in JSON batches of 20 requests
// (https://learn.microsoft.com/graph/json-batching), Config.Concurrency
// batches at a time: POST to create, PATCH of the changed properties only,
// DELETE; members are added with members@odata.bind, 20 per request, and
// removed with $ref; the requests of one change that must run in order
// are chained with dependsOn. Users are created with a random password
// (Graph requires one; the synced user signs in with the password that
// hash sync or writeback sets).
//
// Writes are paced at Config.WriteBudget (default: Graph's 3,000 writes
// per 150 seconds for one application in one tenant), so that the export
// runs at the allowed rate and not above it; a throttled request (429 or
// 503, alone or inside a batch) is sent again after Graph's Retry-After,
// and all workers pause and halve their concurrency, growing back after a
// run of unthrottled batches. A request that still fails after
// Config.MaxAttempts fails its change alone; the others are applied.
//
// # Exactly-once creates
//
// Graph names the objects it creates (users/{id}), so a create cannot be
// recognised afterwards by a name the connector chose, and Graph has no
// idempotency key. A create is therefore recognised by the source anchor
// it carries: onPremisesImmutableId for users, the directory extension
// Config.GroupAnchor for groups (which is why groups are created only
// with one: New refuses a configuration that includes groups without a
// GroupAnchor, unless Config.NoGroupCreates, and a group Add without a
// value of it fails with connector.ErrInvalidObject).
//
//   - A lost response: when a create fails in a way that may have been
//     applied (a 5xx, a 504 of the $batch, a connection reset, a timeout, a
//     truncated body, a $batch response without the request), the
//     connector looks the object up by its anchor before sending the
//     create again. Found, the create was applied: its id is the Add's
//     anchor, and what followed the create (members beyond the first 20)
//     is sent. A throttled (429) or not-run (424) create is sent again
//     without a look-up. A user without an onPremisesImmutableId is looked
//     up by userPrincipalName and taken as created only if it holds every
//     value the create sent.
//   - A create the engine did not record (a crash after Graph applied it):
//     the engine sends the Add again, or adopts the object its next import
//     reports, through connector.AddMatcher, which the Connector
//     implements with the same attributes. A group Add looks for a group
//     carrying its anchor before creating one; a user Add that collides on
//     a unique property (userPrincipalName, proxyAddresses) with a user
//     carrying its own onPremisesImmutableId takes that user over: it is
//     never quarantined, nor treated as a duplicate.
//   - A delete sent again after a lost response finds the object gone,
//     which is its outcome; a first delete of a missing object still
//     reports connector.ErrNoSuchObject.
//
// Limits: Graph's directory is eventually consistent, and a look-up made
// right after a lost response may not see an object created a moment
// before on another replica. For users the second create then collides
// on onPremisesImmutableId or userPrincipalName and is resolved as above;
// a group has no unique property, so a group created in that window could
// be made twice (the engine's next import then reports two groups with
// one anchor). An object created without an anchor (a user without
// onPremisesImmutableId whose values changed between the attempts) cannot
// be recognised.
//
// # Matching and duplicate attributes
//
// As Entra Connect does: a user create whose onPremisesImmutableId is
// already held is a hard match (the existing cloud user is taken over and
// updated). With Config.SoftMatch, a create that collides on
// userPrincipalName or primary SMTP address takes over that user, unless
// it holds a directory role or is anchored to another source object.
// Otherwise the conflicting value is quarantined: a userPrincipalName
// becomes prefix+4 digits@initial domain, a mail is left out, and the
// change succeeds with a warning in its ExportResult; a conflict with a
// user carrying the create's own onPremisesImmutableId is that user, never
// a quarantine. Graph has no onPremisesImmutableId on groups:
// Config.GroupAnchor names a directory extension that carries the source
// anchor and is looked up before a group is created.
//
// # What Graph allows
//
// Objects created through Graph are cloud objects that carry
// onPremisesImmutableId; onPremisesSyncEnabled is set only by Microsoft's
// own sync service, which uses a private endpoint. An Entra ID tenant
// accepts about 18,000 writes per 5 minutes from all applications
// (3,000 per 150 s for one): an initial export of 100,000 users takes
// hours through Graph whatever the client, and the connector's pacing
// makes that time predictable rather than a storm of 429s.
//
// # Errors
//
// Graph's error responses are *Error values (status, code, message, the
// conflicting property) that wrap the connector sentinels:
// connector.ErrDuplicateValue for uniqueness conflicts,
// connector.ErrNoSuchObject for 404, connector.ErrAccessDenied for 401
// and 403, connector.ErrUnavailable for throttling and 5xx,
// connector.ErrWatermarkExpired for an expired delta link,
// connector.ErrConstraint for other refusals. Transport failures wrap
// connector.ErrUnavailable; a refused credential wraps
// connector.ErrAccessDenied and is permanent (connector.IsRetryable is
// false).
//
// # Concurrency
//
// A Connector is safe for concurrent use. Export runs up to
// Config.Concurrency batch requests at once.
//
// The package graphtest is an in-process Graph emulator for tests.
package graphsync
