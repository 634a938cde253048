package graphtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

func userJSON(t *testing.T, nick string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"accountEnabled": true, "displayName": nick, "mailNickname": nick,
		"userPrincipalName": nick + "@example.com", "passwordProfile": map[string]any{"password": "P@ssw0rd"},
	})
	require.NoError(t, err)
	return b
}

// sendRaw posts body and reads the whole response; err is the transport's
// or the body's error.
func sendRaw(t *testing.T, srv *graphtest.Server, path string, body []byte) (int, []byte, error) {
	t.Helper()
	resp, err := rawRequest(t, srv, http.MethodPost, path, body, nil)
	if err != nil {
		return 0, nil, err
	}
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func upns(srv *graphtest.Server) []string {
	var out []string
	for _, u := range srv.Users() {
		out = append(out, fmt.Sprint(u["userPrincipalName"]))
	}
	return out
}

// TestInjectedFaultsSingleRequest: a fault before a request leaves the
// tenant as it was; after, the request is applied and only its response is
// lost, as a 504, a reset connection or a truncated body.
func TestInjectedFaultsSingleRequest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   graphtest.Fault
		status  int  // what the client sees, 0 for a transport error
		applied bool // whether the user exists afterwards
		logged  string
	}{
		{"504 before", graphtest.Fault{Method: "POST", Path: "/users"}, http.StatusGatewayTimeout, false, "504 before"},
		{"504 after", graphtest.Fault{Method: "POST", Path: "/users", After: true}, http.StatusGatewayTimeout, true, "504 after"},
		{"500 after", graphtest.Fault{Path: "/users", After: true, Status: 500}, http.StatusInternalServerError, true, "500 after"},
		{"reset before", graphtest.Fault{Path: "/users", Kind: graphtest.FaultReset}, 0, false, "reset before"},
		{"reset after", graphtest.Fault{Path: "/users", Kind: graphtest.FaultReset, After: true}, 0, true, "reset after"},
		{"truncated after", graphtest.Fault{Path: "/users", Kind: graphtest.FaultTruncate, After: true}, 0, true, "truncate after"},
		{"other path untouched", graphtest.Fault{Path: "/groups", After: true}, http.StatusCreated, true, ""},
		{"other method untouched", graphtest.Fault{Method: "PATCH", Path: "/users"}, http.StatusCreated, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, graphtest.Options{})
			srv.InjectFault(tc.fault)
			status, body, err := sendRaw(t, srv, "/v1.0/users", userJSON(t, "ada"))
			if tc.status == 0 {
				require.Error(t, err, "the response must be lost")
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.status, status)
			}
			if tc.status >= 500 {
				assert.Contains(t, string(body), `"error"`)
			}
			if tc.applied {
				assert.Equal(t, []string{"ada@example.com"}, upns(srv))
			} else {
				assert.Empty(t, srv.Users())
			}
			log := srv.Requests()
			require.Len(t, log, 1)
			assert.Equal(t, tc.logged, log[0].Fault)
			if tc.applied {
				assert.Equal(t, http.StatusCreated, log[0].Status, "the log says what was applied")
				assert.Equal(t, 1, srv.Writes())
			}
			// Without the fault, the tenant answers again.
			srv.ClearFaults()
			resp, err := rawRequest(t, srv, http.MethodGet, "/v1.0/users", nil, nil)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}

