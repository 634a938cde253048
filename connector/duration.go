package connector

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration that configuration files write as text:
// "30s", "5m", "1h30m" (time.ParseDuration). It decodes from JSON strings
// and YAML scalars; a JSON number is taken as nanoseconds, as
// time.Duration's own encoding writes it. Config structs use it for
// their timeouts and intervals:
//
//	Timeout connector.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
//
// and read it with .D() (or time.Duration(d)).
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String implements fmt.Stringer: "30s".
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (JSON strings, YAML
// scalars): a time.ParseDuration string; "" is 0.
func (d *Duration) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("connector: duration %q: want a number with a unit, as 30s, 5m or 1h30m", text)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalJSON implements json.Unmarshaler: a string as UnmarshalText, or
// a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		return d.UnmarshalText([]byte(s))
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("connector: duration %s: want a string such as \"30s\" or a number of nanoseconds", b)
	}
	*d = Duration(n)
	return nil
}
