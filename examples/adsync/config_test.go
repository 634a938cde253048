package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
)

const validConfig = `connectors:
  dir:
    ldap:
      url: ldaps://dc.example.test
      bindDN: cn=sync,dc=example,dc=test
      password: env:ADSYNC_TEST_PASSWORD
      timeout: 45s
      containers: [{dn: "dc=example,dc=test"}]
      types: [{name: user, objectClasses: [inetOrgPerson]}]
  entra:
    graph:
      tenantID: contoso.onmicrosoft.com
      clientID: 00000000-0000-0000-0000-000000000001
      clientSecret: file:client-secret.txt
      types: [user]
      writeBudget: {writes: 100, per: 10s}
rules: rules.yaml
store:
  type: bolt
  path: state/idbridge.db
schedule:
  interval: 10m
  debounce: 500ms
engine:
  staging: true
  deletionThreshold: 100
http:
  listen: 127.0.0.1:0
`

func TestLoadConfig(t *testing.T) {
	// file: paths in secrets are read as given (relative to the working
	// directory), so this runs from the config's directory.
	withSecrets(t)
	dir, err := os.Getwd()
	require.NoError(t, err)
	path := filepath.Join(dir, "adsync.yaml")
	require.NoError(t, os.WriteFile(path, []byte(validConfig), 0o600))

	cfg, err := LoadConfig(path)
	require.NoError(t, err)
	ldapCfg := cfg.Connectors["dir"].LDAP
	require.NotNil(t, ldapCfg)
	assert.Equal(t, "s3cret-from-env", ldapCfg.Password.Reveal())
	assert.Equal(t, 45*time.Second, ldapCfg.Timeout)
	g := cfg.Connectors["entra"].Graph
	require.NotNil(t, g)
	assert.Equal(t, "s3cret-from-file", g.ClientSecret.Reveal())
	assert.Equal(t, 10*time.Second, g.WriteBudget.Per)
	assert.Equal(t, []string{"user"}, g.Types)
	assert.Equal(t, filepath.Join(dir, "rules.yaml"), cfg.Rules, "relative to the configuration file")
	assert.Equal(t, filepath.Join(dir, "state", "idbridge.db"), cfg.Store.Path)
	assert.Equal(t, 10*time.Minute, cfg.Schedule.Interval.D())
	assert.Equal(t, 500*time.Millisecond, schedule(cfg.Schedule).Debounce)
	assert.True(t, cfg.Engine.Staging)
	assert.Equal(t, 100, engineOptions(cfg.Engine, nil).DeletionThreshold)
}

// withSecrets sets the environment variable and the file the secrets of
// validConfig name, and changes to the file's directory.
func withSecrets(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ADSYNC_TEST_PASSWORD", "s3cret-from-env")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "client-secret.txt"), []byte("s3cret-from-file\n"), 0o600))
	t.Chdir(dir)
}

