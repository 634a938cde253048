package pgstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTransportMustBeVerified(t *testing.T) {
	ca := writeCA(t)
	t.Setenv("PGSSLMODE", "")
	tests := []struct {
		dsn string
		ok  bool
	}{
		{"postgres://u:pw@db.example.com/idbridge", false}, // sslmode=prefer by default
		{"postgres://u:pw@db.example.com/idbridge?sslmode=disable", false},
		{"postgres://u:pw@db.example.com/idbridge?sslmode=allow", false},
		{"postgres://u:pw@db.example.com/idbridge?sslmode=require", false},
		{"host=192.0.2.1 user=u password=pw sslmode=prefer", false},
		{"postgres://u:pw@127.0.0.1,db.example.com/idbridge?sslmode=disable", false}, // a remote second host
		{"postgres://u:pw@db.example.com/idbridge?sslmode=verify-full&sslrootcert=" + ca, true},
		{"postgres://u:pw@db.example.com/idbridge?sslmode=verify-ca&sslrootcert=" + ca, true},
		{"postgres://u:pw@db.example.com/idbridge?sslmode=require&sslrootcert=" + ca, true}, // libpq: verify-ca
		{"postgres://u:pw@127.0.0.1:5432/idbridge?sslmode=disable", true},
		{"postgres://u:pw@[::1]:5432/idbridge", true},
		{"postgres://u:pw@localhost/idbridge?sslmode=prefer", true},
		{"host=/var/run/postgresql user=u sslmode=disable", true},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			cfg, err := pgconn.ParseConfig(tt.dsn)
			require.NoError(t, err)
			err = CheckTransport(cfg)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInsecureTransport)
			assert.NotContains(t, err.Error(), "pw")
		})
	}
}

func TestOpenRefusesAnUnverifiedRemoteHost(t *testing.T) {
	t.Setenv("PGSSLMODE", "")
	// Refused before any connection is tried: no server is needed.
	_, err := Open(context.Background(), "postgres://u:Sekr1t-pg-vw2@db.example.invalid/idbridge", nil)
	require.ErrorIs(t, err, ErrInsecureTransport)
	assert.NotContains(t, err.Error(), "Sekr1t-pg-vw2")
}

// writeCA writes a self-signed CA certificate to a file and returns its
// path; only its parsing matters here.
func writeCA(t *testing.T) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return path
}
