package writeback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// Errors of password writeback. Match them with errors.Is. Refusals by the
// directory come through as the connector package's errors:
// connector.ErrPasswordPolicy (a *connector.PasswordPolicyError, which names
// the rule), connector.ErrWrongPassword, connector.ErrAccountLocked,
// connector.ErrAccountDisabled, connector.ErrUnavailable.
var (
	// ErrUserNotFound: no metaverse entry matches the request's user.
	ErrUserNotFound = errors.New("writeback: user not found")
	// ErrNotSynced: the user exists but has no object in any directory that
	// takes password writeback (a cloud-only user, or one out of scope).
	ErrNotSynced = errors.New("writeback: the user is not synchronised from an on-premises directory")
	// ErrAmbiguousUser: the request's user matches more than one entry.
	ErrAmbiguousUser = errors.New("writeback: more than one user matches")
	// ErrInvalidRequest: the request names no user or carries no password.
	ErrInvalidRequest = errors.New("writeback: invalid request")
	// ErrRateLimited: too many requests for this user, or in all; a
	// *RateLimitError says when to try again.
	ErrRateLimited = errors.New("writeback: too many password requests")
)

// UserRef names the cloud user whose password changes, the ways Entra ID
// names it in a self-service password reset. Set one field; when several are
// set they must name the same user.
type UserRef struct {
	// ObjectID is the user's object id in the cloud directory: the anchor
	// of its object in the Cloud connector's space.
	ObjectID string `json:"objectId,omitempty"`
	// UserPrincipalName is matched against the metaverse attribute
	// PasswordConfig.UPNAttribute.
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	// SourceAnchor (Entra ID's onPremisesImmutableId) is matched against the
	// metaverse attribute PasswordConfig.SourceAnchorAttribute.
	SourceAnchor string `json:"sourceAnchor,omitempty"`
}

func (u UserRef) String() string {
	switch {
	case u.ObjectID != "":
		return "objectId " + u.ObjectID
	case u.UserPrincipalName != "":
		return "userPrincipalName " + u.UserPrincipalName
	case u.SourceAnchor != "":
		return "sourceAnchor " + u.SourceAnchor
	}
	return "no user"
}

// PasswordRequest is one password change or reset.
type PasswordRequest struct {
	User UserRef
	// Password is the new password.
	Password connector.Secret
	// Current, when set, makes the request a change proving the current
	// password: the directory enforces history and minimum age as for a
	// user's own change. When empty the request is an administrator's
	// reset (self-service password reset after the cloud verified the
	// user).
	Current connector.Secret
	// Unlock also unlocks an account locked out by failed sign-ins, as
	// Entra ID's "unlock accounts without resetting the password" option.
	Unlock bool
}

// Op names the operation of a request: "change" or "reset".
func (r *PasswordRequest) Op() string {
	if r.Current.IsZero() {
		return "reset"
	}
	return "change"
}

// PasswordResult says where a password was written.
type PasswordResult struct {
	EntryID string   // the user's metaverse entry
	Targets []Target // the directory objects whose password was set
}

// Target is one directory object written by password writeback.
type Target struct {
	Connector string
	DN        string
	Unlocked  bool
}

// PasswordConfig configures a PasswordService.
type PasswordConfig struct {
	// Store is the engine's store, read (never written) to resolve users.
	Store metaverse.Store
	// Connectors by name, as given to the engine.
	Connectors map[string]connector.Connector
	// Cloud names the connector of the cloud directory (graphsync): a
	// request's ObjectID is an anchor in its connector space.
	Cloud string
	// Targets names the directory connectors that take password writeback.
	// Each must implement connector.PasswordSetter. Default: every connector
	// but Cloud that implements it.
	Targets []string
	// EntryType is the metaverse type of users. Default "person".
	EntryType string
	// UPNAttribute and SourceAnchorAttribute are the metaverse attributes a
	// request's UserPrincipalName and SourceAnchor are matched against. They
	// are indexed when the service is built. Defaults "userPrincipalName"
	// and "sourceAnchor".
	UPNAttribute          string
	SourceAnchorAttribute string
	// Limits bound the request rate; the zero value is DefaultLimits.
	Limits Limits
	// Logger receives one audit record per request (level Info): who asked
	// (when an HTTP handler authenticated the caller), which user, which
	// operation, the outcome. Never a password. Nil discards.
	Logger *slog.Logger
	// Now is the clock of the rate limits; nil means time.Now.
	Now func() time.Time
}

// PasswordService writes passwords changed or reset in the cloud back to
// the on-premises directory: it resolves the cloud user through the
// metaverse to the user's directory objects and sets the password there
// through connector.PasswordSetter (or connector.PasswordChanger for a
// change). The password exists only as a connector.Secret handed to the
// connector: it is never stored, logged or put in an error.
//
// A PasswordService is safe for concurrent use.
type PasswordService struct {
	cfg     PasswordConfig
	targets []string
	limiter *limiter
	log     *slog.Logger
}

