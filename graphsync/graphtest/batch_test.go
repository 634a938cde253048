package graphtest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

func TestBatchThroughSDK(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{})
	s := newSDK(t, srv)
	c := s.client
	existing := seedUser(t, srv, "dup", nil)

	batch := msgraphcore.NewBatchRequest(s.adapter)

	createInfo, err := c.Users().ToPostRequestInformation(ctx, newUser("b1", "example.com"), nil)
	require.NoError(t, err)
	create, err := batch.AddBatchRequestStep(*createInfo)
	require.NoError(t, err)

	patch := models.NewUser()
	patch.SetJobTitle(ptr("Batched"))
	patchInfo, err := c.Users().ByUserId(existing).ToPatchRequestInformation(ctx, patch, nil)
	require.NoError(t, err)
	patchStep, err := batch.AddBatchRequestStep(*patchInfo)
	require.NoError(t, err)
	patchStep.DependsOnItem(create)

	dupInfo, err := c.Users().ToPostRequestInformation(ctx, newUser("dup", "example.com"), nil)
	require.NoError(t, err)
	dup, err := batch.AddBatchRequestStep(*dupInfo)
	require.NoError(t, err)

	getInfo, err := c.Users().ByUserId(existing).ToGetRequestInformation(ctx, nil)
	require.NoError(t, err)
	afterDup, err := batch.AddBatchRequestStep(*getInfo)
	require.NoError(t, err)
	afterDup.DependsOnItem(dup)

	srv.ResetLog()
	resp, err := batch.Send(ctx, s.adapter)
	require.NoError(t, err)
	codes := resp.GetStatusCodes()
	assert.Equal(t, int32(http.StatusCreated), codes[*create.GetId()])
	assert.Equal(t, int32(http.StatusNoContent), codes[*patchStep.GetId()])
	assert.Equal(t, int32(http.StatusBadRequest), codes[*dup.GetId()])
	assert.Equal(t, int32(http.StatusFailedDependency), codes[*afterDup.GetId()])

	user, err := msgraphcore.GetBatchResponseById[models.Userable](resp, *create.GetId(), models.CreateUserFromDiscriminatorValue)
	require.NoError(t, err)
	assert.Equal(t, "b1@example.com", *user.GetUserPrincipalName())
	obj, _ := srv.Object(existing)
	assert.Equal(t, "Batched", obj["jobTitle"])

	// The conflict body is Graph's error inside the batch response.
	dupBody := resp.GetResponseById(*dup.GetId()).GetBody()
	errObj := dupBody["error"].(map[string]any)
	assert.Equal(t, "Request_BadRequest", str(errObj["code"]))

	// Log: the outer request and each sub-request.
	log := srv.Requests()
	require.Len(t, log, 5)
	assert.Equal(t, "/v1.0/$batch", log[0].Path)
	assert.False(t, log[0].InBatch)
	for _, r := range log[1:] {
		assert.True(t, r.InBatch)
	}
	assert.Equal(t, 2, srv.Writes(), "the create and the patch")
}

// batchJSON builds a raw $batch payload of n user creations.
func batchJSON(t *testing.T, n int, prefix string) []byte { return batchJSONB(t, n, prefix) }

func batchJSONB(t testing.TB, n int, prefix string) []byte {
	t.Helper()
	var reqs []map[string]any
	for i := range n {
		reqs = append(reqs, map[string]any{
			"id": fmt.Sprint(i + 1), "method": "POST", "url": "/users",
			"headers": map[string]string{"Content-Type": "application/json"},
			"body": map[string]any{
				"accountEnabled": true, "displayName": "x", "mailNickname": fmt.Sprintf("%s%d", prefix, i),
				"userPrincipalName": fmt.Sprintf("%s%d@example.com", prefix, i),
				"passwordProfile":   map[string]any{"password": "P@ssw0rd"},
			},
		})
	}
	b, err := json.Marshal(map[string]any{"requests": reqs})
	require.NoError(t, err)
	return b
}

type batchResult struct {
	Responses []struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"responses"`
}

func decodeBatch(t *testing.T, resp *http.Response) batchResult {
	t.Helper()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out batchResult
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

func TestBatchRaw(t *testing.T) {
	srv := newServer(t, graphtest.Options{})

	t.Run("more than 20 requests refused", func(t *testing.T) {
		resp, err := rawRequest(t, srv, http.MethodPost, "/v1.0/$batch", batchJSON(t, 21, "big"), nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Empty(t, srv.Users())
	})

	t.Run("gzip body and relative urls without slash", func(t *testing.T) {
		payload := []byte(`{"requests":[
			{"id":"a","method":"POST","url":"users","headers":{"Content-Type":"application/json"},
			 "body":{"accountEnabled":true,"displayName":"z","mailNickname":"z","userPrincipalName":"z@example.com","passwordProfile":{"password":"x"}}},
			{"id":"b","method":"GET","url":"users?$filter=userPrincipalName eq 'z@example.com'&$select=id,displayName","dependsOn":["a"]}]}`)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(payload)
		require.NoError(t, zw.Close())
		resp, err := rawRequest(t, srv, http.MethodPost, "/v1.0/$batch", buf.Bytes(), http.Header{"Content-Encoding": {"gzip"}})
		require.NoError(t, err)
		out := decodeBatch(t, resp)
		require.Len(t, out.Responses, 2)
		assert.Equal(t, 201, out.Responses[0].Status)
		assert.Equal(t, 200, out.Responses[1].Status)
		assert.Contains(t, string(out.Responses[1].Body), `"displayName":"z"`)
	})

	t.Run("dependsOn cycle refused", func(t *testing.T) {
		payload := []byte(`{"requests":[{"id":"1","method":"GET","url":"/users","dependsOn":["2"]},{"id":"2","method":"GET","url":"/users","dependsOn":["1"]}]}`)
		resp, err := rawRequest(t, srv, http.MethodPost, "/v1.0/$batch", payload, nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})

	t.Run("sub-requests throttled individually", func(t *testing.T) {
		srv.SetFaults(0.5, 0)
		defer srv.SetFaults(0, 0)
		var throttled int
		for attempt := 0; attempt < 10 && throttled == 0; attempt++ {
			resp, err := rawRequest(t, srv, http.MethodPost, "/v1.0/$batch", batchJSON(t, 20, fmt.Sprintf("t%d-", attempt)), nil)
			require.NoError(t, err)
			if resp.StatusCode == http.StatusTooManyRequests {
				assert.Equal(t, "1", resp.Header.Get("Retry-After"))
				_, _ = io.Copy(io.Discard, resp.Body)
				continue
			}
			for _, r := range decodeBatch(t, resp).Responses {
				switch r.Status {
				case http.StatusTooManyRequests:
					throttled++
					assert.Equal(t, "1", r.Headers["Retry-After"])
					assert.Contains(t, string(r.Body), "TooManyRequests")
				default:
					assert.Equal(t, http.StatusCreated, r.Status)
				}
			}
		}
		assert.Positive(t, throttled)
	})
}
