package entraconnect

import (
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/rules"
)

//go:embed *.yaml
var files embed.FS

// Default connector names.
const (
	DefaultForest = "ad"
	DefaultCloud  = "cloud"
)

// MaxForests is the largest number of forests: a forest's rules take the
// precedences of the defaults plus the forest's index, and the defaults
// are 10 apart.
const MaxForests = 10

// ExchangeScope is ANDed by Load to the scope of every user rule of a
// forest with Exchange: Exchange's arbitration (8388608), discovery
// (536870912) and monitoring (549755813888) mailboxes stay on-premises.
const ExchangeScope = `!(has(source.msExchRecipientTypeDetails) && source.msExchRecipientTypeDetails in [8388608, 536870912, 549755813888])`

// Forest is one Active Directory forest (one connector).
type Forest struct {
	// Connector is the forest's connector name.
	Connector string
	// Exchange says the forest has the Exchange schema: its users have
	// msExchRecipientTypeDetails, msExchMasterAccountSid and mailNickname,
	// and the rules of exchange.yaml apply.
	Exchange bool
	// Contacts says the forest's connector has a "contact" object type;
	// the rules of contacts.yaml apply.
	Contacts bool
}

// Options choose the forests and the topology. The zero value is one
// forest, connector "ad", and connector "cloud".
type Options struct {
	// Forests are the Active Directory forests, in the order their rules
	// win for the same attribute; empty means one forest, DefaultForest.
	Forests []Forest
	// Cloud is the graphsync connector's name; "" means DefaultCloud.
	Cloud string
	// GroupAnchor is the directory extension that carries a group's
	// source anchor in Entra ID (graphsync.Config.GroupAnchor): Graph has
	// onPremisesImmutableId on users only. "" exports no group anchor.
	GroupAnchor string
	// JoinByMail joins users present in several forests by mail (Entra
	// Connect's "User identities exist across multiple directories: Mail
	// attribute"), case-insensitively.
	JoinByMail bool
	// JoinAccountResource joins the disabled mailbox user of a resource
	// forest (Forest.Exchange) to the enabled account of an account forest
	// whose objectSid is its msExchMasterAccountSid (Entra Connect's
	// "ObjectSID and msExchMasterAccountSID").
	JoinAccountResource bool
}

// ErrInvalidOptions: Options that Load cannot use.
var ErrInvalidOptions = errors.New("entraconnect: invalid options")

// Validate reports whether Load can use the options; the errors match
// ErrInvalidOptions.
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...))
	}
	if len(o.Forests) > MaxForests {
		bad("%d forests, at most %d", len(o.Forests), MaxForests)
	}
	seen := map[string]bool{o.Cloud: true}
	exchange := false
	for i, f := range o.Forests {
		switch {
		case f.Connector == "":
			bad("forest %d has no connector name", i+1)
		case seen[f.Connector]:
			bad("connector %q is used twice", f.Connector)
		}
		seen[f.Connector] = true
		exchange = exchange || f.Exchange
	}
	if o.JoinAccountResource && !exchange {
		bad("JoinAccountResource needs a forest with Exchange (msExchMasterAccountSid)")
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if len(o.Forests) == 0 {
		o.Forests = []Forest{{Connector: DefaultForest}}
	}
	if o.Cloud == "" {
		o.Cloud = DefaultCloud
	}
	return o
}

// Load returns the default rules for the options: the metaverse schema
// and the rules of every forest and of the cloud. The result is a new
// File, which the caller may change or layer with Overlay before giving it
// to idbridge.New or rules.Compile.
func Load(opts Options) (*rules.File, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	out := &rules.File{}
	mv, err := parse("metaverse.yaml")
	if err != nil {
		return nil, err
	}
	out.Metaverse = mv.Metaverse

	suffix := func(f Forest) string {
		if len(opts.Forests) == 1 {
			return ""
		}
		return " (" + f.Connector + ")"
	}
	for i, f := range opts.Forests {
		names := []string{"ad.yaml"}
		if f.Exchange {
			names = append(names, "exchange.yaml")
		}
		if f.Contacts {
			names = append(names, "contacts.yaml")
		}
		names = append(names, "writeback.yaml")
		for _, name := range names {
			file, err := parse(name)
			if err != nil {
				return nil, err
			}
			for _, r := range file.Rules {
				r.Connector = f.Connector
				r.Name += suffix(f)
				r.Precedence += i
				if f.Exchange && r.Direction == rules.Inbound && r.SourceType == "user" {
					r.Scope = "(" + r.Scope + ") && " + ExchangeScope
				}
				if r.Direction == rules.Inbound && r.SourceType == "user" && r.LinkType == metaverse.Provision {
					for _, g := range joins(opts, f) {
						for i := range g.Conditions {
							g.Conditions[i].Pos = r.Pos // added here: the rule's position
						}
						r.Join = append(r.Join, g)
					}
				}
				out.Rules = append(out.Rules, r)
			}
		}
	}
	cloud, err := parse("cloud.yaml")
	if err != nil {
		return nil, err
	}
	for _, r := range cloud.Rules {
		r.Connector = opts.Cloud
		if r.TargetType == "group" && r.LinkType == metaverse.Provision && opts.GroupAnchor != "" {
			r.Flows = append(r.Flows, rules.Flow{Target: opts.GroupAnchor, Source: "sourceAnchor", Pos: r.Pos})
		}
		out.Rules = append(out.Rules, r)
	}
	return out, nil
}

