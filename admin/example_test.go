package admin_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/admin"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

// A product mounts the admin pages of its engine under /admin/. Without an
// Authorizer they are read-only: a POST is refused.
func Example() {
	ctx := context.Background()
	hr := memconn.New(&connector.Schema{Types: []connector.ObjectType{{Name: "worker", Attributes: []connector.Attribute{{Name: "id", Type: connector.String}}}}})
	rf, _ := rules.Parse("rules.yaml", []byte(`
metaverse:
  types: [{name: person, attributes: [{name: employeeID, type: string}]}]
rules:
  - {name: In from HR, direction: inbound, connector: hr, source: worker, target: person, precedence: 10, linkType: Provision,
     flows: [{target: employeeID, source: id}]}
`))
	eng, err := idbridge.New(ctx, idbridge.Config{Store: memstore.New(), Connectors: map[string]connector.Connector{"hr": hr.Connector()}, Rules: rf})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	mux := http.NewServeMux()
	mux.Handle("/admin/", http.StripPrefix("/admin", admin.New(eng, admin.Options{})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/admin/")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("dashboard:", resp.StatusCode, resp.Header.Get("Content-Type"))

	resp, err = http.PostForm(srv.URL+"/admin/action", url.Values{"action": {"cycle"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("action:", resp.StatusCode)
	// Output:
	// dashboard: 200 text/html; charset=utf-8
	// action: 403
}

// roleKey is where a product's authentication middleware puts the
// operator's role.
type roleKey struct{}

// An Authorizer lets operators run cycles and lets only administrators
// touch exports. The product's middleware, which authenticated the
// request, put the role in its context; the handler takes it as
// admin.Options{Authorizer: auth}.
func ExampleAuthorizerFunc() {
	auth := admin.AuthorizerFunc(func(r *http.Request, a admin.Action, target string) error {
		role, _ := r.Context().Value(roleKey{}).(string)
		switch {
		case role == "admin":
			return nil
		case role == "operator" && a == admin.ActionCycle:
			return nil
		}
		return errors.New("your role may not " + string(a))
	})
	req := httptest.NewRequest(http.MethodPost, "/action", strings.NewReader(""))
	req = req.WithContext(context.WithValue(req.Context(), roleKey{}, "operator"))
	fmt.Println(auth.Authorize(req, admin.ActionCycle, "Delta"))
	fmt.Println(auth.Authorize(req, admin.ActionRetryExports, "dir"))
	// Output:
	// <nil>
	// your role may not retry-exports
}
