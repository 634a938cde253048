package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldap"
	"github.com/idbridge/idbridge/connector/ldif"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/metaverse/boltstore"
	"github.com/idbridge/idbridge/metaverse/pgstore"
)

// Config is the daemon's configuration file. See the README section
// "Running the daemon" for a reference.
type Config struct {
	// Connectors by name, the names the rule file uses.
	Connectors map[string]ConnectorConfig `yaml:"connectors"`
	// Rules is the rule file's path, relative to the configuration file.
	Rules string `yaml:"rules"`
	// Store keeps the metaverse and connector spaces.
	Store StoreConfig `yaml:"store"`
	// Schedule says when cycles run.
	Schedule ScheduleConfig `yaml:"schedule"`
	// Engine holds the engine's safety options.
	Engine EngineConfig `yaml:"engine"`
	// HA, when set, runs the engine only on the node that leads.
	HA *HAConfig `yaml:"ha"`
	// HTTP is the listener of /metrics, /healthz, /readyz and the admin page.
	HTTP HTTPConfig `yaml:"http"`
	// Log configures the daemon's log.
	Log LogConfig `yaml:"log"`
}

// ConnectorConfig is one connector: exactly one of its fields is set.
type ConnectorConfig struct {
	LDAP  *ldap.Config `yaml:"ldap"`
	Graph *GraphConfig `yaml:"graph"`
	LDIF  *ldif.Config `yaml:"ldif"`
}

// GraphConfig is graphsync.Config with the credential and the trust the
// file can express.
type GraphConfig struct {
	graphsync.Config `yaml:",inline"`
	// TenantID, ClientID and ClientSecret: an application's client secret
	// credential (azidentity), the usual production setting.
	TenantID     string           `yaml:"tenantID"`
	ClientID     string           `yaml:"clientID"`
	ClientSecret connector.Secret `yaml:"clientSecret"`
	// Token is a static bearer token instead (an emulator, a proxy).
	Token connector.Secret `yaml:"token"`
	// CAFile is a PEM file of certificates to trust for BaseURL, besides
	// the system's (a TLS-inspecting proxy, an emulator).
	CAFile string `yaml:"caFile"`
	// Timeout bounds each HTTP request (default: none of its own).
	Timeout connector.Duration `yaml:"timeout"`
}

// StoreConfig selects and opens the store.
type StoreConfig struct {
	// Type is memory, bolt or postgres.
	Type string `yaml:"type"`
	// Path is the bolt file, relative to the configuration file.
	Path string `yaml:"path"`
	// DSN is the PostgreSQL connection string; a Secret since it may hold
	// a password (env:PG_DSN, file:/run/secrets/dsn).
	DSN      connector.Secret  `yaml:"dsn"`
	Bolt     boltstore.Options `yaml:"bolt"`
	Postgres pgstore.Options   `yaml:"postgres"`
}

// ScheduleConfig is idbridge.Schedule in configuration form.
type ScheduleConfig struct {
	Interval        connector.Duration `yaml:"interval"`
	Debounce        connector.Duration `yaml:"debounce"`
	WatchBackoff    connector.Duration `yaml:"watchBackoff"`
	WatchBackoffMax connector.Duration `yaml:"watchBackoffMax"`
	// InitialFirst runs a full (Initial) cycle at start.
	InitialFirst bool `yaml:"initialFirst"`
}

// EngineConfig is the part of idbridge.Options a file sets.
type EngineConfig struct {
	Staging            bool               `yaml:"staging"`
	DeletionThreshold  int                `yaml:"deletionThreshold"`
	ImportDeleteShare  float64            `yaml:"importDeleteShare"`
	ImportDeleteMin    int                `yaml:"importDeleteMin"`
	BatchSize          int                `yaml:"batchSize"`
	ExportBatchSize    int                `yaml:"exportBatchSize"`
	ExportRetryBackoff connector.Duration `yaml:"exportRetryBackoff"`
	MaxErrors          int                `yaml:"maxErrors"`
}

// HAConfig selects the leader elector.
type HAConfig struct {
	// Elector is local, postgres or etcd.
	Elector string `yaml:"elector"`
	// Key names the engine among those the elector serves. Default "adsync".
	Key string `yaml:"key"`
	// DSN of the postgres elector (default: the store's DSN).
	DSN connector.Secret `yaml:"dsn"`
	// Endpoints of the etcd elector.
	Endpoints []string           `yaml:"endpoints"`
	TTL       connector.Duration `yaml:"ttl"`
	// Holder names this node (default: host, pid and a random suffix).
	Holder string `yaml:"holder"`
}

// HTTPConfig is the daemon's HTTP listener.
type HTTPConfig struct {
	// Listen is host:port; empty means no HTTP server. Port 0 picks one
	// (the daemon logs the address).
	Listen string `yaml:"listen"`
}

// LogConfig configures the log on standard error.
type LogConfig struct {
	// Level is debug, info (default), warn or error.
	Level string `yaml:"level"`
	// Format is text (default) or json.
	Format string `yaml:"format"`
}

