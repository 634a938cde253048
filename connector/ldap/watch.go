package ldap

import (
	"context"
	"fmt"
	"time"

	ldap "github.com/go-ldap/ldap/v3"

	"github.com/idbridge/idbridge/connector"
)

// Watch calls notify when an entry of the configured types changes: with an
// RFC 4533 refreshAndPersist search on a connection of its own (a change
// reaches notify within milliseconds), or on Active Directory by polling
// DirSync every second (a DirSync search with nothing new is cheap). Other
// servers return connector.ErrUnsupported (the engine then polls with
// delta imports).
func (c *Connector) Watch(ctx context.Context, notify func()) error {
	if err := c.init(ctx); err != nil {
		return err
	}
	if c.method() == methodDirSync {
		return c.pollDirSync(ctx, notify)
	}
	if !c.root.syncrepl {
		return fmt.Errorf("ldap: %s offers no content synchronization to watch: %w", redactURL(c.cfg.URL), connector.ErrUnsupported)
	}
	conn, err := c.s.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(c.cfg.Containers))
	for _, ct := range c.cfg.Containers {
		go func() { errs <- c.persist(ctx, conn, ct.DN, notify) }()
	}
	var first error
	for range c.cfg.Containers {
		if err := <-errs; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	if ctx.Err() != nil && first == nil {
		return ctx.Err()
	}
	return first
}

// persist runs one refreshAndPersist search from the current state of base
// (a cookie taken now, so the refresh phase is empty).
func (c *Connector) persist(ctx context.Context, conn *ldap.Conn, base string, notify func()) error {
	cookie, err := c.syncrepl(ctx, base, noMatch, nil, nil, nil)
	if err != nil {
		return err
	}
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, c.filter(), []string{"1.1"}, nil)
	res := conn.Syncrepl(ctx, req, 16, ldap.SyncRequestModeRefreshAndPersist, cookie, false)
	for res.Next() {
		if res.Entry() != nil {
			notify()
			continue
		}
		for _, ctl := range res.Controls() {
			if info, ok := ctl.(*ldap.ControlSyncInfo); ok && info.SyncIdSet != nil && info.SyncIdSet.RefreshDeletes {
				notify() // deletes
			}
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("ldap: watching %s: %w", base, mapErr(err))
	}
	return fmt.Errorf("ldap: watching %s: the server ended the persistent search: %w", base, connector.ErrUnavailable)
}

// dirSyncPoll is how often Watch asks Active Directory for changes.
const dirSyncPoll = time.Second

func (c *Connector) pollDirSync(ctx context.Context, notify func()) error {
	cookie, err := c.dirSync(ctx, noMatch, nil, nil)
	if err != nil {
		return err
	}
	t := time.NewTicker(dirSyncPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		changed := false
		next, err := c.dirSync(ctx, c.filter(), cookie, func(e *ldap.Entry) error {
			if !c.excluded(e.DN) || len(e.GetAttributeValues("isDeleted")) > 0 {
				changed = true
			}
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		cookie = next
		if changed {
			notify()
		}
	}
}
