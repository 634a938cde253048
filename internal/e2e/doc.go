// Package e2e holds the end-to-end test of the whole path an administrator
// runs: Active Directory (the Samba AD DC of `make test`, with a directory
// of realistic shape built by internal/addir) → the LDAP connector → the
// engine → graphsync → the Graph emulator (graphsync/graphtest). The test
// compares what the emulator holds with an expectation it computes from
// the directory with LDAP reads of its own, not through the engine.
package e2e