// LoadConfig reads and checks the configuration file at path. Every error
// is a *ConfigError naming the file, the line and the field; several are
// joined. Relative paths in the file are resolved against its directory.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return parseConfig(path, data)
}

func parseConfig(path string, data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(path, err)
	}
	cfg := &Config{}
	if len(doc.Content) == 0 {
		return nil, &ConfigError{File: path, Err: errors.New("empty file")}
	}
	d := &decoder{file: path, nodes: map[string]*yaml.Node{}}
	d.decode(doc.Content[0], reflect.ValueOf(cfg).Elem(), "")
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	cfg.validate(d)
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	cfg.resolvePaths(filepath.Dir(path))
	return cfg, nil
}

// syntaxError turns yaml.v3's "yaml: line 3: …" into a ConfigError.
func syntaxError(path string, err error) error {
	e := &ConfigError{File: path, Err: err}
	if rest, ok := strings.CutPrefix(err.Error(), "yaml: line "); ok {
		num, msg, _ := strings.Cut(rest, ": ")
		if line, convErr := strconv.Atoi(num); convErr == nil {
			e.Line, e.Err = line, errors.New(msg)
		}
	}
	return e
}

// validate checks what decoding cannot: required fields and choices.
func (c *Config) validate(d *decoder) {
	if len(c.Connectors) == 0 {
		d.fail("connectors", errors.New("at least one connector is required"))
	}
	names := make([]string, 0, len(c.Connectors))
	for name := range c.Connectors {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		cc := c.Connectors[name]
		field := "connectors." + name
		set := 0
		for _, p := range []bool{cc.LDAP != nil, cc.Graph != nil, cc.LDIF != nil} {
			if p {
				set++
			}
		}
		if set != 1 {
			d.fail(field, errors.New("set exactly one of ldap, graph, ldif"))
			continue
		}
		switch {
		case cc.LDAP != nil:
			if err := cc.LDAP.Validate(); err != nil {
				d.fail(field+".ldap", err)
			}
		case cc.LDIF != nil:
			if err := cc.LDIF.Validate(); err != nil {
				d.fail(field+".ldif", err)
			}
		case cc.Graph != nil:
			g := cc.Graph
			secret := g.TenantID != "" || g.ClientID != "" || !g.ClientSecret.IsZero()
			switch {
			case secret && !g.Token.IsZero():
				d.fail(field+".graph.token", errors.New("set either token or tenantID, clientID and clientSecret"))
			case secret && (g.TenantID == "" || g.ClientID == "" || g.ClientSecret.IsZero()):
				d.fail(field+".graph", errors.New("a client secret credential needs tenantID, clientID and clientSecret"))
			case !secret && g.Token.IsZero():
				d.fail(field+".graph", errors.New("set a credential: token, or tenantID, clientID and clientSecret"))
			}
		}
	}
	if c.Rules == "" {
		d.fail("rules", errors.New("the rule file is required"))
	}
	switch c.Store.Type {
	case "memory":
	case "bolt":
		if c.Store.Path == "" {
			d.fail("store.path", errors.New("a bolt store needs a path"))
		}
		if err := c.Store.Bolt.Validate(); err != nil {
			d.fail("store.bolt", err)
		}
	case "postgres":
		if c.Store.DSN.IsZero() {
			d.fail("store.dsn", errors.New("a postgres store needs a dsn"))
		}
		if err := c.Store.Postgres.Validate(); err != nil {
			d.fail("store.postgres", err)
		}
	case "":
		d.fail("store.type", errors.New("required: memory, bolt or postgres"))
	default:
		d.fail("store.type", fmt.Errorf("unknown store type %q: want memory, bolt or postgres", c.Store.Type))
	}
	if h := c.HA; h != nil {
		switch h.Elector {
		case "local":
		case "postgres":
			if h.DSN.IsZero() && c.Store.Type != "postgres" {
				d.fail("ha.dsn", errors.New("the postgres elector needs a dsn (or a postgres store)"))
			}
		case "etcd":
			if len(h.Endpoints) == 0 {
				d.fail("ha.endpoints", errors.New("the etcd elector needs endpoints"))
			}
		default:
			d.fail("ha.elector", fmt.Errorf("unknown elector %q: want local, postgres or etcd", h.Elector))
		}
	}
	switch c.Log.Level {
	case "", "debug", "info", "warn", "error":
	default:
		d.fail("log.level", fmt.Errorf("unknown level %q: want debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "", "text", "json":
	default:
		d.fail("log.format", fmt.Errorf("unknown format %q: want text or json", c.Log.Format))
	}
}

// resolvePaths makes the file's relative paths relative to dir.
func (c *Config) resolvePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	abs(&c.Rules)
	abs(&c.Store.Path)
	for _, cc := range c.Connectors {
		switch {
		case cc.LDAP != nil:
			abs(&cc.LDAP.CAFile)
		case cc.Graph != nil:
			abs(&cc.Graph.CAFile)
		case cc.LDIF != nil:
			abs(&cc.LDIF.Path)
			abs(&cc.LDIF.ExportPath)
		}
	}
}
