package connector

import "errors"

// IsPermanent reports whether sending the same change again cannot succeed
// until something changes: err is marked with Permanent, or it wraps
// ErrInvalidObject, ErrUnsupported or ErrConstraint (which includes
// ErrDuplicateValue), and it is not retryable. The engine parks such
// exports instead of re-sending them at every export run.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	var p *permanentError
	if errors.As(err, &p) {
		return true
	}
	if IsRetryable(err) {
		return false
	}
	return errors.Is(err, ErrInvalidObject) || errors.Is(err, ErrUnsupported) || errors.Is(err, ErrConstraint)
}
