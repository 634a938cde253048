package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"

	ldap "github.com/go-ldap/ldap/v3"
)

// session holds the connection of a Connector, dialling and binding on
// first use and again after the connection dropped.
type session struct {
	cfg Config
	tls *tls.Config

	mu   sync.Mutex
	conn *ldap.Conn
}

func newSession(cfg Config) (*session, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, err
	}
	host := u.Hostname()
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs, InsecureSkipVerify: cfg.InsecureSkipVerify}
	if cfg.ServerName != "" {
		tc.ServerName = cfg.ServerName
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldap: caFile: %w", err)
		}
		pool := cfg.RootCAs
		if pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldap: caFile %s holds no PEM certificate", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	return &session{cfg: cfg, tls: tc}, nil
}

// get returns a bound connection, dialling when there is none or the last
// one closed.
func (s *session) get(ctx context.Context) (*ldap.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil && !s.conn.IsClosing() {
		return s.conn, nil
	}
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
	conn, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	s.conn = conn
	return conn, nil
}

func (s *session) dial(ctx context.Context) (*ldap.Conn, error) {
	c, err := s.dialUnbound(ctx)
	if err != nil {
		return nil, err
	}
	if err := do(ctx, c, func() error { return c.Bind(s.cfg.BindDN, s.cfg.Password.Reveal()) }); err != nil {
		c.Close()
		return nil, fmt.Errorf("ldap: binding to %s as %q: %w", redactURL(s.cfg.URL), s.cfg.BindDN, mapErr(err))
	}
	return c, nil
}

// dialUnbound connects (with TLS, or StartTLS unless Plaintext) and does not
// bind.
func (s *session) dialUnbound(ctx context.Context) (*ldap.Conn, error) {
	d := &net.Dialer{Timeout: s.cfg.Timeout}
	u, _ := url.Parse(s.cfg.URL)
	var opts []ldap.DialOpt
	opts = append(opts, ldap.DialWithDialer(d))
	if u.Scheme == "ldaps" {
		opts = append(opts, ldap.DialWithTLSConfig(s.tls))
	}
	type result struct {
		c   *ldap.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := ldap.DialURL(s.cfg.URL, opts...)
		ch <- result{c, err}
	}()
	var c *ldap.Conn
	select {
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, ctx.Err()
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("ldap: connecting to %s: %w", redactURL(s.cfg.URL), mapErr(r.err))
		}
		c = r.c
	}
	c.SetTimeout(s.cfg.Timeout)
	if u.Scheme == "ldap" && !s.cfg.Plaintext {
		if err := do(ctx, c, func() error { return c.StartTLS(s.tls) }); err != nil {
			c.Close()
			return nil, fmt.Errorf("ldap: StartTLS with %s: %w", redactURL(s.cfg.URL), mapErr(err))
		}
	}
	return c, nil
}

// tlsActive reports whether the current connection is encrypted.
func (s *session) tlsActive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return false
	}
	_, ok := s.conn.TLSConnectionState()
	return ok
}

// drop closes the connection after a network failure, so the next get
// dials again.
func (s *session) drop(c *ldap.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == c {
		s.conn.Close()
		s.conn = nil
	}
}

func (s *session) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
	return nil
}

// do runs a synchronous go-ldap call, which takes no context, so that ctx
// is honoured: when ctx ends first the connection is closed, which makes
// the call return.
func do(ctx context.Context, c *ldap.Conn, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	err := fn()
	if !stop() {
		return ctx.Err()
	}
	return err
}

// run runs fn with a bound connection, once more on a new connection when
// the first failed because the connection dropped.
func (s *session) run(ctx context.Context, fn func(*ldap.Conn) error) error {
	for attempt := 0; ; attempt++ {
		c, err := s.get(ctx)
		if err != nil {
			return err
		}
		err = do(ctx, c, func() error { return fn(c) })
		if err == nil || attempt > 0 || !isConnErr(err) || ctx.Err() != nil {
			return err
		}
		s.drop(c)
	}
}

func isConnErr(err error) bool {
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode == ldap.ErrorNetwork || le.ResultCode == ldap.LDAPResultServerDown ||
			le.ResultCode == ldap.LDAPResultUnavailable
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	// go-ldap reports a connection that closed under a request in words.
	msg := err.Error()
	return strings.Contains(msg, "unable to read LDAP response packet") || strings.Contains(msg, "connection closed")
}
