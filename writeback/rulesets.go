package writeback

import (
	"embed"
	"errors"
	"fmt"
	"strconv"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/rules"
)

// The shipped rule sets, embedded: rules/group-writeback.yaml and
// rules/device-writeback.yaml. GroupRules.File and DeviceRules.File load
// them with a product's settings.
//
//go:embed rules/*.yaml
var ruleFiles embed.FS

// Rule names in the shipped rule sets whose flows the loaders set.
const (
	// GroupWritebackRule is the outbound rule that provisions groups into
	// the writeback OU.
	GroupWritebackRule = "Out to AD - Group Writeback"
	// DeviceWritebackRule is the outbound rule that provisions devices into
	// the device container.
	DeviceWritebackRule = "Out to AD - Device"
)

// Default name expressions (CEL over the metaverse entry, as source).
const (
	// DefaultGroupName is the CN of a written-back group: its display
	// name and the last 12 characters of its cloud object id, as Entra
	// Connect's group writeback v2 names groups, so that cloud groups of
	// one name stay apart.
	DefaultGroupName = `source.displayName + "_" + source.cloudObjectId.substring(24)`
	// DefaultGroupAccountName is its sAMAccountName (at most 20
	// characters in AD): "Group_" and the same 12 characters.
	DefaultGroupAccountName = `"Group_" + source.cloudObjectId.substring(24)`
	// DefaultDeviceName is the CN of a written-back device: its device id.
	DefaultDeviceName = `source.deviceId`
)

// Default connector names of the rule sets.
const (
	DefaultADConnector    = "ad"
	DefaultCloudConnector = "aad"
)

// GroupRules configures the shipped group writeback rule set: AD users
// synced to the cloud and joined back by their source anchor
// (objectGUID → onPremisesImmutableId), cloud security and Microsoft 365
// groups into the metaverse, and the groups provisioned into OU as
// universal groups, members resolved to the users' AD accounts.
type GroupRules struct {
	// OU is the DN of the OU the groups are written to. Required.
	OU string `json:"ou" yaml:"ou"`
	// Name is a CEL expression over the metaverse group (source) giving
	// the group's CN, escaped by the loader (default DefaultGroupName).
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// AccountName is a CEL expression giving its sAMAccountName (default
	// DefaultGroupAccountName).
	AccountName string `json:"accountName,omitempty" yaml:"accountName,omitempty"`
	// AD and Cloud are the connector names the rules use (default
	// DefaultADConnector and DefaultCloudConnector).
	AD    string `json:"ad,omitempty" yaml:"ad,omitempty"`
	Cloud string `json:"cloud,omitempty" yaml:"cloud,omitempty"`
}

// Validate reports a missing OU.
func (g GroupRules) Validate() error {
	if g.OU == "" {
		return errors.New("writeback: group rules: an OU is required")
	}
	return nil
}

// File returns the group writeback rule set with g's settings, for
// idbridge.Config.Rules (combine it with other rule files by Merge). The
// expressions are compiled, and their errors reported, by the engine.
func (g GroupRules) File() (*rules.File, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	f, err := load("group-writeback.yaml", g.AD, g.Cloud)
	if err != nil {
		return nil, err
	}
	name := or(g.Name, DefaultGroupName)
	err = setFlows(f, GroupWritebackRule, map[string]string{
		"dn":             dnExpr(name, g.OU),
		"sAMAccountName": or(g.AccountName, DefaultGroupAccountName),
	})
	return f, err
}

