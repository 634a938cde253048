// Package entraconnect is Microsoft Entra Connect Sync's out-of-box sync
// rules as an importable rule set: users, groups and contacts from one or
// more Active Directory forests to Entra ID through the graphsync
// connector.
package entraconnect
