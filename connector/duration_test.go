package connector_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/idbridge/idbridge/connector"
)

func TestDurationDecodes(t *testing.T) {
	type cfg struct {
		Timeout connector.Duration `json:"timeout" yaml:"timeout"`
	}
	tests := []struct {
		name, json, yaml string
		want             time.Duration
		err              bool
	}{
		{"Seconds", `{"timeout":"30s"}`, "timeout: 30s", 30 * time.Second, false},
		{"Compound", `{"timeout":"1h30m"}`, "timeout: 1h30m", 90 * time.Minute, false},
		{"Empty", `{"timeout":""}`, `timeout: ""`, 0, false},
		{"NoUnit", `{"timeout":"30"}`, "timeout: \"30\"", 0, true},
		{"Garbage", `{"timeout":"soon"}`, "timeout: soon", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var j, y cfg
			errJ := json.Unmarshal([]byte(tt.json), &j)
			errY := yaml.Unmarshal([]byte(tt.yaml), &y)
			if tt.err {
				assert.Error(t, errJ)
				assert.Error(t, errY)
				return
			}
			require.NoError(t, errJ)
			require.NoError(t, errY)
			assert.Equal(t, tt.want, j.Timeout.D())
			assert.Equal(t, tt.want, y.Timeout.D())
		})
	}
	var j cfg
	require.NoError(t, json.Unmarshal([]byte(`{"timeout":1000000000}`), &j), "nanoseconds, as time.Duration encodes")
	assert.Equal(t, time.Second, j.Timeout.D())
	b, err := json.Marshal(cfg{Timeout: connector.Duration(90 * time.Second)})
	require.NoError(t, err)
	assert.JSONEq(t, `{"timeout":"1m30s"}`, string(b))
}