func TestConfigErrors(t *testing.T) {
	withSecrets(t)
	require.NoError(t, os.Unsetenv("ADSYNC_UNSET_VARIABLE"))
	tests := []struct {
		name    string
		edit    func(string) string
		line    int
		field   string
		message string
	}{
		{
			name:    "unknown field",
			edit:    func(s string) string { return strings.Replace(s, "      timeout: 45s", "      timeuot: 45s", 1) },
			line:    7,
			field:   "connectors.dir.ldap.timeuot",
			message: "unknown field",
		},
		{
			name: "unset environment variable of a secret",
			edit: func(s string) string {
				return strings.Replace(s, "env:ADSYNC_TEST_PASSWORD", "env:ADSYNC_UNSET_VARIABLE", 1)
			},
			line:    6,
			field:   "connectors.dir.ldap.password",
			message: "ADSYNC_UNSET_VARIABLE",
		},
		{
			name: "missing secret file",
			edit: func(s string) string {
				return strings.Replace(s, "file:client-secret.txt", "file:/nonexistent/secret", 1)
			},
			line:    14,
			field:   "connectors.entra.graph.clientSecret",
			message: "no such file",
		},
		{
			name:    "duration that is not one",
			edit:    func(s string) string { return strings.Replace(s, "interval: 10m", "interval: ten minutes", 1) },
			line:    22,
			field:   "schedule.interval",
			message: "want a number with a unit",
		},
		{
			name: "wrong type",
			edit: func(s string) string {
				return strings.Replace(s, "deletionThreshold: 100", "deletionThreshold: many", 1)
			},
			line:    26,
			field:   "engine.deletionThreshold",
			message: "cannot unmarshal",
		},
		{
			name:    "list where a mapping is wanted",
			edit:    func(s string) string { return strings.Replace(s, "  type: bolt\n", "  type: [bolt]\n", 1) },
			line:    19,
			field:   "store.type",
			message: "want a single value",
		},
		{
			name:    "unknown store type",
			edit:    func(s string) string { return strings.Replace(s, "type: bolt", "type: mongo", 1) },
			line:    19,
			field:   "store.type",
			message: "unknown store type",
		},
		{
			name:    "missing required value",
			edit:    func(s string) string { return strings.Replace(s, "  path: state/idbridge.db\n", "", 1) },
			line:    19, // the store mapping's first line
			field:   "store.path",
			message: "needs a path",
		},
		{
			name: "two connector types",
			edit: func(s string) string {
				return strings.Replace(s, "  entra:\n", "  entra:\n    ldif: {path: x.ldif}\n", 1)
			},
			line:    11,
			field:   "connectors.entra",
			message: "exactly one of ldap, graph, ldif",
		},
		{
			name:    "connector's own validation",
			edit:    func(s string) string { return strings.Replace(s, "      url: ldaps://dc.example.test\n", "", 1) },
			line:    4,
			field:   "connectors.dir.ldap",
			message: "url is required",
		},
		{
			name:    "syntax",
			edit:    func(s string) string { return strings.Replace(s, "rules: rules.yaml", "rules: a: b", 1) },
			line:    17,
			message: "mapping values are not allowed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "adsync.yaml")
			_, err := parseConfig(path, []byte(tt.edit(validConfig)))
			require.Error(t, err)
			require.ErrorIs(t, err, ErrConfig)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, path, ce.File)
			assert.Equal(t, tt.line, ce.Line, "%v", err)
			assert.Equal(t, tt.field, ce.Field, "%v", err)
			assert.Contains(t, err.Error(), tt.message)
			assert.Contains(t, err.Error(), path+":")
			assert.NotContains(t, err.Error(), "s3cret", "no secret in errors")
		})
	}
}

// A secret's value in a field that wants something else must not appear in
// the error (a password pasted in the wrong place).
func TestConfigErrorHidesValues(t *testing.T) {
	withSecrets(t)
	bad := strings.Replace(validConfig, "deletionThreshold: 100", "deletionThreshold: hunter2-password", 1)
	_, err := parseConfig("adsync.yaml", []byte(bad))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestConfigSecretsRedacted(t *testing.T) {
	withSecrets(t)
	cfg, err := parseConfig("adsync.yaml", []byte(strings.Replace(validConfig, "file:client-secret.txt", "literal:s3cret-literal", 1)))
	require.NoError(t, err)
	var sb strings.Builder
	c := &cli{stderr: &sb}
	c.logger(LogConfig{Format: "json"}).Info("config", "config", cfg)
	assert.NotContains(t, sb.String(), "s3cret")
	assert.True(t, cfg.Connectors["entra"].Graph.ClientSecret.Equal(connector.NewSecret("s3cret-literal")))
}

func TestConfigSeveralErrors(t *testing.T) {
	withSecrets(t)
	bad := strings.Replace(strings.Replace(validConfig, "timeout: 45s", "timeuot: 45s", 1), "interval: 10m", "interval: x", 1)
	_, err := parseConfig("adsync.yaml", []byte(bad))
	require.Error(t, err)
	var joined interface{ Unwrap() []error }
	require.True(t, errors.As(err, &joined))
	assert.Len(t, joined.Unwrap(), 2)
}
