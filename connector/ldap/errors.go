package ldap

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
)

// Errors of this package, beyond the connector sentinels that every
// ResultError also matches.
var (
	// ErrInvalidCredentials: the bind DN or password was refused (result
	// 49). It matches connector.ErrAuth and connector.ErrAccessDenied too.
	ErrInvalidCredentials = fmt.Errorf("ldap: invalid credentials: %w: %w", connector.ErrAuth, connector.ErrAccessDenied)
	// ErrUntrustedCertificate: the server's certificate did not verify
	// against the configured CA pool.
	ErrUntrustedCertificate = errors.New("ldap: server certificate not trusted")
	// ErrParentMissing: an add whose parent container does not exist. It
	// matches connector.ErrNoSuchObject too.
	ErrParentMissing = fmt.Errorf("ldap: parent container does not exist: %w", connector.ErrNoSuchObject)
	// ErrOutOfScope: an export names a DN outside the configured
	// containers (or in an excluded subtree), or one that does not parse:
	// a DN built from a value such as displayName "Mallory,ou=admins"
	// must not write elsewhere in the directory. It matches
	// connector.ErrInvalidObject too.
	ErrOutOfScope = fmt.Errorf("ldap: DN outside the configured containers: %w", connector.ErrInvalidObject)
	// ErrTLSRequired: an operation that must not run on a plain connection
	// (setting unicodePwd).
	ErrTLSRequired = errors.New("ldap: operation requires a TLS connection")
)

// StepError is the failure of one step of an import: a page of a paged
// search, a DirSync or uSNChanged pass, the ranged reads of a group. Step
// names it ("full import of OU=Sales,DC=example,DC=test", "DirSync of
// type group") and Read says how many entries of the step were handed on
// before it failed. The import cannot continue past it: a delta import's
// watermark stays where it was, so the next attempt meets the same step
// again, and an error that does not change between attempts (a server that
// times out on the same response) says the import makes no progress.
// Match it with errors.As; it wraps the cause (a *ResultError, which
// matches connector.ErrUnavailable when the server timed out or the
// connection dropped).
type StepError struct {
	Step string
	Read int
	Err  error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("ldap: %s failed after %d entries: %v", e.Step, e.Read, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// ResultError is an LDAP result code the server returned, with the
// connector sentinel it maps to.
type ResultError struct {
	Code     uint16
	Message  string // the server's diagnostic message
	sentinel error
	err      error
}

func (e *ResultError) Error() string {
	s := fmt.Sprintf("ldap: %s (%d)", ldap.LDAPResultCodeMap[e.Code], e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap returns the connector sentinel and go-ldap's error.
func (e *ResultError) Unwrap() []error {
	if e.sentinel == nil {
		return []error{e.err}
	}
	return []error{e.sentinel, e.err}
}

// sentinelOf maps an LDAP result code to a connector sentinel.
func sentinelOf(code uint16) error {
	switch code {
	case ldap.LDAPResultNoSuchObject:
		return connector.ErrNoSuchObject
	case ldap.LDAPResultEntryAlreadyExists:
		return connector.ErrAlreadyExists
	case ldap.LDAPResultAttributeOrValueExists:
		return connector.ErrDuplicateValue
	case ldap.LDAPResultConstraintViolation, ldap.LDAPResultNoSuchAttribute, ldap.LDAPResultNotAllowedOnNonLeaf,
		ldap.LDAPResultNotAllowedOnRDN, ldap.LDAPResultUnwillingToPerform, ldap.LDAPResultObjectClassModsProhibited:
		return connector.ErrConstraint
	case ldap.LDAPResultInvalidAttributeSyntax, ldap.LDAPResultUndefinedAttributeType, ldap.LDAPResultObjectClassViolation,
		ldap.LDAPResultNamingViolation, ldap.LDAPResultInvalidDNSyntax, ldap.LDAPResultInappropriateMatching:
		return connector.ErrInvalidObject
	case ldap.LDAPResultInsufficientAccessRights, ldap.LDAPResultInappropriateAuthentication,
		ldap.LDAPResultStrongAuthRequired, ldap.LDAPResultConfidentialityRequired:
		return connector.ErrAccessDenied
	case ldap.LDAPResultInvalidCredentials:
		return ErrInvalidCredentials
	case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable, ldap.LDAPResultServerDown, ldap.ErrorNetwork,
		ldap.LDAPResultTimeLimitExceeded, ldap.LDAPResultTimeout, ldap.LDAPResultConnectError, ldap.LDAPResultAdminLimitExceeded:
		return connector.ErrUnavailable
	}
	return nil
}

// mapErr turns a go-ldap error into a ResultError matching the connector
// sentinels; TLS verification failures into ErrUntrustedCertificate.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var re *ResultError
	if errors.As(err, &re) || errors.Is(err, ErrUntrustedCertificate) {
		return err // mapped already
	}
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	var ve *tls.CertificateVerificationError
	if errors.As(err, &ue) || errors.As(err, &he) || errors.As(err, &ve) {
		return fmt.Errorf("%w: %w", ErrUntrustedCertificate, err)
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		// go-ldap reports a failed StartTLS handshake as a network error
		// whose text alone tells a certificate problem.
		if errors.As(le.Err, &ue) || errors.As(le.Err, &he) || errors.As(le.Err, &ve) ||
			le.Err != nil && strings.Contains(le.Err.Error(), "failed to verify certificate") {
			return fmt.Errorf("%w: %w", ErrUntrustedCertificate, err)
		}
		msg := ""
		if le.Err != nil {
			msg = le.Err.Error()
		}
		if le.MatchedDN != "" {
			msg += " (matched " + le.MatchedDN + ")"
		}
		return &ResultError{Code: le.ResultCode, Message: msg, sentinel: sentinelOf(le.ResultCode), err: err}
	}
	if isConnErr(err) {
		return fmt.Errorf("ldap: connection lost: %w: %w", connector.ErrUnavailable, err)
	}
	return err
}
