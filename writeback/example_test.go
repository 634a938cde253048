package writeback_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
	"github.com/idbridge/idbridge/writeback"
)

// A directory user synced to the cloud gets the password reset in the
// cloud; a cloud-only user is refused. The directory here is the in-memory
// connector (connector/memconn); with connector/ldap on Active Directory the
// code is the same.
func ExamplePasswordService() {
	ctx := context.Background()
	dir := memconn.New(dirSchema)
	dir.Put(connector.Object{Anchor: "ada-guid", DN: "CN=Ada,OU=Users,DC=contoso,DC=com", Type: "user",
		Attrs: connector.Attributes{"userPrincipalName": {connector.StringValue("ada@contoso.com")}, "employeeID": {connector.StringValue("E1")}}})
	cloud := memconn.New(cloudSchema)
	store := memstore.New()
	defer store.Close()
	rf, err := rules.Parse("rules.yaml", []byte(rulesYAML("has(source.userPrincipalName)", "source.userPrincipalName", "source.employeeID")))
	if err != nil {
		panic(err)
	}
	dirConn := dir.Connector()
	conns := map[string]connector.Connector{"ad": dirConn, "cloud": cloud.Connector()}
	eng, err := idbridge.New(ctx, idbridge.Config{Store: store, Connectors: conns, Rules: rf})
	if err != nil {
		panic(err)
	}
	if _, err := eng.Cycle(ctx, idbridge.Initial); err != nil {
		panic(err)
	}

	svc, err := writeback.NewPasswordService(ctx, writeback.PasswordConfig{Store: store, Connectors: conns, Cloud: "cloud"})
	if err != nil {
		panic(err)
	}
	res, err := svc.SetPassword(ctx, writeback.PasswordRequest{
		User:     writeback.UserRef{UserPrincipalName: "ada@contoso.com"},
		Password: connector.NewSecret("N3w-passw0rd!"),
	})
	fmt.Println(res.Targets[0].Connector, res.Targets[0].DN, err)
	fmt.Println(dirConn.Passwords["ada-guid"].Reveal() == "N3w-passw0rd!")

	_, err = svc.SetPassword(ctx, writeback.PasswordRequest{
		User:     writeback.UserRef{UserPrincipalName: "nobody@contoso.com"},
		Password: connector.NewSecret("N3w-passw0rd!"),
	})
	fmt.Println(errors.Is(err, writeback.ErrUserNotFound), writeback.Outcome(err))
	// Output:
	// ad CN=Ada,OU=Users,DC=contoso,DC=com <nil>
	// true
	// true not-found
}
