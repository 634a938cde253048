// Package redact removes credentials from text that goes into errors and
// logs.
package redact

import (
	"net/url"
	"strings"
)

// URL returns raw with the password of its user information replaced by
// "xxxxx" (url.URL.Redacted). Text that does not parse as a URL is cut
// before its last '@', so that it cannot echo a password either.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.LastIndexByte(raw, '@'); i >= 0 {
			return "…" + raw[i:]
		}
		return raw
	}
	return u.Redacted()
}