// joins returns the join groups of a forest's "In from AD - User Join".
func joins(opts Options, f Forest) []rules.JoinGroup {
	var gs []rules.JoinGroup
	if opts.JoinAccountResource {
		gs = append(gs, rules.JoinGroup{Conditions: []rules.JoinCondition{{
			Source: `has(source.objectSid) && !isBitSet(source.userAccountControl, 2) ? sidString(source.objectSid) : Null()`,
			Target: "masterAccountSid",
		}}})
		if f.Exchange {
			gs = append(gs, rules.JoinGroup{Conditions: []rules.JoinCondition{{
				Source: `has(source.msExchMasterAccountSid) && sidString(source.msExchMasterAccountSid) != "S-1-5-10" ? sidString(source.msExchMasterAccountSid) : Null()`,
				Target: "objectSid",
			}}})
		}
	}
	if opts.JoinByMail {
		gs = append(gs, rules.JoinGroup{Conditions: []rules.JoinCondition{{
			Source: `has(source.mail) ? source.mail : Null()`, Target: "mail", CaseInsensitive: true,
		}}})
	}
	return gs
}

func parse(name string) (*rules.File, error) {
	data, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("entraconnect: %w", err)
	}
	f, err := rules.Parse("entraconnect/"+name, data)
	if err != nil {
		return nil, fmt.Errorf("entraconnect: the embedded %s: %w", name, err)
	}
	return f, nil
}

// Attributes returns the attributes of an Active Directory object type
// ("user", "group" or "contact") that the default rules read from a
// forest: the attributes its connector must import (for example as
// connector/ldap's TypeConfig.Attributes), and have in its schema, for
// Load's rules to compile.
func Attributes(objectType string, f Forest) []string {
	var out []string
	switch objectType {
	case "user":
		out = []string{"objectGUID", "mS-DS-ConsistencyGuid", "objectSid", "isCriticalSystemObject",
			"cn", "sAMAccountName", "userPrincipalName", "userAccountControl", "givenName", "sn",
			"displayName", "mail", "proxyAddresses", "company", "department", "title", "employeeID",
			"employeeType", "physicalDeliveryOfficeName", "telephoneNumber", "mobile",
			"streetAddress", "l", "st", "postalCode", "c", "manager"}
		if f.Exchange {
			out = append(out, "msExchRecipientTypeDetails", "msExchMasterAccountSid", "mailNickname")
		}
	case "group":
		out = []string{"objectGUID", "mS-DS-ConsistencyGuid", "isCriticalSystemObject", "cn",
			"sAMAccountName", "displayName", "description", "mail", "proxyAddresses", "groupType", "member"}
	case "contact":
		if f.Contacts {
			out = []string{"objectGUID", "isCriticalSystemObject", "cn", "displayName", "givenName",
				"sn", "mail", "proxyAddresses", "company", "department", "title"}
		}
	}
	return out
}

// cloneSchema copies a schema deeply enough to append attributes.
func cloneSchema(s *connector.Schema) *connector.Schema {
	if s == nil {
		return nil
	}
	out := &connector.Schema{Types: slices.Clone(s.Types)}
	for i := range out.Types {
		out.Types[i].Attributes = slices.Clone(out.Types[i].Attributes)
	}
	return out
}

// baseName returns a per-forest rule's name without its " (connector)".
func baseName(name, conn string) (string, bool) {
	return strings.CutSuffix(name, " ("+conn+")")
}
