package main

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseConfig: any file either loads or fails with ConfigErrors, never
// panics.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(validConfig))
	f.Add([]byte("connectors: {a: {ldif: {schema: {types: [{name: x}]}}}}\nrules: r.yaml\nstore: {type: memory}\n"))
	f.Add([]byte("connectors: &a {b: *a}\n"))
	f.Add([]byte("store: [1, {2: 3}]\nhttp: null\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseConfig("adsync.yaml", data)
		if err != nil {
			require.ErrorIs(t, err, ErrConfig)
			var ce *ConfigError
			require.True(t, errors.As(err, &ce))
			return
		}
		require.NotNil(t, cfg)
	})
}
