package graphsync

import (
	"encoding/json"
	"errors"
	"testing"

	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/idbridge/idbridge/connector"
)

// FuzzPage feeds Graph JSON pages (a delta or list page, from the network)
// through the parser and the conversion of each object: any input either
// converts or fails with an error; none panics, and a bad object is an
// *connector.ObjectError of its own, never a failure of the page.
func FuzzPage(f *testing.F) {
	for _, s := range []string{
		`{"value":[{"id":"1","userPrincipalName":"a@example.com","accountEnabled":true,"businessPhones":["+1 555"]}],"@odata.deltaLink":"https://graph/v1.0/users/delta?$deltatoken=x"}`,
		`{"value":[{"id":"2","@removed":{"reason":"deleted"}}],"@odata.nextLink":"https://graph/v1.0/users/delta?$skiptoken=y"}`,
		`{"value":[{"id":"g","displayName":"G","members@delta":[{"@odata.type":"#microsoft.graph.user","id":"1"},{"id":"2","@removed":{"reason":"deleted"}}]}]}`,
		`{"value":[{"id":7,"accountEnabled":"yes","businessPhones":"x","members@delta":{}}]}`,
		`{"value":[{"id":"u","manager@delta":[{"@odata.type":"#microsoft.graph.user","id":"m"}]},{"id":"v","manager@delta":[{"id":"m","@removed":{"reason":"deleted"}}]}]}`,
		`{"value":[{"id":"u","manager@delta":[null,7,{"id":5}]},{"id":"v","manager@delta":"m"}]}`,
		`{"value":[{}],"@odata.deltaLink":5}`,
		`{"value":{}}`, `[]`, `null`, `{"value":[null,1,"x",[]]}`,
	} {
		f.Add([]byte(s))
	}
	c, err := New(Config{Credential: StaticToken("fuzz"), GroupAnchor: "extension_0123456789abcdef0123456789abcdef_anchor", Extensions: []string{"extension_0123456789abcdef0123456789abcdef_x"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		node, err := jsonserialization.NewJsonParseNode(data)
		if err != nil {
			return
		}
		v, err := node.GetObjectValue(newRawPage)
		if err != nil || v == nil {
			return
		}
		page := v.(*rawPage)
		for _, typ := range []string{TypeUser, TypeGroup, TypeDevice} {
			ot, _ := c.schema.Type(typ)
			for _, o := range page.value {
				for _, initial := range []bool{true, false} {
					if _, err := c.change(ot, o, initial); err != nil {
						var oe *connector.ObjectError
						if !errors.As(err, &oe) {
							t.Fatalf("%s: a bad object fails the page: %v", typ, err)
						}
					}
				}
			}
		}
	})
}

// FuzzErrorBody feeds Graph error bodies, as a $batch response carries
// them and as the SDK parses them, through the conversion to *Error: it
// never panics and always wraps a connector sentinel.
func FuzzErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"error":{"code":"Request_BadRequest","message":"Another object with the same value for property userPrincipalName already exists.","details":[{"code":"ObjectConflict","target":"userPrincipalName"}]}}`,
		`{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist."}}`,
		`{"error":{"code":"TooManyRequests","message":"Too many requests.","innerError":{"date":"2026-01-01T00:00:00","request-id":"r"}}}`,
		`{"error":{"code":"resyncRequired"}}`, `{"error":"text"}`, `{"error":{"details":[1,{"code":5}]}}`, `{}`, `[]`, `null`,
	} {
		for _, status := range []int{400, 401, 404, 410, 429, 503} {
			f.Add(status, []byte(s))
		}
	}
	sentinels := []error{connector.ErrDuplicateValue, connector.ErrNoSuchObject, connector.ErrAccessDenied,
		connector.ErrWatermarkExpired, connector.ErrUnavailable, connector.ErrAlreadyExists, connector.ErrConstraint}
	wrapsSentinel := func(err error) bool {
		for _, s := range sentinels {
			if errors.Is(err, s) {
				return true
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, status int, data []byte) {
		var body map[string]any
		if json.Unmarshal(data, &body) == nil {
			e := errorFromBody("POST", "/users", status, body)
			_ = e.Error()
			if !wrapsSentinel(e) {
				t.Fatalf("%v wraps no sentinel", e)
			}
		}
		node, err := jsonserialization.NewJsonParseNode(data)
		if err != nil {
			return
		}
		v, err := node.GetObjectValue(odataerrors.CreateODataErrorFromDiscriminatorValue)
		if err != nil || v == nil {
			return
		}
		oe := v.(*odataerrors.ODataError)
		oe.SetStatusCode(status)
		e := fromSDK("GET", "/users", oe)
		_ = e.Error()
		if !wrapsSentinel(e) {
			t.Fatalf("%v wraps no sentinel", e)
		}
	})
}
