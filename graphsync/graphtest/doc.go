// Package graphtest is an in-process emulator of the Microsoft Graph v1.0
// directory API (users, groups, devices, directory roles), for testing
// and benchmarking graphsync without a tenant.
//
// [NewServer] starts an HTTPS server on a loopback port; point a Graph
// client at URL()+"/v1.0" and use Client() (or its Transport) to trust the
// certificate. The emulator is plain net/http: it does not depend on the
// Graph SDK, although its tests drive it through msgraph-sdk-go.
//
// What is emulated, each following the learn.microsoft.com page cited in
// the code:
//
//   - CRUD on /users (also addressed by userPrincipalName), /groups,
//     /devices; read-only /directoryRoles, /directoryObjects/{id},
//     /domains; /users/{id}/memberOf; group members and owners with
//     $ref add/remove and members@odata.bind / owners@odata.bind; a
//     user's manager by GET /users/{id}/manager and PUT / DELETE
//     /users/{id}/manager/$ref (a deleted manager leaves its reports);
//     the registeredOwners of devices (list, $ref add/remove, one user
//     per device), and SetSyncProperties for the read-only on-premises
//     properties of users (onPremisesSecurityIdentifier, …).
//   - Validation: required properties on create, read-only and unknown
//     properties, verified UPN domains, directory extension properties
//     (extension_<32 hex>_<name>); tenant-wide case-insensitive uniqueness
//     of userPrincipalName, onPremisesImmutableId and proxy addresses
//     (mail adds "SMTP:"+mail to proxyAddresses) with Graph's
//     ObjectConflict error.
//   - Lists with $select, $filter (eq, ne, in, startsWith, endsWith,
//     lt/le/gt/ge, any() lambdas, and/or/not; strings compared
//     case-insensitively), $top (1..999), $count and /$count (which need
//     ConsistencyLevel: eventual), and @odata.nextLink paging.
//   - Delta queries on users, groups and devices (/delta and /delta()),
//     with self-contained signed tokens, @removed for deleted objects
//     (reason "deleted"), members@delta for groups and manager@delta for
//     users (when manager is in $select).
//   - JSON $batch with dependsOn and 424 Failed Dependency, at most 20
//     requests.
//   - Bearer authentication, gzip request bodies, latency, injected 429
//     and 503 with Retry-After, and a fixed-window write budget.
//
// The direct-state methods (CreateUser, AddMember, Object, …) seed and
// inspect the tenant without going through HTTP. Their changes show up in
// delta queries, but they are not logged, throttled or budgeted.
//
// Deliberate simplifications: DELETE is permanent (no deleted-items
// container; delta reports reason "deleted"); incremental delta rounds
// return every selected property of a changed object rather than only the
// changed ones; $orderby, $search, $expand and $skip are refused with 400,
// as is $filter on delta queries (delta honours $select, $top and
// Prefer: odata.maxpagesize); manager and other navigation properties,
// orgContacts and service principals are not modelled.
//
// The request log (Server.Requests) is in arrival order; an entry's Status
// is 0 while its request is still in flight.
//
// # Errors
//
// HTTP errors use Graph's body {"error":{"code","message","details",
// "innerError":{"date","request-id","client-request-id"}}} and statuses
// (400 Request_BadRequest, 401 InvalidAuthenticationToken, 404
// Request_ResourceNotFound, 410 resyncRequired for an expired delta token,
// 424 FailedDependency in a batch, 429 TooManyRequests and 503 with
// Retry-After). Direct-state methods return errors wrapping
// [ErrNotFound], [ErrConflict] or [ErrInvalid]; test them with errors.Is.
//
// # Concurrency
//
// A [Server] is safe for concurrent use: HTTP requests and direct-state
// calls may run in parallel. One mutex guards the directory; lookups by
// id, userPrincipalName, mail and onPremisesImmutableId are indexed so
// that writes do not scan the tenant. $batch sub-requests of one batch run
// sequentially in dependency order. Close waits for outstanding requests.
package graphtest
