package graphtest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/graphsync/graphtest"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts graphtest.Options
		ok   bool
	}{
		{"zero value", graphtest.Options{}, true},
		{"page size too big", graphtest.Options{PageSize: 1000}, false},
		{"rates above one", graphtest.Options{ThrottleRate: 0.7, UnavailableRate: 0.4}, false},
		{"negative latency", graphtest.Options{Latency: -time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

func TestDirectoryObjectsDomainsDevices(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, graphtest.Options{Domains: []string{"example.com", "corp.example"}})
	c := newSDK(t, srv).client
	uid := seedUser(t, srv, "obj", nil)

	obj, err := c.DirectoryObjects().ByDirectoryObjectId(uid).Get(ctx, nil)
	require.NoError(t, err)
	_, isUser := obj.(models.Userable)
	assert.True(t, isUser)

	domains, err := c.Domains().Get(ctx, nil)
	require.NoError(t, err)
	var names []string
	for _, d := range domains.GetValue() {
		names = append(names, *d.GetId())
		assert.True(t, *d.GetIsVerified())
	}
	assert.Equal(t, []string{"contoso.onmicrosoft.com", "example.com", "corp.example"}, names)

	d := models.NewDevice()
	d.SetAccountEnabled(ptr(true))
	d.SetDisplayName(ptr("laptop"))
	d.SetDeviceId(ptr("4c299165-6e8f-4b45-a5ba-c5d250a707ff"))
	d.SetOperatingSystem(ptr("Windows"))
	d.SetOperatingSystemVersion(ptr("10"))
	_, err = c.Devices().Post(ctx, d, nil)
	assert.Contains(t, *odataErr(t, err).GetMessage(), "alternativeSecurityIds", "required on POST /devices")
	alt := models.NewAlternativeSecurityId()
	alt.SetTypeEscaped(ptr[int32](2))
	alt.SetKey([]byte("key"))
	d.SetAlternativeSecurityIds([]models.AlternativeSecurityIdable{alt})
	created, err := c.Devices().Post(ctx, d, nil)
	require.NoError(t, err)
	p := models.NewDevice()
	p.SetAccountEnabled(ptr(false))
	_, err = c.Devices().ByDeviceId(*created.GetId()).Patch(ctx, p, nil)
	require.NoError(t, err)
	got, err := c.Devices().ByDeviceId(*created.GetId()).Get(ctx, nil)
	require.NoError(t, err)
	assert.False(t, *got.GetAccountEnabled())
	require.NoError(t, c.Devices().ByDeviceId(*created.GetId()).Delete(ctx, nil))

	resp, err := rawRequest(t, srv, http.MethodGet, "/v1.0/nothing", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}
