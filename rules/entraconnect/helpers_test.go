package entraconnect_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/rules"
	"github.com/idbridge/idbridge/rules/entraconnect"
)

// groupAnchor is a directory extension as graphsync.Config.GroupAnchor
// names one.
const groupAnchor = "extension_8f1a2b3c4d5e4f60a1b2c3d4e5f60718_sourceAnchor"

// adType is the Active Directory syntax of the attributes the default
// rules read; the others are strings.
var adType = map[string]connector.Attribute{
	"objectGUID":                 {Type: connector.Bytes},
	"mS-DS-ConsistencyGuid":      {Type: connector.Bytes},
	"objectSid":                  {Type: connector.Bytes},
	"msExchMasterAccountSid":     {Type: connector.Bytes},
	"isCriticalSystemObject":     {Type: connector.Boolean},
	"userAccountControl":         {Type: connector.Integer},
	"groupType":                  {Type: connector.Integer},
	"msExchRecipientTypeDetails": {Type: connector.Integer},
	"manager":                    {Type: connector.Reference},
	"member":                     {Type: connector.Reference, Multi: true},
	"proxyAddresses":             {Type: connector.String, Multi: true},
	"description":                {Type: connector.String, Multi: true},
}

// adSchema is the schema of a forest's connector made of exactly
// entraconnect.Attributes: what a product configures.
func adSchema(f entraconnect.Forest) *connector.Schema {
	s := &connector.Schema{}
	for _, typ := range []string{"user", "group", "contact"} {
		names := entraconnect.Attributes(typ, f)
		if len(names) == 0 {
			continue
		}
		ot := connector.ObjectType{Name: typ, Anchor: "objectGUID"}
		for _, n := range names {
			a, ok := adType[n]
			if !ok {
				a = connector.Attribute{Type: connector.String}
			}
			a.Name = n
			ot.Attributes = append(ot.Attributes, a)
		}
		s.Types = append(s.Types, ot)
	}
	return s
}

func cloudSchema(t testing.TB) *connector.Schema {
	t.Helper()
	c, err := graphsync.New(graphsync.Config{
		BaseURL: "https://graph.invalid/v1.0", Credential: graphsync.StaticToken("x"),
		Types: []string{graphsync.TypeUser, graphsync.TypeGroup}, GroupAnchor: groupAnchor,
	})
	require.NoError(t, err)
	s, err := c.Schema(context.Background())
	require.NoError(t, err)
	return s
}

// compile compiles f against the forests' and the cloud's schemas.
func compile(t testing.TB, f *rules.File, opts entraconnect.Options) (*rules.Set, error) {
	t.Helper()
	schemas := rules.Schemas{Metaverse: f.Metaverse, Connectors: map[string]*connector.Schema{}}
	forests := opts.Forests
	if len(forests) == 0 {
		forests = []entraconnect.Forest{{Connector: entraconnect.DefaultForest}}
	}
	for _, fo := range forests {
		schemas.Connectors[fo.Connector] = adSchema(fo)
	}
	cloud := opts.Cloud
	if cloud == "" {
		cloud = entraconnect.DefaultCloud
	}
	schemas.Connectors[cloud] = cloudSchema(t)
	return rules.Compile(f.Rules, schemas, rules.Options{})
}
