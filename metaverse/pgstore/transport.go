package pgstore

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrInsecureTransport is returned by Open (and by CheckTransport, which
// other packages that connect to the store's database use) for a DSN that would connect to
// a remote host without verifying its certificate: sslmode disable,
// allow, prefer (the default of PostgreSQL clients: encryption without
// verification, and plaintext when the server offers no TLS) or require
// without sslrootcert. Use sslmode=verify-full (or verify-ca) with
// sslrootcert; a loopback host (localhost, 127.0.0.0/8, ::1) or a Unix
// socket needs neither.
var ErrInsecureTransport = errors.New("pgstore: connection to PostgreSQL would not be verified")

// CheckTransport refuses a configuration in which any of the ways pgx may
// connect (the first, and the fallbacks sslmode prefer and allow and
// several hosts add) reaches a remote host unencrypted or without
// certificate verification.
func CheckTransport(cfg *pgconn.Config) error {
	tries := append([]*pgconn.FallbackConfig{{Host: cfg.Host, Port: cfg.Port, TLSConfig: cfg.TLSConfig}}, cfg.Fallbacks...)
	for _, t := range tries {
		if local(t.Host) {
			continue
		}
		switch {
		case t.TLSConfig == nil:
			return fmt.Errorf("%w: %s:%d may be reached in plaintext (sslmode disable, allow or prefer, the default); use sslmode=verify-full", ErrInsecureTransport, t.Host, t.Port)
		case t.TLSConfig.InsecureSkipVerify && t.TLSConfig.VerifyPeerCertificate == nil:
			return fmt.Errorf("%w: the certificate of %s:%d would not be verified (sslmode require without sslrootcert); use sslmode=verify-full", ErrInsecureTransport, t.Host, t.Port)
		}
	}
	return nil
}

// local reports whether host is a Unix socket directory or a loopback
// address.
func local(host string) bool {
	if strings.HasPrefix(host, "/") || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
