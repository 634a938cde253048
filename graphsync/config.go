package graphsync

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/idbridge/idbridge/internal/redact"
)

// DefaultBaseURL is Microsoft Graph v1.0 in the global cloud.
const DefaultBaseURL = "https://graph.microsoft.com/v1.0"

// Config configures a Connector. Only Credential is required.
type Config struct {
	// BaseURL is the Graph endpoint with its version (default
	// DefaultBaseURL; https://graph.microsoft.us/v1.0 for US Government,
	// an emulator's URL in tests).
	BaseURL string `json:"baseURL,omitempty" yaml:"baseURL,omitempty"`
	// Credential obtains the access tokens: an azidentity credential (client
	// secret, certificate, managed identity) or StaticToken in tests.
	Credential azcore.TokenCredential `json:"-" yaml:"-"`
	// Scopes asked of Credential (default https://graph.microsoft.com/.default,
	// or the .default scope of BaseURL's host).
	Scopes []string `json:"scopes,omitempty" yaml:"scopes,omitempty"`
	// HTTPClient's Transport carries the requests under the SDK's middleware
	// (default http.DefaultTransport). Its Timeout, if any, applies to each
	// request.
	HTTPClient *http.Client `json:"-" yaml:"-"`

	// Types are the object types imported and exported: any of "user",
	// "group", "device" (default all three). Devices are imported only.
	Types []string `json:"types,omitempty" yaml:"types,omitempty"`
	// Select narrows a type's schema, and so the $select of its imports,
	// to the listed properties (id is always kept): list the properties
	// your rules use, and Graph sends only those. Rules that read a
	// property not listed fail to load. Default: every property.
	Select map[string][]string `json:"select,omitempty" yaml:"select,omitempty"`
	// Extensions are directory extension properties
	// (extension_{appIdWithoutDashes}_{name}) added to the schema as
	// strings, for every type in Types that Graph lets carry them.
	Extensions []string `json:"extensions,omitempty" yaml:"extensions,omitempty"`
	// GroupAnchor names the group property that carries the source anchor:
	// Graph has onPremisesImmutableId on users only, so groups need a
	// directory extension (extension_{appId}_{name}, registered on the
	// application). It is what makes group creates exactly-once: a group
	// whose create was applied but not recorded (a lost response, a
	// crash) is found by it instead of being created a second time, and
	// an existing group carrying it is hard-matched. Required when Types
	// includes groups, unless NoGroupCreates is set; every group Add must
	// carry a value of it.
	GroupAnchor string `json:"groupAnchor,omitempty" yaml:"groupAnchor,omitempty"`
	// NoGroupCreates allows groups in Types without a GroupAnchor: groups
	// are imported, updated and deleted, but an Add of a group fails with
	// connector.ErrUnsupported. Without an anchor, a group whose create
	// response was lost could not be told from a group of the same name,
	// and would be created twice.
	NoGroupCreates bool `json:"noGroupCreates,omitempty" yaml:"noGroupCreates,omitempty"`

	// SoftMatch lets an export that would create a user take over an
	// existing cloud user with the same userPrincipalName or primary SMTP
	// address instead, as Entra Connect's soft match does. Off by default;
	// never for a user holding a directory role, nor one already anchored
	// to another source object.
	SoftMatch bool `json:"softMatch,omitempty" yaml:"softMatch,omitempty"`
	// InitialDomain is the tenant's initial domain (contoso.onmicrosoft.com),
	// where a conflicting userPrincipalName is quarantined
	// (prefix+4 digits@InitialDomain). Empty: read from the tenant's
	// /domains on first need.
	InitialDomain string `json:"initialDomain,omitempty" yaml:"initialDomain,omitempty"`

	// Concurrency is the most $batch requests in flight (default 4). The
	// connector lowers it when Graph throttles and raises it again after.
	Concurrency int `json:"concurrency,omitempty" yaml:"concurrency,omitempty"`
	// WriteBudget paces writes below the tenant's limit; the zero value is
	// Graph's documented limit for one application in one tenant
	// (3,000 writes per 150 s); Writes < 0 disables pacing (then only
	// Graph's 429 responses slow the export down).
	WriteBudget Budget `json:"writeBudget,omitempty" yaml:"writeBudget,omitempty"`
	// MaxAttempts is how often one request is sent before its object fails
	// with connector.ErrUnavailable (default 8). Throttled attempts wait
	// for Graph's Retry-After.
	MaxAttempts int `json:"maxAttempts,omitempty" yaml:"maxAttempts,omitempty"`
	// MaxRetryAfter caps how long a throttled request waits, whatever
	// Graph's Retry-After says (default 5 minutes): a Retry-After of a day,
	// by mistake or from a proxy, would otherwise stop every worker of the
	// export, and the import, for that day. The request is retried after
	// the cap, counting against MaxAttempts.
	MaxRetryAfter time.Duration `json:"maxRetryAfter,omitempty" yaml:"maxRetryAfter,omitempty"`
	// PageSize is the $top of imports (default 999, Graph's most for
	// directory objects).
	PageSize int `json:"pageSize,omitempty" yaml:"pageSize,omitempty"`
	// ExportBatch is how many changes the engine hands to one Export call
	// (default 5,000: 250 $batch requests of 20, so that the pipeline of
	// Concurrency workers, and the write budget, rarely wait for the
	// engine between calls).
	ExportBatch int `json:"exportBatch,omitempty" yaml:"exportBatch,omitempty"`

	// Logger receives debug and warning records (default: discard).
	Logger *slog.Logger `json:"-" yaml:"-"`
	// Now is the pacer's clock (tests); default time.Now.
	Now func() time.Time `json:"-" yaml:"-"`
}

