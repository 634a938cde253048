// Package redact removes credentials from text that goes into errors and
// logs.
package redact

import (
	"net/url"
	"strings"
)

// URL returns raw for an error message or a log without the user
// information that may hold a password: when raw holds an '@',
// everything from after the scheme up to its last '@' is replaced by "…"
// ("ldaps://admin:pw@dc1:636" gives "ldaps://…@dc1:636"). Cutting at the
// last '@' rather than parsing holds also when a '/', '?' or '#' in the
// user name moves the password out of the URL's user information.
func URL(raw string) string {
	i := strings.LastIndexByte(raw, '@')
	if i < 0 {
		return raw
	}
	prefix := ""
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" && strings.HasPrefix(raw, u.Scheme+"://") {
		prefix = u.Scheme + "://"
	}
	return prefix + "…" + raw[i:]
}
