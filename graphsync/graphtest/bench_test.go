package graphtest_test

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

// BenchmarkBatchCreateUsers measures user creation through $batch with
// four concurrent clients; it reports writes/s.
func BenchmarkBatchCreateUsers(b *testing.B) {
	srv := graphtest.NewServer(graphtest.Options{})
	defer srv.Close()
	var next atomic.Int64
	payloads := make(chan []byte, 64)
	go func() {
		defer close(payloads)
		for i := 0; i < b.N; i += 20 {
			n := min(20, b.N-i)
			payloads <- batchJSONB(b, n, fmt.Sprintf("b%d-", next.Add(1)))
		}
	}()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range payloads {
				resp, err := rawRequest(b, srv, http.MethodPost, "/v1.0/$batch", p, nil)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Errorf("batch: %v %v", err, resp)
					return
				}
				_ = resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	require.Equal(b, b.N, srv.Writes())
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}

// BenchmarkDeltaExport measures a full user delta round over 100,000
// users at 999 per page.
func BenchmarkDeltaExport(b *testing.B) {
	srv := graphtest.NewServer(graphtest.Options{PageSize: 999})
	defer srv.Close()
	for i := range 100_000 {
		_, err := srv.CreateUser(map[string]any{
			"accountEnabled": true, "displayName": "u", "mailNickname": fmt.Sprintf("u%d", i),
			"userPrincipalName": fmt.Sprintf("u%d@example.com", i), "passwordProfile": map[string]any{"password": "x"},
		})
		require.NoError(b, err)
	}
	b.ResetTimer()
	for range b.N {
		url := "/v1.0/users/delta()"
		pages := 0
		for url != "" {
			resp, err := rawRequest(b, srv, http.MethodGet, url, nil, nil)
			require.NoError(b, err)
			var page struct {
				Next string `json:"@odata.nextLink"`
			}
			require.NoError(b, jsonDecode(resp, &page))
			url = ""
			if page.Next != "" {
				url = page.Next[len(srv.URL()):]
			}
			pages++
		}
		require.Equal(b, 101, pages)
	}
}
