package graphsync_test

import (
	"context"
	"fmt"
	"log"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/connectortest"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
)

// A connector to Microsoft Graph; here, to the in-process emulator. With
// a real tenant, Credential is an azidentity credential and BaseURL is
// left empty.
func Example() {
	ctx := context.Background()
	srv := graphtest.NewServer(graphtest.Options{Token: "t", Domains: []string{"contoso.com"}})
	defer srv.Close()

	c, err := graphsync.New(graphsync.Config{
		BaseURL:    srv.URL() + "/v1.0",
		Credential: graphsync.StaticToken("t"),
		HTTPClient: srv.Client(),
		Types:      []string{graphsync.TypeUser},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	res, err := c.Export(ctx, []connector.Change{{
		Kind: connector.Add, Type: graphsync.TypeUser, DN: "new/ada",
		Attrs: connector.Attributes{
			"userPrincipalName":     {connector.StringValue("ada@contoso.com")},
			"displayName":           {connector.StringValue("Ada Lovelace")},
			"onPremisesImmutableId": {connector.StringValue("j5Hn4cHhpU+2r5mRh0mQXw==")},
		},
	}})
	if err != nil || res[0].Err != nil {
		log.Fatal(err, res[0].Err)
	}

	rec := &connectortest.Recorder{}
	if err := c.Import(ctx, rec); err != nil {
		log.Fatal(err)
	}
	for _, o := range rec.Objects() {
		fmt.Println(o.Type, o.Attrs["userPrincipalName"][0].Str(), o.Attrs["onPremisesImmutableId"][0].Str(), o.DN == "users/"+string(res[0].Anchor))
	}
	// Output:
	// user ada@contoso.com j5Hn4cHhpU+2r5mRh0mQXw== true
}