// NewPasswordService checks cfg, indexes the lookup attributes and returns
// the service.
func NewPasswordService(ctx context.Context, cfg PasswordConfig) (*PasswordService, error) {
	if cfg.Store == nil {
		return nil, errors.New("writeback: PasswordConfig.Store is required")
	}
	if cfg.Cloud != "" {
		if _, ok := cfg.Connectors[cfg.Cloud]; !ok {
			return nil, fmt.Errorf("writeback: the cloud connector %q is not among the connectors", cfg.Cloud)
		}
	}
	if cfg.EntryType == "" {
		cfg.EntryType = "person"
	}
	if cfg.UPNAttribute == "" {
		cfg.UPNAttribute = "userPrincipalName"
	}
	if cfg.SourceAnchorAttribute == "" {
		cfg.SourceAnchorAttribute = "sourceAnchor"
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	if err := cfg.Limits.validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	targets := cfg.Targets
	if len(targets) == 0 {
		for name, c := range cfg.Connectors {
			if _, ok := c.(connector.PasswordSetter); ok && name != cfg.Cloud {
				targets = append(targets, name)
			}
		}
		slices.Sort(targets)
	}
	if len(targets) == 0 {
		return nil, errors.New("writeback: no connector takes password writeback (none implements connector.PasswordSetter)")
	}
	for _, name := range targets {
		c, ok := cfg.Connectors[name]
		if !ok {
			return nil, fmt.Errorf("writeback: target connector %q is not among the connectors", name)
		}
		if _, ok := c.(connector.PasswordSetter); !ok {
			return nil, fmt.Errorf("writeback: target connector %q cannot set passwords: %w", name, connector.ErrUnsupported)
		}
	}
	if err := cfg.Store.Index(ctx, cfg.UPNAttribute, cfg.SourceAnchorAttribute); err != nil {
		return nil, fmt.Errorf("writeback: indexing %s and %s: %w", cfg.UPNAttribute, cfg.SourceAnchorAttribute, err)
	}
	return &PasswordService{cfg: cfg, targets: targets, limiter: newLimiter(cfg.Limits, cfg.Now), log: log}, nil
}

// SetPassword carries out one change or reset. Errors match this package's
// sentinels or the connector package's password errors; none holds a
// password.
func (s *PasswordService) SetPassword(ctx context.Context, req PasswordRequest) (*PasswordResult, error) {
	return s.setPassword(ctx, "", req)
}

func (s *PasswordService) setPassword(ctx context.Context, principal string, req PasswordRequest) (res *PasswordResult, err error) {
	start := s.cfg.Now()
	defer func() { s.audit(ctx, principal, req, res, err, s.cfg.Now().Sub(start)) }()
	if req.Password.IsZero() {
		return nil, fmt.Errorf("%w: no new password", ErrInvalidRequest)
	}
	if !s.limiter.allowGlobal() {
		return nil, &RateLimitError{Scope: "global", RetryAfter: s.cfg.Limits.Global.Per / time.Duration(s.cfg.Limits.Global.Requests)}
	}
	targets, entryID, err := s.resolve(ctx, req.User)
	if err != nil {
		return nil, err
	}
	if wait, ok := s.limiter.allowUser(entryID); !ok {
		return &PasswordResult{EntryID: entryID}, &RateLimitError{Scope: "user", RetryAfter: wait}
	}
	res = &PasswordResult{EntryID: entryID}
	for _, t := range targets {
		if err := s.write(ctx, t, req); err != nil {
			return res, fmt.Errorf("writeback: %s of %s in %q: %w", req.Op(), t.obj.DN, t.conn, err)
		}
		res.Targets = append(res.Targets, Target{Connector: t.conn, DN: t.obj.DN, Unlocked: req.Unlock})
	}
	return res, nil
}

type target struct {
	conn string
	obj  *metaverse.CSObject
}

func (s *PasswordService) write(ctx context.Context, t target, req PasswordRequest) error {
	c := s.cfg.Connectors[t.conn]
	if req.Current.IsZero() {
		if err := c.(connector.PasswordSetter).SetPassword(ctx, t.obj.Anchor, t.obj.DN, req.Password); err != nil {
			return err
		}
	} else {
		ch, ok := c.(connector.PasswordChanger)
		if !ok {
			return fmt.Errorf("a change proving the current password: %w", connector.ErrUnsupported)
		}
		if err := ch.ChangePassword(ctx, t.obj.Anchor, t.obj.DN, req.Current, req.Password); err != nil {
			return err
		}
	}
	if req.Unlock {
		u, ok := c.(connector.AccountUnlocker)
		if !ok {
			return fmt.Errorf("the password was set; unlocking: %w", connector.ErrUnsupported)
		}
		if err := u.UnlockAccount(ctx, t.obj.Anchor, t.obj.DN); err != nil {
			return fmt.Errorf("the password was set; unlocking: %w", err)
		}
	}
	return nil
}

// resolve finds the user's metaverse entry and its objects in the target
// directories.
func (s *PasswordService) resolve(ctx context.Context, u UserRef) ([]target, string, error) {
	if u.ObjectID == "" && u.UserPrincipalName == "" && u.SourceAnchor == "" {
		return nil, "", fmt.Errorf("%w: no user named (objectId, userPrincipalName or sourceAnchor)", ErrInvalidRequest)
	}
	if u.ObjectID != "" && s.cfg.Cloud == "" {
		return nil, "", fmt.Errorf("%w: an objectId needs PasswordConfig.Cloud", ErrInvalidRequest)
	}
	var targets []target
	var entryID string
	err := s.cfg.Store.View(ctx, func(tx metaverse.Tx) error {
		ids := map[string]bool{}
		add := func(found []string) {
			for _, id := range found {
				ids[id] = true
			}
		}
		if u.ObjectID != "" {
			o, err := tx.ObjectByAnchor(ctx, s.cfg.Cloud, connector.Anchor(u.ObjectID))
			switch {
			case errors.Is(err, metaverse.ErrNotFound):
				return fmt.Errorf("%w: %s", ErrUserNotFound, u)
			case err != nil:
				return err
			case o.EntryID == "":
				return fmt.Errorf("%w: %s is not joined to a metaverse entry", ErrNotSynced, u)
			}
			add([]string{o.EntryID})
		}
		for _, q := range []struct{ attr, v string }{{s.cfg.UPNAttribute, u.UserPrincipalName}, {s.cfg.SourceAnchorAttribute, u.SourceAnchor}} {
			if q.v == "" {
				continue
			}
			found, err := tx.FindEntries(ctx, s.cfg.EntryType, q.attr, connector.StringValue(q.v))
			if err != nil {
				return err
			}
			if len(found) == 0 {
				return fmt.Errorf("%w: %s", ErrUserNotFound, u)
			}
			add(found)
		}
		if len(ids) > 1 {
			return fmt.Errorf("%w: %s matches %d entries", ErrAmbiguousUser, u, len(ids))
		}
		for id := range ids {
			entryID = id
		}
		e, err := tx.Entry(ctx, entryID)
		if errors.Is(err, metaverse.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrUserNotFound, u)
		}
		if err != nil {
			return err
		}
		for _, l := range e.Links {
			if !slices.Contains(s.targets, l.Connector) {
				continue
			}
			o, err := tx.Object(ctx, l.Connector, l.ObjectID)
			if errors.Is(err, metaverse.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if o.Anchor == "" {
				continue // provisioned, not yet exported: no account to write to
			}
			targets = append(targets, target{conn: l.Connector, obj: o})
		}
		return nil
	})
	if err != nil {
		return nil, entryID, err
	}
	if len(targets) == 0 {
		return nil, entryID, fmt.Errorf("%w: %s has no object in %v", ErrNotSynced, u, s.targets)
	}
	return targets, entryID, nil
}

// audit writes one record per request: who asked, which user, which
// operation, the outcome and its reason — never a password.
func (s *PasswordService) audit(ctx context.Context, principal string, req PasswordRequest, res *PasswordResult, err error, took time.Duration) {
	attrs := []slog.Attr{
		slog.String("user", req.User.String()),
		slog.String("op", req.Op()),
		slog.Bool("unlock", req.Unlock),
		slog.String("outcome", Outcome(err)),
		slog.Duration("took", took),
	}
	if principal != "" {
		attrs = append(attrs, slog.String("principal", principal))
	}
	if res != nil && res.EntryID != "" {
		attrs = append(attrs, slog.String("entry", res.EntryID))
		for _, t := range res.Targets {
			attrs = append(attrs, slog.String("dn", t.DN))
		}
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "password writeback", attrs...)
}

// Outcome names the outcome of a password request for audit records,
// metrics and API responses: "ok", "policy", "wrong-password", "locked",
// "disabled", "not-found", "not-synced", "ambiguous", "invalid",
// "rate-limited", "unavailable", "unsupported", "canceled" or "error".
func Outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, connector.ErrPasswordPolicy):
		return "policy"
	case errors.Is(err, connector.ErrWrongPassword):
		return "wrong-password"
	case errors.Is(err, connector.ErrAccountLocked):
		return "locked"
	case errors.Is(err, connector.ErrAccountDisabled):
		return "disabled"
	case errors.Is(err, ErrUserNotFound), errors.Is(err, connector.ErrNoSuchObject):
		return "not-found"
	case errors.Is(err, ErrNotSynced):
		return "not-synced"
	case errors.Is(err, ErrAmbiguousUser):
		return "ambiguous"
	case errors.Is(err, ErrInvalidRequest):
		return "invalid"
	case errors.Is(err, ErrRateLimited):
		return "rate-limited"
	case errors.Is(err, connector.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, connector.ErrUnsupported):
		return "unsupported"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	}
	return "error"
}
