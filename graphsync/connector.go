package graphsync

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/devices"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/idbridge/idbridge/connector"
)

// Connector is the Microsoft Entra ID connector. It is safe for concurrent
// use, though the engine does not need that.
type Connector struct {
	cfg     Config
	schema  *connector.Schema
	adapter *msgraph.GraphRequestAdapter
	client  *msgraph.GraphServiceClient
	pacer   *pacer

	mu            sync.Mutex
	initialDomain string
	closed        bool
}

var (
	_ connector.Connector      = (*Connector)(nil)
	_ connector.DeltaImporter  = (*Connector)(nil)
	_ connector.PasswordSetter = (*Connector)(nil)
	_ connector.ExportBatcher  = (*Connector)(nil)
)

// New returns a connector for the tenant cfg.Credential reaches. It makes
// no request: the first one is made by the first import or export.
func New(cfg Config) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := checkSelect(cfg); err != nil {
		return nil, fmt.Errorf("graphsync: invalid config: %w", err)
	}
	c := &Connector{cfg: cfg, schema: buildSchema(cfg), initialDomain: cfg.InitialDomain}
	c.pacer = newPacer(cfg.WriteBudget, cfg.Concurrency, cfg.MaxRetryAfter, cfg.Now)
	var err error
	c.adapter, c.client, err = newClient(cfg, c.pacer)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Client returns the SDK client the connector uses, for calls it does not
// make itself.
func (c *Connector) Client() *msgraph.GraphServiceClient { return c.client }

// Schema returns the object types of Config.Types with Graph's properties.
func (c *Connector) Schema(context.Context) (*connector.Schema, error) {
	return c.schema, nil
}

// ExportBatchSize implements connector.ExportBatcher: enough changes for
// Concurrency workers each sending several $batch requests of 20.
func (c *Connector) ExportBatchSize() int { return c.cfg.ExportBatch }

// Close releases nothing but marks the connector closed.
func (c *Connector) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

var errClosed = errors.New("graphsync: connector closed")

func (c *Connector) check() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed
	}
	return nil
}

var errorMapping = abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}

// get sends a GET through the SDK's adapter and parses the page.
func (c *Connector) get(ctx context.Context, ri *abstractions.RequestInformation) (*rawPage, error) {
	if err := c.pacer.acquire(ctx, 0); err != nil {
		return nil, err
	}
	res, err := c.adapter.Send(ctx, ri, newRawPage, errorMapping)
	c.pacer.release(false)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fromSDK("GET", pathOf(ri), err)
	}
	p, _ := res.(*rawPage)
	if p == nil {
		p = &rawPage{}
	}
	return p, nil
}

// linkRequest is a GET of a nextLink or deltaLink Graph gave. The link is
// sent to Config.BaseURL's host, whatever host it names: a watermark
// outlives a change of endpoint (a proxy, an emulator restarted on another
// port), and tokens never go elsewhere.
func (c *Connector) linkRequest(link string) (*abstractions.RequestInformation, error) {
	u, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("graphsync: link %q: %w", link, err)
	}
	if base, err := url.Parse(c.cfg.BaseURL); err == nil {
		u.Scheme, u.Host = base.Scheme, base.Host
	}
	ri := abstractions.NewRequestInformation()
	ri.Method = abstractions.GET
	ri.SetUri(*u)
	ri.Headers.Add("Accept", "application/json")
	ri.Headers.Add("Prefer", fmt.Sprintf("odata.maxpagesize=%d", c.cfg.PageSize))
	return ri, nil
}

// deltaRequest is the first request of a delta round for typ.
func (c *Connector) deltaRequest(ctx context.Context, typ string) (*abstractions.RequestInformation, error) {
	sel := c.selectOf(typ)
	h := abstractions.NewRequestHeaders()
	h.Add("Prefer", fmt.Sprintf("odata.maxpagesize=%d", c.cfg.PageSize))
	switch typ {
	case TypeUser:
		return c.client.Users().Delta().ToGetRequestInformation(ctx, &users.DeltaRequestBuilderGetRequestConfiguration{
			Headers: h, QueryParameters: &users.DeltaRequestBuilderGetQueryParameters{Select: sel}})
	case TypeGroup:
		return c.client.Groups().Delta().ToGetRequestInformation(ctx, &groups.DeltaRequestBuilderGetRequestConfiguration{
			Headers: h, QueryParameters: &groups.DeltaRequestBuilderGetQueryParameters{Select: sel}})
	case TypeDevice:
		return c.client.Devices().Delta().ToGetRequestInformation(ctx, &devices.DeltaRequestBuilderGetRequestConfiguration{
			Headers: h, QueryParameters: &devices.DeltaRequestBuilderGetQueryParameters{Select: sel}})
	}
	return nil, fmt.Errorf("graphsync: unknown type %q", typ)
}

// selectOf is the $select of typ: every attribute of the schema.
func (c *Connector) selectOf(typ string) []string {
	t, _ := c.schema.Type(typ)
	var sel []string
	for _, a := range t.Attributes {
		if a.Name != "owners" && !deviceDerived[a.Name] { // not in delta: read separately
			sel = append(sel, a.Name)
		}
	}
	return sel
}

func pathOf(ri *abstractions.RequestInformation) string {
	u, err := ri.GetUri()
	if err != nil {
		return ri.UrlTemplate
	}
	return u.Path
}

// dnOf is the DN the connector gives an object: its Graph path
// (users/{id}), stable for its life.
func dnOf(typ string, id string) string { return collection[typ] + "/" + id }

func typeOfDN(dn string) string {
	coll, _, _ := strings.Cut(dn, "/")
	for t, c := range collection {
		if c == coll {
			return t
		}
	}
	return ""
}