// TestInjectedFaultsInBatch: a fault on a sub-request replaces its
// response or loses the whole batch; one on /$batch loses the batch
// response after every sub-request ran.
func TestInjectedFaultsInBatch(t *testing.T) {
	type want struct {
		status   int   // of the $batch, 0 for a transport error
		subs     []int // sub-request statuses, when the batch answered
		created  int
		firedLog int // log entries with a Fault (a lost batch: the sub-request and the batch)
	}
	for _, tc := range []struct {
		name  string
		fault graphtest.Fault
		want  want
	}{
		{"whole batch reset after", graphtest.Fault{Path: "/$batch", Kind: graphtest.FaultReset, After: true},
			want{created: 3, firedLog: 1}},
		{"whole batch 504 after", graphtest.Fault{Path: "/$batch", After: true},
			want{status: http.StatusGatewayTimeout, created: 3, firedLog: 1}},
		{"whole batch 504 before", graphtest.Fault{Path: "/$batch"},
			want{status: http.StatusGatewayTimeout, created: 0, firedLog: 1}},
		{"second sub-request 504 after", graphtest.Fault{Method: "POST", Path: "/users", After: true, Skip: 1, Count: 1},
			want{status: http.StatusOK, subs: []int{201, 504, 201}, created: 3, firedLog: 1}},
		{"second sub-request 504 before", graphtest.Fault{Method: "POST", Path: "/users", Skip: 1, Count: 1},
			want{status: http.StatusOK, subs: []int{201, 504, 201}, created: 2, firedLog: 1}},
		{"sub-request loses the batch after", graphtest.Fault{Path: "/users", Kind: graphtest.FaultTruncate, After: true, Skip: 1, Count: 1},
			want{created: 3, firedLog: 2}},
		{"sub-request breaks the batch before", graphtest.Fault{Path: "/users", Kind: graphtest.FaultReset, Skip: 1, Count: 1},
			want{created: 1, firedLog: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, graphtest.Options{})
			srv.InjectFault(tc.fault)
			status, body, err := sendRaw(t, srv, "/v1.0/$batch", batchJSON(t, 3, "b"))
			if tc.want.status == 0 {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				require.Equal(t, tc.want.status, status, string(body))
			}
			if tc.want.subs != nil {
				var out batchResult
				require.NoError(t, json.Unmarshal(body, &out))
				var got []int
				for _, r := range out.Responses {
					got = append(got, r.Status)
				}
				assert.Equal(t, tc.want.subs, got)
			}
			assert.Len(t, srv.Users(), tc.want.created)
			assert.Equal(t, tc.want.created, srv.Writes())
			fired := 0
			for _, r := range srv.Requests() {
				if r.Fault != "" {
					fired++
				}
			}
			assert.Equal(t, tc.want.firedLog, fired)
			assert.Equal(t, 1, srv.FaultsFired())
		})
	}
}

// TestInjectedFaultCounting: Skip, Count and Probability aim a fault.
func TestInjectedFaultCounting(t *testing.T) {
	t.Run("skip and count", func(t *testing.T) {
		srv := newServer(t, graphtest.Options{})
		srv.InjectFault(graphtest.Fault{Method: "POST", Path: "/users", After: true, Skip: 1, Count: 2})
		var got []int
		for i := range 5 {
			status, _, err := sendRaw(t, srv, "/v1.0/users", userJSON(t, fmt.Sprint("u", i)))
			require.NoError(t, err)
			got = append(got, status)
		}
		assert.Equal(t, []int{201, 504, 504, 201, 201}, got)
		assert.Len(t, srv.Users(), 5, "faults after apply")
		assert.Equal(t, 2, srv.FaultsFired())
		srv.ClearFaults()
		assert.Zero(t, srv.FaultsFired())
	})
	t.Run("probability is deterministic for a seed", func(t *testing.T) {
		run := func() []int {
			srv := newServer(t, graphtest.Options{Seed: 7})
			srv.InjectFault(graphtest.Fault{Path: "/users", Probability: 0.5})
			var got []int
			for i := range 20 {
				status, _, err := sendRaw(t, srv, "/v1.0/users", userJSON(t, fmt.Sprint("p", i)))
				require.NoError(t, err)
				got = append(got, status)
			}
			return got
		}
		a := run()
		assert.Equal(t, a, run())
		assert.Contains(t, a, http.StatusCreated)
		assert.Contains(t, a, http.StatusGatewayTimeout)
	})
	t.Run("a fault that cannot fire is a programming error", func(t *testing.T) {
		srv := newServer(t, graphtest.Options{})
		assert.Panics(t, func() { srv.InjectFault(graphtest.Fault{Probability: 2}) })
		assert.Panics(t, func() { srv.InjectFault(graphtest.Fault{Path: "["}) })
		assert.Panics(t, func() { srv.InjectFault(graphtest.Fault{Count: -1}) })
	})
}
