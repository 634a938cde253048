package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldap"
	"github.com/idbridge/idbridge/connector/ldif"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/ha"
	"github.com/idbridge/idbridge/ha/etcdelector"
	"github.com/idbridge/idbridge/ha/localelector"
	"github.com/idbridge/idbridge/ha/pgelector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/boltstore"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/metaverse/pgstore"
	"github.com/idbridge/idbridge/rules"
)

// parts are what a configuration builds: the store, the connectors and the
// rules, which make an idbridge.Config. close releases them.
type parts struct {
	store      metaverse.Store
	connectors map[string]connector.Connector
	rules      *rules.File
	closers    []io.Closer
}

func (p *parts) Close() error {
	var errs []error
	for i := len(p.closers) - 1; i >= 0; i-- {
		errs = append(errs, p.closers[i].Close())
	}
	return errors.Join(errs...)
}

// build opens the store and makes the connectors and rules of cfg.
// readOnly opens a bolt store shared and read-only, for the operator
// commands that only read.
func build(ctx context.Context, cfg *Config, logger *slog.Logger, readOnly bool) (_ *parts, err error) {
	p := &parts{connectors: map[string]connector.Connector{}}
	defer func() {
		if err != nil {
			_ = p.Close()
		}
	}()
	if p.rules, err = rules.ParseFile(cfg.Rules); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	names := make([]string, 0, len(cfg.Connectors))
	for name := range cfg.Connectors {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c, err := newConnector(cfg.Connectors[name], logger.With("connector", name))
		if err != nil {
			return nil, fmt.Errorf("connector %s: %w", name, err)
		}
		p.connectors[name] = c
		if cl, ok := c.(io.Closer); ok {
			p.closers = append(p.closers, cl)
		}
	}
	if p.store, err = openStore(ctx, cfg.Store, readOnly); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	p.closers = append(p.closers, p.store)
	return p, nil
}

func newConnector(cc ConnectorConfig, logger *slog.Logger) (connector.Connector, error) {
	switch {
	case cc.LDAP != nil:
		c := *cc.LDAP
		c.Logger = logger
		return ldap.New(c)
	case cc.LDIF != nil:
		return ldif.New(*cc.LDIF)
	case cc.Graph != nil:
		g := cc.Graph
		c := g.Config
		c.Logger = logger
		cred, err := graphCredential(g)
		if err != nil {
			return nil, err
		}
		c.Credential = cred
		if g.CAFile != "" || g.Timeout != 0 {
			client, err := httpClient(g.CAFile, g.Timeout)
			if err != nil {
				return nil, err
			}
			c.HTTPClient = client
		}
		return graphsync.New(c)
	}
	return nil, errors.New("no connector type set")
}

func graphCredential(g *GraphConfig) (azcore.TokenCredential, error) {
	if !g.Token.IsZero() {
		return graphsync.SecretToken(g.Token), nil
	}
	cred, err := azidentity.NewClientSecretCredential(g.TenantID, g.ClientID, g.ClientSecret.Reveal(), nil)
	if err != nil {
		// azidentity's errors name the tenant and client, never the secret.
		return nil, fmt.Errorf("client secret credential: %w", err)
	}
	return cred, nil
}

// httpClient trusts the system's roots plus those of caFile.
func httpClient(caFile string, timeout connector.Duration) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("caFile: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("caFile %s: no PEM certificate in it", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: timeout.D()}, nil
}

func openStore(ctx context.Context, sc StoreConfig, readOnly bool) (metaverse.Store, error) {
	switch sc.Type {
	case "memory":
		return memstore.New(), nil
	case "bolt":
		opts := sc.Bolt
		opts.ReadOnly = opts.ReadOnly || readOnly
		return boltstore.Open(sc.Path, &opts)
	case "postgres":
		opts := sc.Postgres
		return pgstore.Open(ctx, sc.DSN.Reveal(), &opts)
	}
	return nil, fmt.Errorf("unknown store type %q", sc.Type)
}

// engineOptions are the engine's options from the file.
func engineOptions(ec EngineConfig, logger *slog.Logger) idbridge.Options {
	return idbridge.Options{
		Staging:            ec.Staging,
		DeletionThreshold:  ec.DeletionThreshold,
		ImportDeleteShare:  ec.ImportDeleteShare,
		ImportDeleteMin:    ec.ImportDeleteMin,
		BatchSize:          ec.BatchSize,
		ExportBatchSize:    ec.ExportBatchSize,
		ExportRetryBackoff: ec.ExportRetryBackoff.D(),
		MaxErrors:          ec.MaxErrors,
		Logger:             logger,
	}
}

func schedule(sc ScheduleConfig) idbridge.Schedule {
	return idbridge.Schedule{
		Interval:        sc.Interval.D(),
		Debounce:        sc.Debounce.D(),
		WatchBackoff:    sc.WatchBackoff.D(),
		WatchBackoffMax: sc.WatchBackoffMax.D(),
		InitialFirst:    sc.InitialFirst,
	}
}

// newElector makes the elector of h; the returned closer releases what the
// elector was built on (the etcd client).
func newElector(ctx context.Context, h *HAConfig, storeDSN connector.Secret, logger *slog.Logger) (ha.Elector, io.Closer, error) {
	switch h.Elector {
	case "local":
		return localelector.New(), nopCloser{}, nil
	case "postgres":
		dsn := h.DSN
		if dsn.IsZero() {
			dsn = storeDSN
		}
		el, err := pgelector.Open(ctx, dsn.Reveal(), &pgelector.Options{TTL: h.TTL.D(), Holder: h.Holder, Logger: logger})
		if err != nil {
			return nil, nil, err
		}
		return el, nopCloser{}, nil
	case "etcd":
		cli, err := clientv3.New(clientv3.Config{Endpoints: h.Endpoints, Context: ctx})
		if err != nil {
			return nil, nil, err
		}
		el, err := etcdelector.New(cli, &etcdelector.Options{TTL: h.TTL.D(), Holder: h.Holder, Logger: logger})
		if err != nil {
			_ = cli.Close()
			return nil, nil, err
		}
		return el, cli, nil
	}
	return nil, nil, fmt.Errorf("unknown elector %q", h.Elector)
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
