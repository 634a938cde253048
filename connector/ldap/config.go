package ldap

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/idbridge/idbridge/connector"
)

// Dialect is the kind of directory server, which decides the anchor and
// the delta-import method.
type Dialect string

const (
	// Auto detects the dialect from the root DSE: Active Directory when it
	// announces the AD capability, OpenLDAP when it offers RFC 4533 content
	// synchronization, else Generic.
	Auto Dialect = ""
	// ActiveDirectory (and Samba AD): objectGUID anchors, DirSync deltas
	// (uSNChanged as a fallback), ranged retrieval.
	ActiveDirectory Dialect = "activeDirectory"
	// OpenLDAP: entryUUID anchors, syncrepl (RFC 4533) deltas and change
	// notification.
	OpenLDAP Dialect = "openldap"
	// Generic LDAPv3 servers: entryUUID anchors (configurable),
	// modifyTimestamp deltas; deletes are found by full imports.
	Generic Dialect = "generic"
)

// Config configures a Connector. URL, BindDN, Password and at least one
// object type are required.
type Config struct {
	// URL is ldaps://host[:636] or ldap://host[:389]. An ldap:// URL is
	// upgraded with StartTLS unless Plaintext is set.
	URL string `json:"url" yaml:"url"`
	// Plaintext allows an ldap:// connection without TLS. Off by default:
	// a bind password must not cross the network in clear.
	Plaintext bool `json:"plaintext,omitempty" yaml:"plaintext,omitempty"`
	// TLS settings. The server certificate is verified against the system
	// pool, or CAFile / RootCAs when given.
	CAFile     string         `json:"caFile,omitempty" yaml:"caFile,omitempty"`
	RootCAs    *x509.CertPool `json:"-" yaml:"-"`
	ServerName string         `json:"serverName,omitempty" yaml:"serverName,omitempty"`
	// InsecureSkipVerify turns certificate verification off. For tests
	// only; never the default.
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty" yaml:"insecureSkipVerify,omitempty"`

	BindDN   string           `json:"bindDN" yaml:"bindDN"`
	Password connector.Secret `json:"password" yaml:"password"`

	// Dialect overrides detection.
	Dialect Dialect `json:"dialect,omitempty" yaml:"dialect,omitempty"`
	// NoDirSync makes Active Directory delta imports use uSNChanged and
	// tombstones instead of DirSync, for accounts without the "Replicating
	// Directory Changes" right. (Automatic when DirSync is refused.)
	NoDirSync bool `json:"noDirSync,omitempty" yaml:"noDirSync,omitempty"`

	// Containers are the subtrees imported, each with the subtrees under
	// it to leave out (Entra Connect's OU filtering). Required.
	Containers []Container `json:"containers" yaml:"containers"`

	// Types maps object classes to object types. An entry takes the first
	// type whose object classes it has (list computer before user).
	Types []TypeConfig `json:"types" yaml:"types"`

	// Anchor is the anchor attribute; default objectGUID for Active
	// Directory, entryUUID otherwise.
	Anchor string `json:"anchor,omitempty" yaml:"anchor,omitempty"`

	// PageSize is the paged-search page size (default 500); memory use of an
	// import is bounded by it.
	PageSize int `json:"pageSize,omitempty" yaml:"pageSize,omitempty"`
	// Timeout bounds each LDAP operation and the dial (default 30 s).
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// RangeSize, on Active Directory, requests multi-valued references
	// (member) in ranges of this many values ("member;range=0-999") even
	// when the server would not impose them. Windows DCs impose ranges of
	// 1,500 values by themselves, which the connector follows either way.
	RangeSize int `json:"rangeSize,omitempty" yaml:"rangeSize,omitempty"`
	// MaxValuesPerModify splits a large multi-valued change (a group
	// gaining 10,000 members) into modifications of at most this many
	// values (default 1,000).
	MaxValuesPerModify int `json:"maxValuesPerModify,omitempty" yaml:"maxValuesPerModify,omitempty"`
}

// Container is a subtree to import.
type Container struct {
	DN      string   `json:"dn" yaml:"dn"`
	Exclude []string `json:"exclude,omitempty" yaml:"exclude,omitempty"`
}

// TypeConfig describes one object type.
type TypeConfig struct {
	Name string `json:"name" yaml:"name"`
	// ObjectClasses select the entries of this type (any of them); the
	// first is the structural class written on export adds, with the
	// others.
	ObjectClasses []string `json:"objectClasses" yaml:"objectClasses"`
	// Filter narrows the selection, e.g. "(!(isCriticalSystemObject=TRUE))".
	Filter string `json:"filter,omitempty" yaml:"filter,omitempty"`
	// Attributes to import; default every attribute the server's schema
	// allows for the object classes.
	Attributes []string `json:"attributes,omitempty" yaml:"attributes,omitempty"`
}

func (c *Config) withDefaults() Config {
	cfg := *c
	if cfg.PageSize <= 0 {
		cfg.PageSize = 500
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxValuesPerModify <= 0 {
		cfg.MaxValuesPerModify = 1000
	}
	return cfg
}

// Validate reports what is missing or wrong in the configuration.
func (c *Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		errs = append(errs, errors.New("url is required"))
	case err != nil:
		errs = append(errs, fmt.Errorf("url %q: not a valid URL", redactURL(c.URL))) // url.Parse's error repeats the URL
	case u.Scheme != "ldap" && u.Scheme != "ldaps":
		errs = append(errs, fmt.Errorf("url %q: scheme must be ldap or ldaps", redactURL(c.URL)))
	}
	if c.BindDN == "" {
		errs = append(errs, errors.New("bindDN is required"))
	}
	switch c.Dialect {
	case Auto, ActiveDirectory, OpenLDAP, Generic:
	default:
		errs = append(errs, fmt.Errorf("dialect %q: want %q, %q or %q", c.Dialect, ActiveDirectory, OpenLDAP, Generic))
	}
	if len(c.Containers) == 0 {
		errs = append(errs, errors.New("containers: at least one is required"))
	}
	for i, ct := range c.Containers {
		if ct.DN == "" {
			errs = append(errs, fmt.Errorf("containers[%d]: dn is required", i))
		}
		for _, x := range ct.Exclude {
			if !isUnder(x, ct.DN) {
				errs = append(errs, fmt.Errorf("containers[%d]: exclude %q is not under %q", i, x, ct.DN))
			}
		}
	}
	if len(c.Types) == 0 {
		errs = append(errs, errors.New("types: at least one is required"))
	}
	seen := map[string]bool{}
	for i, t := range c.Types {
		if t.Name == "" {
			errs = append(errs, fmt.Errorf("types[%d]: name is required", i))
		}
		if seen[t.Name] {
			errs = append(errs, fmt.Errorf("types[%d]: duplicate name %q", i, t.Name))
		}
		seen[t.Name] = true
		if len(t.ObjectClasses) == 0 {
			errs = append(errs, fmt.Errorf("types[%d] (%s): objectClasses is required", i, t.Name))
		}
		if t.Filter != "" && !(strings.HasPrefix(t.Filter, "(") && strings.HasSuffix(t.Filter, ")")) {
			errs = append(errs, fmt.Errorf("types[%d] (%s): filter %q must be in parentheses", i, t.Name, t.Filter))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("ldap: invalid config: %w", errors.Join(errs...))
	}
	return nil
}

// isUnder reports whether dn is base or below it.
func isUnder(dn, base string) bool {
	d, b := connector.FoldDN(dn), connector.FoldDN(base)
	return d == b || strings.HasSuffix(d, ","+b)
}
