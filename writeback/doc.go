// Package writeback writes what changes in the cloud back to the
// on-premises directory, as Entra Connect's writeback features do.
//
// # Password writeback
//
// A PasswordService takes a password change or reset made in the cloud
// (Entra ID self-service password reset, or a product's own portal) for a
// cloud user named by its object id, user principal name or source anchor,
// resolves it through the engine's metaverse to the user's objects in the
// on-premises directories, and sets the password there:
//
//   - a reset (no current password) through connector.PasswordSetter —
//     Active Directory: unicodePwd replaced over TLS, which applies length
//     and complexity but not history, as an administrator's reset does;
//     OpenLDAP: Password Modify (RFC 3062) by the connector's account;
//   - a change (the current password given) through
//     connector.PasswordChanger — Active Directory: one modify deleting the
//     old unicodePwd and adding the new one, so that AD also enforces
//     history and minimum age; OpenLDAP: Password Modify bound as the user,
//     so that the ppolicy overlay checks quality and history;
//   - optionally an unlock of an account locked out by failed sign-ins
//     (connector.AccountUnlocker: lockoutTime = 0 on AD; on OpenLDAP the
//     ppolicy overlay's pwdAccountLockedTime removed). A reset alone leaves
//     an AD account locked, as in AD.
//
// A user that is not in the metaverse is ErrUserNotFound; one whose entry
// has no object in a directory that takes writeback (a cloud-only user, or
// one out of the sync scope) is ErrNotSynced, and the cloud should change the
// password itself. Refusals by the directory come back as the connector
// package's typed errors: a *connector.PasswordPolicyError naming the rule
// (too-short, complexity, history, too-young, or policy when the directory
// does not say: Windows answers only 0000052D and OpenLDAP "fails quality
// checking policy" for every quality rule), connector.ErrWrongPassword,
// connector.ErrAccountLocked, connector.ErrAccountDisabled. Outcome names
// them for an API or a metric.
//
// Requests are rate limited per user (whatever names it) and in all
// (Limits, default 5 per user per 15 minutes and 50 per second); a refused
// one is a *RateLimitError saying when to retry.
//
// PasswordService.Handler is an http.Handler a product mounts behind its own
// Authenticator (BearerTokens is a simple one): a JSON POST in, a Response
// with an HTTP status per outcome out (422 for a policy refusal, 429 with
// Retry-After for a rate limit, …). Every request, refused ones included,
// gives one audit record (slog, level Info) with the caller, the user, the
// operation and the outcome.
//
// The password exists only as a connector.Secret handed to the connector: it
// is never stored, logged, put in an error or a response, or counted in a
// metric. The tests scan everything the service logs and answers for the
// passwords they use.
//
// What the directories allow and what they do not: AD takes a password only
// over an encrypted connection (ldaps:// or StartTLS), and the connector
// refuses before sending one in clear. The connector's account needs the
// "Reset password" right (and "Write lockoutTime" to unlock) on the synced
// OUs, as Entra Connect's AD DS connector account does. OpenLDAP's ppolicy
// does not check a password set by the directory's root DN: give the
// connector an account that is not the root DN when resets must follow the
// policy too.
//
// # Errors
//
// Match with errors.Is: ErrUserNotFound, ErrNotSynced, ErrAmbiguousUser,
// ErrInvalidRequest, ErrRateLimited (a *RateLimitError), ErrUnauthenticated
// (from an Authenticator), and the connector package's password errors
// above, connector.ErrUnavailable and connector.ErrUnsupported (a directory
// connector that cannot change or unlock).
//
// # Concurrency
//
// A PasswordService and its Handler are safe for concurrent use. The service
// only reads the store; it may run beside the engine's run profiles.
package writeback
