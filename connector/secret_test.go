package connector_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/idbridge/idbridge/connector"
)

const secretText = "Sekr1t-unit-xq7"

// holder keeps a Secret where fmt and slog reach it only by reflection.
type holder struct {
	name string
	pw   connector.Secret
	ptr  *connector.Secret
}

func TestSecretRedactsEveryVerb(t *testing.T) {
	pw := connector.NewSecret(secretText)
	h := holder{name: "bind", pw: pw, ptr: &pw}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%p", "%T", "%10.3s", "%U", "%c", "%o", "%b", "%e", "%08x"} {
		t.Run(verb, func(t *testing.T) {
			for _, v := range []any{pw, &pw, h, &h, []connector.Secret{pw}, map[string]connector.Secret{"k": pw}} {
				out := fmt.Sprintf(verb, v)
				assert.NotContains(t, out, secretText, "%T", v)
				assert.NotContains(t, out, fmt.Sprintf("%x", secretText), "%T", v)
				assert.NotContains(t, out, fmt.Sprintf("%X", secretText), "%T", v)
				assert.NotContains(t, out, fmt.Sprintf("%d", []byte(secretText)), "%T", v)
			}
		})
	}
	assert.Equal(t, "[redacted]", fmt.Sprintf("%d", pw))
	assert.Equal(t, secretText, pw.Reveal())
}

func TestSecretRedactedInLogsAndEncodings(t *testing.T) {
	pw := connector.NewSecret(secretText)
	h := holder{name: "bind", pw: pw, ptr: &pw}
	var text, js strings.Builder
	for _, l := range []*slog.Logger{slog.New(slog.NewTextHandler(&text, nil)), slog.New(slog.NewJSONHandler(&js, nil))} {
		l.Info("bind", "password", pw, "holder", h, "ptr", &h, slog.Any("group", []any{pw}))
	}
	j, err := json.Marshal(struct {
		P connector.Secret
		Q *connector.Secret
	}{pw, &pw})
	require.NoError(t, err)
	y, err := yaml.Marshal(struct{ P connector.Secret }{pw})
	require.NoError(t, err)
	for name, out := range map[string]string{"text": text.String(), "json handler": js.String(), "json": string(j), "yaml": string(y), "error": fmt.Errorf("bind: %v %+v", pw, h).Error()} {
		assert.NotContains(t, out, secretText, name)
		assert.Contains(t, out, "[redacted]", name)
	}
}

func TestSecretZero(t *testing.T) {
	var zero connector.Secret
	assert.True(t, zero.IsZero())
	assert.Empty(t, zero.Reveal())
	assert.Equal(t, "[redacted]", fmt.Sprint(zero))
	assert.True(t, connector.NewSecret("").IsZero())
	assert.False(t, connector.NewSecret("x").IsZero())
	assert.True(t, connector.NewSecret("a").Equal(connector.NewSecret("a")))
	assert.False(t, connector.NewSecret("a").Equal(connector.NewSecret("b")))
}

func TestSecretDecodes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	require.NoError(t, os.WriteFile(file, []byte(secretText+"\n"), 0o600))
	t.Setenv("IDBRIDGE_TEST_SECRET_XQ7", secretText)

	tests := []struct {
		name, text, want string
		err              string
	}{
		{name: "Literal", text: secretText, want: secretText},
		{name: "Env", text: "env:IDBRIDGE_TEST_SECRET_XQ7", want: secretText},
		{name: "File", text: "file:" + file, want: secretText},
		{name: "EscapedLiteral", text: "literal:env:HOME", want: "env:HOME"},
		{name: "Empty", text: "", want: ""},
		{name: "UnsetEnv", text: "env:IDBRIDGE_TEST_SECRET_UNSET_XQ7", err: "IDBRIDGE_TEST_SECRET_UNSET_XQ7 is not set"},
		{name: "MissingFile", text: "file:" + filepath.Join(dir, "none"), err: "no such file"},
		{name: "Redacted", text: "[redacted]", err: "redacted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(t *testing.T, s connector.Secret, err error) {
				t.Helper()
				if tt.err != "" {
					require.ErrorContains(t, err, tt.err)
					assert.ErrorIs(t, err, connector.ErrSecret)
					return
				}
				require.NoError(t, err)
				assert.Equal(t, tt.want, s.Reveal())
			}
			t.Run("Text", func(t *testing.T) {
				var s connector.Secret
				check(t, s, s.UnmarshalText([]byte(tt.text)))
			})
			t.Run("JSON", func(t *testing.T) {
				var cfg struct {
					Password connector.Secret `json:"password"`
				}
				b, _ := json.Marshal(map[string]string{"password": tt.text})
				err := json.Unmarshal(b, &cfg)
				check(t, cfg.Password, err)
			})
			t.Run("YAML", func(t *testing.T) {
				var cfg struct {
					Password connector.Secret `yaml:"password"`
				}
				b, _ := yaml.Marshal(map[string]string{"password": tt.text})
				err := yaml.Unmarshal(b, &cfg)
				check(t, cfg.Password, err)
			})
		})
	}
}

func TestSecretErrorsDoNotEchoTheValue(t *testing.T) {
	// A YAML value of the wrong kind must not be repeated in the error.
	var cfg struct {
		Password connector.Secret `yaml:"password"`
	}
	err := yaml.Unmarshal([]byte("password: [\""+secretText+"\"]\n"), &cfg)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secretText)
}

func TestSecretConstructors(t *testing.T) {
	t.Setenv("IDBRIDGE_TEST_SECRET_XQ7", secretText)
	s, err := connector.SecretFromEnv("IDBRIDGE_TEST_SECRET_XQ7")
	require.NoError(t, err)
	assert.Equal(t, secretText, s.Reveal())
	_, err = connector.SecretFromEnv("IDBRIDGE_TEST_SECRET_UNSET_XQ7")
	assert.ErrorIs(t, err, connector.ErrSecret)

	file := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(file, []byte(secretText+"\r\n"), 0o600))
	s, err = connector.SecretFromFile(file)
	require.NoError(t, err)
	assert.Equal(t, secretText, s.Reveal(), "one trailing line end is dropped")
}
