package graphtest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

func TestAuthentication(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{Token: "secret"})

	_, err := newSDK(t, srv, clientConfig{token: "wrong"}).client.Users().Get(ctx, nil)
	assert.Equal(t, http.StatusUnauthorized, responseStatus(t, err))
	assert.Equal(t, "InvalidAuthenticationToken", *odataErr(t, err).GetCode())

	_, err = newSDK(t, srv, clientConfig{token: "secret"}).client.Users().Get(ctx, nil)
	require.NoError(t, err)

	req, err := http.NewRequest(http.MethodGet, srv.URL()+"/v1.0/users", nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.NotEmpty(t, resp.Header.Get("request-id"))
	var body struct {
		Error struct {
			Code       string
			InnerError map[string]string
		}
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	assert.Equal(t, "InvalidAuthenticationToken", body.Error.Code)
	assert.NotEmpty(t, body.Error.InnerError["request-id"])
	assert.NotEmpty(t, body.Error.InnerError["date"])
}

// retriedAfter checks in the log that every 429/503 was followed by a
// retry of the same request at least wait later.
func retriedAfter(t *testing.T, log []graphtest.Request, wait time.Duration) (faults int) {
	t.Helper()
	for i, r := range log {
		if r.Status != http.StatusTooManyRequests && r.Status != http.StatusServiceUnavailable {
			continue
		}
		faults++
		require.Less(t, i+1, len(log), "fault was not retried")
		next := log[i+1]
		assert.Equal(t, r.Path, next.Path)
		assert.GreaterOrEqual(t, next.Time.Sub(r.Time), wait, "retry honoured Retry-After")
	}
	return faults
}

func TestThrottlingRetriedBySDK(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{ThrottleRate: 0.4, UnavailableRate: 0.2, Seed: 7})
	seedUser(t, srv, "r1", nil)
	c := newSDK(t, srv, clientConfig{token: "t", maxRetries: 10}).client
	for range 4 {
		res, err := c.Users().Get(ctx, nil)
		require.NoError(t, err)
		assert.Len(t, res.GetValue(), 1)
	}
	faults := retriedAfter(t, srv.Requests(), time.Second)
	assert.Positive(t, faults, "seed 7 injects at least one fault")

	srv.SetFaults(0, 0)
	srv.ResetLog()
	_, err := c.Users().Get(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, srv.Requests(), 1)
}

func TestWriteBudget(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{WriteBudget: 5, WriteWindow: 2 * time.Second})

	t.Run("batch sub-requests are charged one by one", func(t *testing.T) {
		resp, err := rawRequest(t, srv, http.MethodPost, "/v1.0/$batch", batchJSON(t, 8, "wb"), nil)
		require.NoError(t, err)
		var ok, limited int
		for _, r := range decodeBatch(t, resp).Responses {
			switch r.Status {
			case http.StatusCreated:
				ok++
			case http.StatusTooManyRequests:
				limited++
				assert.Contains(t, []string{"1", "2"}, r.Headers["Retry-After"])
				assert.Contains(t, string(r.Body), `"code":"TooManyRequests"`)
			}
		}
		assert.Equal(t, 5, ok)
		assert.Equal(t, 3, limited)
		assert.Equal(t, 5, srv.Writes())
	})

	t.Run("reads are free, writes wait for the window", func(t *testing.T) {
		c := newSDK(t, srv, clientConfig{token: "t", maxRetries: 5}).client
		_, err := c.Users().Get(ctx, nil)
		require.NoError(t, err)
		srv.ResetLog()
		_, err = c.Users().Post(ctx, newUser("late", "example.com"), nil)
		require.NoError(t, err, "the SDK retries after Retry-After until the window resets")
		log := srv.Requests()
		require.GreaterOrEqual(t, len(log), 2)
		assert.Equal(t, http.StatusTooManyRequests, log[0].Status)
		assert.Equal(t, http.StatusCreated, log[len(log)-1].Status)
		retriedAfter(t, log, time.Second)
	})
}

func TestGzipRequestBody(t *testing.T) {
	srv := newServer(t, graphtest.Options{})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprint(zw, `{"accountEnabled":true,"displayName":"gz","mailNickname":"gz","userPrincipalName":"gz@example.com","passwordProfile":{"password":"x"}}`)
	require.NoError(t, zw.Close())
	resp, err := rawRequest(t, srv, http.MethodPost, "/v1.0/users", buf.Bytes(), http.Header{"Content-Encoding": {"gzip"}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)

	// The SDK's compression handler gzips request bodies too.
	_, err = newSDK(t, srv).client.Users().Post(context.Background(), newUser("sdkgz", "example.com"), nil)
	require.NoError(t, err)
	assert.Len(t, srv.Users(), 2)
}

func TestLatency(t *testing.T) {
	srv := newServer(t, graphtest.Options{Latency: 50 * time.Millisecond})
	c := newSDK(t, srv).client
	start := time.Now()
	_, err := c.Users().Get(context.Background(), &users.UsersRequestBuilderGetRequestConfiguration{})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
}
