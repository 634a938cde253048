package connector

import "log/slog"

// Secret holds a password or another credential. It prints as "[redacted]"
// through fmt, log/slog and encoding/json, so that a Secret put by mistake in
// a log line, an error or a stored record does not leak. Reveal returns the
// text; call it only where the secret is sent to its destination.
type Secret struct{ s string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{s} }

// Reveal returns the secret text.
func (s Secret) Reveal() string { return s.s }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.s == "" }

const redacted = "[redacted]"

// String implements fmt.Stringer.
func (Secret) String() string { return redacted }

// GoString implements fmt.GoStringer (%#v).
func (Secret) GoString() string { return redacted }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText implements encoding.TextMarshaler, so JSON and YAML encoders
// write "[redacted]" too.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
