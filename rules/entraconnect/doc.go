// Package entraconnect is Microsoft Entra Connect Sync's out-of-box sync
// rules as an importable rule set: users, groups and contacts from one or
// more Active Directory forests to Entra ID through the graphsync
// connector, written as rule files (YAML, embedded) that a product loads,
// and overrides the way an Entra Connect administrator clones a default
// rule.
//
//	defaults, err := entraconnect.Load(entraconnect.Options{GroupAnchor: ext})
//	own, err := rules.ParseFile("product-rules.yaml")
//	f, err := entraconnect.Overlay(defaults, own)
//	eng, err := idbridge.New(ctx, idbridge.Config{Rules: f, …})
//
// # The rules
//
// For each forest (Options.Forests; one connector "ad" by default):
//
//	In from AD - User Join           100  projects a user (Provision), joins it (below), sets the source anchor once
//	In from AD - User AccountEnabled 110  enabled accounts: accountEnabled, userPrincipalName, objectSid
//	In from AD - User Exchange       120  Forest.Exchange: mail, proxyAddresses, mailNickname, masterAccountSid
//	In from AD - User Common         130  everything else: names, mail, proxyAddresses, manager, accountEnabled from userAccountControl bit 2, …
//	In from AD - Group Join          140  projects a group, sets its source anchor once
//	In from AD - Group Common        150  names, mail, securityEnabled (groupType bit 0x80000000), member
//	In from AD - Contact Join/Common 160/170  Forest.Contacts: mail-enabled contacts
//	Out to AD - User ImmutableId     100  writes the source anchor back to mS-DS-ConsistencyGuid
//	Out to AD - Group ImmutableId    110  the same for groups
//
// and for the cloud (Options.Cloud, "cloud" by default):
//
//	Out to AAD - User Join           100  provisions a user: onPremisesImmutableId, UPN, accountEnabled, displayName, mailNickname
//	Out to AAD - User Common         110  the other attributes, manager included
//	Out to AAD - Group Join          120  provisions a security group with its members (and Options.GroupAnchor)
//
// The files are metaverse.yaml (the metaverse schema: person, group,
// contact), ad.yaml, exchange.yaml, contacts.yaml, writeback.yaml and
// cloud.yaml. Load copies the forest rules for each forest: the connector
// becomes the forest's, the name gets " (<connector>)" when there are
// several forests, and the precedence grows by the forest's index, so
// that for the same rule the first forest wins, while every forest's
// "AccountEnabled" wins over every forest's "Common" (sign-in attributes
// come from the enabled account, as in Entra Connect's account–resource
// topology). Precedences below 100 are free for a product's rules, which
// then win over every default one, as Entra Connect asks of custom rules.
//
// # Source anchor
//
// The source anchor is mS-DS-ConsistencyGuid when it holds 16 octets,
// else objectGUID, set once (applyOnce) in the metaverse as
// sourceAnchorBinary and, in base64, sourceAnchor, which becomes the
// cloud user's onPremisesImmutableId (and the group's Options.GroupAnchor
// extension: Graph has no onPremisesImmutableId on groups). When the
// anchor came from objectGUID, "Out to AD - User ImmutableId" writes it to
// the empty mS-DS-ConsistencyGuid of that object (applyOnce on the target;
// connector/ldap accepts octets, a GUID string or base64 for it), so that
// the anchor survives a move of the object to another forest.
//
// # Scope
//
// Each inbound rule leaves out, as Entra Connect's out-of-box rules do:
// critical system objects (isCriticalSystemObject), conflict objects
// (CNF: in the RDN), the MSOL_, AAD_ and Sync_ service accounts of the
// sync engines and SUPPORT_388945a0, and Exchange's system and
// arbitration mailboxes by name (SystemMailbox{…}, DiscoverySearchMailbox…,
// FederatedEmail.…, Migration.…). In forests with Exchange, ExchangeScope
// also leaves out the arbitration, discovery and monitoring mailboxes by
// msExchRecipientTypeDetails. The scope is repeated in each rule because
// the engine disconnects an object only when it is out of the scope of
// every inbound rule of its type.
//
// # Joins
//
// With one forest, users are projected and not joined (Entra Connect's
// "users are represented only once across all directories"). Options add
// join groups to "In from AD - User Join": JoinByMail joins the users of
// several forests by mail, case-insensitively; JoinAccountResource joins
// an account forest's enabled user (objectSid) and a resource forest's
// linked mailbox (msExchMasterAccountSid, NT AUTHORITY\SELF excepted),
// whichever is synced first.
//
// # Attributes
//
// The rules read attributes that a forest's connector must import and
// have in its schema: Attributes lists them per object type (for
// connector/ldap's TypeConfig.Attributes). connector/ldif's
// ActiveDirectorySchema has those of users and groups without Exchange.
//
// # Overrides
//
// Overlay layers a product's rule file over the defaults: a rule of the
// same name replaces the default (a clone, keeping its direction,
// connector and types), one with disabled: true disables it, any other is
// added, and metaverse attributes are added. What would be ambiguous is
// refused: see Overlay.
//
// # Deviations from Entra Connect
//
//   - Rule names are unique (the engine requires it): per-forest copies of
//     a rule carry " (<connector>)" when there are several forests, where
//     Entra Connect repeats the name per connector.
//   - Precedences are grouped by rule across forests (above) rather than
//     in one block per connector.
//   - The exclusions are repeated in every inbound rule rather than held
//     by the join rule alone (see Scope). adminDescription (User_ and
//     Group_, objects that group writeback created) is not checked.
//     Objects hidden from address lists (msExchHideFromAddressLists) are
//     synced, as in Entra Connect, but the flag does not flow: graphsync
//     has no showInAddressList.
//   - The source anchor is set once by the forest whose object is synced
//     first (applyOnce); to take it from a given forest, override the
//     other forests' "In from AD - User Join".
//   - Distribution groups stay on-premises, and mail-enabled security
//     groups are created as plain security groups: Graph cannot create
//     mail-enabled groups other than Microsoft 365 groups. Contacts reach
//     the metaverse only: Graph cannot create synced organizational
//     contacts. Devices are not included.
//   - proxyAddresses is read-only in Graph: the primary SMTP address
//     reaches the cloud as mail, from which Entra ID derives proxyAddresses
//     (mail falls back to the SMTP: address of proxyAddresses when AD has
//     no mail, as Entra Connect does).
//   - A user without userPrincipalName gets sAMAccountName@ the DNS name
//     made of the DN's DC= RDNs, where Entra Connect uses %Domain.FQDN%.
//   - Not included: cloudFiltered, extensionAttribute1–15 and
//     msDS-cloudExtensionAttribute*, Lync/Skype (msRTCSIP-*) rules, the
//     250,000-member group limit, and joins by sAMAccountName+mailNickname
//     or a chosen attribute (add them in an overlay).
//
// # Errors
//
// Load returns errors matching ErrInvalidOptions. Overlay returns every
// problem found, joined, each an *OverrideError matching
// ErrInvalidOverride with the position of the product's rule. The rules
// themselves are type-checked by rules.Compile (idbridge.New), against
// the connectors' schemas.
//
// # Concurrency
//
// Load and Overlay return new Files and keep no state: they are safe for
// concurrent use. A File is not; the engine compiles its own Set.
package entraconnect
