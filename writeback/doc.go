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
// # Group writeback
//
// Group writeback is rules, shipped embedded (rules/group-writeback.yaml)
// and loaded by GroupRules.File: AD users synced to the cloud and joined
// back by their source anchor (objectGUID → onPremisesImmutableId), cloud
// security and Microsoft 365 groups (not those synced from on premises)
// projected into the metaverse from graphsync, and an outbound rule that
// provisions them into GroupRules.OU as universal groups — security groups
// stay security groups, Microsoft 365 groups become distribution groups —
// with their members resolved to the users' AD accounts; cloud-only
// members have no AD account and are left out. The CN (default
// DefaultGroupName: display name and the last 12 characters of the object
// id, as Entra Connect's group writeback v2) and the sAMAccountName are
// CEL expressions of GroupRules; the CN is escaped. A group deleted in the
// cloud is deleted in AD. The written-back group stays linked to its cloud
// entry, so it never comes back to the cloud as a second group (the cloud
// connector is configured with graphsync's NoGroupCreates).
//
// # Device writeback
//
// Device writeback is rules too (rules/device-writeback.yaml, loaded by
// DeviceRules.File): devices registered or joined in Entra ID, read by
// graphsync with their registered owner, are written as msDS-Device
// objects into a device container, CN=RegisteredDevices,<domain> by Entra
// Connect's convention, where AD FS reads them for on-premises conditional
// access. The object is named by the device id and carries what Entra
// Connect writes and Samba's schema has:
//
//	displayName            the device's displayName
//	msDS-DeviceID          the device id, as a GUID in AD's byte order (guidBytes)
//	msDS-DeviceOSType      operatingSystem
//	msDS-DeviceOSVersion   operatingSystemVersion
//	msDS-IsEnabled         accountEnabled: disabling the device in the cloud disables it in AD
//	msDS-RegisteredOwner   the registered owner's on-premises SID, binary (sidBytes);
//	                       absent for a cloud-only owner, who has none
//	altSecurityIdentities  the certificate entries of alternativeSecurityIds
//	                       ("X509:<SHA1-TP-PUBKEY>…")
//	msDS-CloudAnchor       "Device_{cloud object id}"
//
// A device deleted in the cloud is deleted in AD. Hybrid-joined devices
// (trustType ServerAd, or synced from AD) came from AD and are not written
// back; nor is a device without a certificate identity, since AD requires
// altSecurityIdentities and msDS-DeviceID on msDS-Device.
//
// Samba's schema (objectVersion 69, the Windows Server 2012 R2 schema) has
// msDS-Device and msDS-DeviceContainer with the attributes above, and also
// msDS-DevicePhysicalIDs, msDS-IsManaged, msDS-CloudIsManaged,
// msDS-RegisteredUsers, msDS-DeviceObjectVersion and
// msDS-ApproximateLastLogonTimeStamp, which the rule set does not write. It
// lacks the Windows Server 2016 attributes msDS-DeviceTrustType and
// msDS-IsCompliant. msDS-DeviceContainer may only be created directly
// under the domain. PrepareDeviceContainer creates the container, as the
// container part of Entra Connect's Initialize-ADSyncDeviceWriteback does;
// the Device Registration Service configuration and the account's rights
// are an administrator's.
//
// The AD connector of device writeback declares DeviceType (object class
// msDS-Device, attributes DeviceAttributes) and, for
// PrepareDeviceContainer, DeviceContainerType (msDS-DeviceContainer), with
// the container in its scope. Graph does not document a device delta
// reporting a change of the device's owner: graphsync reads the owner of
// every device a delta round reports and of all devices in a full import,
// so an owner change alone reaches AD at the next full import.
//
// Merge combines the shipped rule sets (or them and a product's own) into
// the one file the engine takes.
//
// # Errors
//
// Match with errors.Is: ErrUserNotFound, ErrNotSynced, ErrAmbiguousUser,
// ErrInvalidRequest, ErrRateLimited (a *RateLimitError), ErrUnauthenticated
// (from an Authenticator), ErrDeviceContainer (from PrepareDeviceContainer,
// wrapping the connector's error), and the connector package's password errors
// above, connector.ErrUnavailable and connector.ErrUnsupported (a directory
// connector that cannot change or unlock).
//
// # Concurrency
//
// A PasswordService and its Handler are safe for concurrent use. The service
// only reads the store; it may run beside the engine's run profiles. The
// rule set loaders return a new rules.File on each call.
package writeback