// DefaultMaxRetryAfter is the default of Config.MaxRetryAfter.
const DefaultMaxRetryAfter = 5 * time.Minute

// Budget is a number of writes allowed per period.
type Budget struct {
	Writes int           `json:"writes,omitempty" yaml:"writes,omitempty"`
	Per    time.Duration `json:"per,omitempty" yaml:"per,omitempty"`
}

// Graph's documented write limits
// (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits).
var (
	// AppTenantWriteBudget: one application in one tenant.
	AppTenantWriteBudget = Budget{Writes: 3000, Per: 150 * time.Second}
	// TenantWriteBudget: all applications in one tenant.
	TenantWriteBudget = Budget{Writes: 18000, Per: 5 * time.Minute}
)

// Unlimited disables the connector's own pacing.
var Unlimited = Budget{Writes: -1}

var extensionName = regexp.MustCompile(`^extension_[0-9a-fA-F]{32}_[A-Za-z0-9_]+$`)

func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"https://graph.microsoft.com/.default"}
		if u, err := url.Parse(c.BaseURL); err == nil && u.Host != "graph.microsoft.com" && !isLoopback(u.Hostname()) {
			c.Scopes = []string{"https://" + u.Host + "/.default"}
		}
	}
	if len(c.Types) == 0 {
		c.Types = []string{TypeUser, TypeGroup, TypeDevice}
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.WriteBudget == (Budget{}) {
		c.WriteBudget = AppTenantWriteBudget
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if c.PageSize <= 0 {
		c.PageSize = 999
	}
	if c.ExportBatch <= 0 {
		c.ExportBatch = 5000
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports what is wrong with the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Credential == nil {
		errs = append(errs, errors.New("a Credential is required"))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("BaseURL %q: not a valid URL", redact.URL(c.BaseURL))) // url.Parse's error repeats the URL
		case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
			errs = append(errs, fmt.Errorf("BaseURL %q: Graph is reached over https (plain http only on a loopback address)", redact.URL(c.BaseURL)))
		}
	}
	for _, t := range c.Types {
		if t != TypeUser && t != TypeGroup && t != TypeDevice {
			errs = append(errs, fmt.Errorf("unknown object type %q in Types (user, group or device)", t))
		}
	}
	for _, e := range c.Extensions {
		if !extensionName.MatchString(e) {
			errs = append(errs, fmt.Errorf("extension %q is not extension_{appId without dashes}_{name}", e))
		}
	}
	if c.GroupAnchor == "" && !c.NoGroupCreates && (len(c.Types) == 0 || slices.Contains(c.Types, TypeGroup)) {
		errs = append(errs, errors.New("groups are exported only with a GroupAnchor (a directory extension carrying the source anchor, so that a group whose create response is lost is never created twice); set GroupAnchor, or NoGroupCreates to import and update groups without creating any, or leave group out of Types"))
	}
	if c.GroupAnchor != "" && !extensionName.MatchString(c.GroupAnchor) {
		errs = append(errs, fmt.Errorf("GroupAnchor %q: groups carry a source anchor only in a directory extension (extension_{appId}_{name})", c.GroupAnchor))
	}
	if c.WriteBudget.Writes > 0 && c.WriteBudget.Per <= 0 {
		errs = append(errs, errors.New("WriteBudget: Per must be positive"))
	}
	if c.PageSize > 999 {
		errs = append(errs, fmt.Errorf("PageSize %d: Graph pages directory objects by at most 999", c.PageSize))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("graphsync: invalid config: %w", err)
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
