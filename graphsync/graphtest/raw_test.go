package graphtest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

// rawRequest sends a plain HTTP request with a bearer token, for what the
// SDK cannot express. The caller closes the body.
func rawRequest(t testing.TB, srv *graphtest.Server, method, path string, body []byte, header http.Header) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL()+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer test-token")
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := srv.Client().Do(req)
	if err == nil {
		t.Cleanup(func() { resp.Body.Close() })
	}
	return resp, err
}

func jsonDecode(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
