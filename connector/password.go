package connector

import (
	"context"
	"errors"
	"fmt"
)

// PasswordChanger is implemented by connectors that can change a password
// the way its owner does, proving the current one: the directory then
// applies the rules it applies to a user's own change (history, minimum
// age), which an administrator's reset skips. Active Directory: a modify that
// deletes the old unicodePwd and adds the new one; OpenLDAP: Password Modify
// bound as the user, under the ppolicy overlay. Without it, a change fails
// with ErrUnsupported.
type PasswordChanger interface {
	// ChangePassword replaces old by password for the object with the
	// given anchor and DN. The connector never logs the passwords or puts
	// them in an error.
	ChangePassword(ctx context.Context, anchor Anchor, dn string, old, password Secret) error
}

// AccountUnlocker is implemented by connectors that can unlock an account
// locked out after failed sign-ins (Active Directory: lockoutTime = 0;
// OpenLDAP ppolicy: pwdAccountLockedTime removed).
type AccountUnlocker interface {
	UnlockAccount(ctx context.Context, anchor Anchor, dn string) error
}

// Errors of password operations, beside the generic ones (ErrNoSuchObject,
// ErrAccessDenied, ErrUnavailable). Match them with errors.Is; a refusal by
// the directory's password policy is a *PasswordPolicyError, which matches
// ErrPasswordPolicy and ErrConstraint.
var (
	// ErrPasswordPolicy: the directory refused the password under its
	// password policy (length, complexity, history, minimum age).
	ErrPasswordPolicy = errors.New("connector: the password does not meet the directory's password policy")
	// ErrAccountLocked: the account is locked out.
	ErrAccountLocked = errors.New("connector: the account is locked")
	// ErrAccountDisabled: the account is disabled.
	ErrAccountDisabled = errors.New("connector: the account is disabled")
	// ErrWrongPassword: a change named a current password that is not the
	// account's.
	ErrWrongPassword = errors.New("connector: the current password is wrong")
)

// PolicyReason says which rule of a password policy refused a password.
type PolicyReason string

// Reasons a password policy refuses a password. ReasonPolicy is used when
// the directory does not say which rule it was (Windows answers only
// 0000052D).
const (
	ReasonPolicy     PolicyReason = "policy"
	ReasonTooShort   PolicyReason = "too-short"
	ReasonComplexity PolicyReason = "complexity"
	ReasonHistory    PolicyReason = "history"
	ReasonTooYoung   PolicyReason = "too-young"
)

// PasswordPolicyError is a password refused by the directory's policy. It
// never holds the password.
type PasswordPolicyError struct {
	Reason PolicyReason
	// Detail is the directory's own diagnostic text, which names the rule
	// but never the password.
	Detail string
}

func (e *PasswordPolicyError) Error() string {
	s := fmt.Sprintf("connector: the password does not meet the directory's password policy (%s)", e.Reason)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Is matches ErrPasswordPolicy and ErrConstraint.
func (e *PasswordPolicyError) Is(target error) bool {
	return target == ErrPasswordPolicy || target == ErrConstraint
}
