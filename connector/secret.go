package connector

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// ErrSecret is returned (wrapped) when a Secret cannot be loaded: an unset
// environment variable, an unreadable file, or the text "[redacted]" that
// a Secret marshals to.
var ErrSecret = errors.New("connector: cannot load secret")

// Secret holds a password or another credential. It prints as "[redacted]"
// with every fmt verb, through log/slog, encoding/json and YAML encoders,
// so that a Secret put by mistake in a log line, an error or a stored
// record does not leak. The text sits behind a pointer to an unexported
// type, so that printing a struct that holds a Secret in an unexported
// field (where fmt cannot call methods and falls back to reflection) shows
// an address, never the text. Reveal returns the text; call it only where
// the secret is sent to its destination.
//
// A Secret decodes from configuration (UnmarshalText, used by
// encoding/json and YAML decoders) in three forms:
//
//	env:NAME       the value of the environment variable NAME (an error when unset)
//	file:PATH      the content of the file at PATH, without one trailing line end
//	literal:TEXT   TEXT as is (for a password that starts with "env:" or "file:")
//	anything else  the text as is
//
// The zero Secret is empty. Secrets are immutable and safe for concurrent
// use; copies share the text.
type Secret struct{ v *secretText }

// secretText is the text of a Secret. fmt prints a pointer to a string as
// its address, at any depth and with any verb (a pointer to a struct would
// be followed at the top level); its own Format redacts too.
type secretText string

func (*secretText) Format(f fmt.State, _ rune) { f.Write([]byte(redacted)) }

// NewSecret wraps s.
func NewSecret(s string) Secret {
	t := secretText(s)
	return Secret{&t}
}

// SecretFromEnv returns the value of the environment variable name; an
// unset variable is an error matching ErrSecret (an empty one is an empty
// Secret).
func SecretFromEnv(name string) (Secret, error) {
	s, ok := os.LookupEnv(name)
	if !ok {
		return Secret{}, fmt.Errorf("%w: environment variable %s is not set", ErrSecret, name)
	}
	return NewSecret(s), nil
}

// SecretFromFile returns the content of the file at path without one
// trailing line end ("\n" or "\r\n"), as written by echo or an editor.
// Errors match ErrSecret and the os error (fs.ErrNotExist…).
func SecretFromFile(path string) (Secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Secret{}, fmt.Errorf("%w: %w", ErrSecret, err)
	}
	s := string(b)
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		s = strings.TrimSuffix(t, "\r")
	}
	return NewSecret(s), nil
}

// Reveal returns the secret text.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return string(*s.v)
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.Reveal() == "" }

// Equal reports whether s and o hold the same text, in constant time.
func (s Secret) Equal(o Secret) bool {
	return subtle.ConstantTimeCompare([]byte(s.Reveal()), []byte(o.Reveal())) == 1
}

const redacted = "[redacted]"

// String implements fmt.Stringer.
func (Secret) String() string { return redacted }

// GoString implements fmt.GoStringer (%#v).
func (Secret) GoString() string { return redacted }

// Format implements fmt.Formatter: every verb, %d, %x and %p included,
// writes "[redacted]".
func (Secret) Format(f fmt.State, _ rune) { f.Write([]byte(redacted)) }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText implements encoding.TextMarshaler, so JSON and YAML encoders
// write "[redacted]" too.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// UnmarshalText implements encoding.TextUnmarshaler, for JSON and YAML
// configuration: see Secret for the env:, file: and literal: forms. The
// text "[redacted]", what a Secret marshals to, is refused, so that a
// configuration written back from a marshalled one fails loudly instead
// of binding with the password "[redacted]". Errors never hold the text.
func (s *Secret) UnmarshalText(text []byte) error {
	t := string(text)
	var (
		v   Secret
		err error
	)
	switch {
	case strings.HasPrefix(t, "env:"):
		v, err = SecretFromEnv(t[len("env:"):])
	case strings.HasPrefix(t, "file:"):
		v, err = SecretFromFile(t[len("file:"):])
	case strings.HasPrefix(t, "literal:"):
		v = NewSecret(t[len("literal:"):])
	case t == redacted:
		err = fmt.Errorf("%w: the value is %q, what a Secret marshals to; give the secret, env:NAME or file:PATH", ErrSecret, redacted)
	default:
		v = NewSecret(t)
	}
	if err != nil {
		return err
	}
	*s = v
	return nil
}
