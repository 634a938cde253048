package graphtest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{PageSize: 7})
	c := newSDK(t, srv)
	gid := seedGroup(t, srv, "all", nil)

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				u, err := c.client.Users().Post(ctx, newUser(fmt.Sprintf("c%d-%d", w, i), "example.com"), nil)
				if err != nil {
					errs <- err
					return
				}
				if err := srv.AddMember(gid, *u.GetId()); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 5 {
			if _, _, err := userDeltaRoundNoT(ctx, c); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	all := srv.Users()
	require.Len(t, all, 40)
	assert.True(t, slices.IsSortedFunc(all, func(a, b map[string]any) int {
		return strings.Compare(a["id"].(string), b["id"].(string))
	}))
	g, ok := srv.Object(gid)
	require.True(t, ok)
	assert.Len(t, g["members"], 40)
	assert.Len(t, srv.Groups(), 1)
	assert.Equal(t, 40, srv.Writes())
}

// userDeltaRoundNoT runs a delta round without failing the test (it runs
// concurrently with writers).
func userDeltaRoundNoT(ctx context.Context, c *sdk) (int, string, error) {
	res, err := c.client.Users().Delta().GetAsDeltaGetResponse(ctx, nil)
	n := 0
	for err == nil {
		n += len(res.GetValue())
		if res.GetOdataNextLink() == nil {
			return n, *res.GetOdataDeltaLink(), nil
		}
		res, err = c.client.Users().Delta().WithUrl(*res.GetOdataNextLink()).GetAsDeltaGetResponse(ctx, nil)
	}
	return n, "", err
}