// DeviceRules configures the shipped device writeback rule set: cloud
// devices (registered or joined in Entra ID, not the hybrid-joined ones
// that come from AD) written as msDS-Device objects into Container with
// displayName, msDS-DeviceID, msDS-DeviceOSType, msDS-DeviceOSVersion,
// msDS-IsEnabled, msDS-RegisteredOwner (the registered owner's on-premises
// SID), altSecurityIdentities and msDS-CloudAnchor; deleted with the cloud
// device. The cloud connector must be graphsync with devices in its
// Types; the AD connector needs the types of DeviceTypes in its
// configuration and Container in its Containers.
type DeviceRules struct {
	// Container is the DN of the device container (an
	// msDS-DeviceContainer directly under the domain, by Entra Connect's
	// convention CN=RegisteredDevices,<domain>; see
	// PrepareDeviceContainer). Required.
	Container string `json:"container" yaml:"container"`
	// Name is a CEL expression over the metaverse device (source) giving
	// the device's CN, escaped by the loader (default DefaultDeviceName).
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// AD and Cloud are the connector names the rules use (default
	// DefaultADConnector and DefaultCloudConnector).
	AD    string `json:"ad,omitempty" yaml:"ad,omitempty"`
	Cloud string `json:"cloud,omitempty" yaml:"cloud,omitempty"`
}

// Validate reports a missing Container.
func (d DeviceRules) Validate() error {
	if d.Container == "" {
		return errors.New("writeback: device rules: a Container is required")
	}
	return nil
}

// File returns the device writeback rule set with d's settings.
func (d DeviceRules) File() (*rules.File, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	f, err := load("device-writeback.yaml", d.AD, d.Cloud)
	if err != nil {
		return nil, err
	}
	err = setFlows(f, DeviceWritebackRule, map[string]string{"dn": dnExpr(or(d.Name, DefaultDeviceName), d.Container)})
	return f, err
}

// Merge combines rule files into one, as the engine takes a single file:
// the metaverse types of all (a type defined twice is an error, whatever
// its attributes) and their rules in order.
func Merge(files ...*rules.File) (*rules.File, error) {
	out := &rules.File{Metaverse: &connector.Schema{}}
	seen := map[string]bool{}
	for _, f := range files {
		if f == nil {
			continue
		}
		if f.Metaverse != nil {
			for _, t := range f.Metaverse.Types {
				if seen[t.Name] {
					return nil, fmt.Errorf("writeback: merge: metaverse type %q is defined twice", t.Name)
				}
				seen[t.Name] = true
				out.Metaverse.Types = append(out.Metaverse.Types, t)
			}
		}
		out.Rules = append(out.Rules, f.Rules...)
	}
	return out, nil
}

// load parses an embedded rule file with the connector names set.
func load(name, ad, cloud string) (*rules.File, error) {
	data, err := ruleFiles.ReadFile("rules/" + name)
	if err != nil {
		return nil, fmt.Errorf("writeback: %w", err)
	}
	f, err := rules.Parse(name, data)
	if err != nil {
		return nil, fmt.Errorf("writeback: %w", err)
	}
	names := map[string]string{DefaultADConnector: or(ad, DefaultADConnector), DefaultCloudConnector: or(cloud, DefaultCloudConnector)}
	for i := range f.Rules {
		f.Rules[i].Connector = names[f.Rules[i].Connector]
	}
	return f, nil
}

// setFlows replaces the expressions of the named flows of one rule.
func setFlows(f *rules.File, rule string, exprs map[string]string) error {
	for i := range f.Rules {
		r := &f.Rules[i]
		if r.Name != rule {
			continue
		}
		for j := range r.Flows {
			if e, ok := exprs[r.Flows[j].Target]; ok {
				r.Flows[j].Expression = e
				delete(exprs, r.Flows[j].Target)
			}
		}
	}
	if len(exprs) > 0 {
		return fmt.Errorf("writeback: rule %q lacks flows %v", rule, exprs) // the embedded file changed
	}
	return nil
}

// dnExpr is rdn("CN", name) + "," + the container as a CEL string
// literal: the name is escaped by rdn, the container is quoted (Go's
// quoting is valid CEL for any string).
func dnExpr(name, container string) string {
	return `rdn("CN", ` + name + `) + "," + ` + strconv.Quote(container)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
