package etcdelector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/idbridge/idbridge/ha"
)

// Options tune an Elector. The zero value (or nil) is the default.
type Options struct {
	// Prefix of the election keys. Default "/idbridge/ha/".
	Prefix string `json:"prefix,omitempty" yaml:"prefix,omitempty"`
	// TTL of the etcd lease, rounded up to whole seconds (etcd's unit; the
	// server may raise it to its minimum, about 2 s with default
	// settings). Default ha.DefaultTTL.
	TTL time.Duration `json:"ttl,omitempty" yaml:"ttl,omitempty"`
	// Holder is the value of this node's election key. Default: host
	// name, process id and a random suffix.
	Holder string `json:"holder,omitempty" yaml:"holder,omitempty"`
	// Logger receives lease changes; nil discards them.
	Logger *slog.Logger `json:"-" yaml:"-"`
}

// Validate reports invalid options.
func (o *Options) Validate() error {
	if o == nil {
		return nil
	}
	if o.TTL < 0 {
		return errors.New("etcdelector: Options.TTL must not be negative")
	}
	if o.Prefix != "" && !strings.HasSuffix(o.Prefix, "/") {
		return fmt.Errorf("etcdelector: Options.Prefix %q must end with /", o.Prefix)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = "/idbridge/ha/"
	}
	if o.TTL == 0 {
		o.TTL = ha.DefaultTTL
	}
	o.TTL = time.Duration(math.Ceil(o.TTL.Seconds())) * time.Second
	if o.Holder == "" {
		o.Holder = ha.DefaultHolder()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Elector is an ha.Elector on etcd. It is safe for concurrent use.
type Elector struct {
	cli  *clientv3.Client
	opts Options
	log  *slog.Logger

	ctx    context.Context // ends on Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	held ha.Held
}

var _ ha.Elector = (*Elector)(nil)

// New returns an elector that campaigns through cli. The caller keeps
// cli and closes it after the elector.
func New(cli *clientv3.Client, opts *Options) (*Elector, error) {
	if cli == nil {
		return nil, errors.New("etcdelector: a client is required")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	o = o.withDefaults()
	e := &Elector{cli: cli, opts: o, log: o.Logger}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	return e, nil
}

// TTL returns the lease time to live, in whole seconds.
func (e *Elector) TTL() time.Duration { return e.opts.TTL }

type lease struct {
	*ha.BaseLease
	session *concurrency.Session
}

// Campaign implements ha.Elector: it grants an etcd lease of the TTL,
// opens a concurrency.Session on it and campaigns in the key's election;
// the term is the create revision of the leader key, which grows from one
// leader to the next because etcd's revisions do.
func (e *Elector) Campaign(ctx context.Context, key string) (ha.Lease, error) {
	if e.isClosed() {
		return nil, ha.ErrClosed
	}
	// Campaign ends with ctx or with Close.
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		select {
		case <-e.ctx.Done():
			stop()
		case <-cctx.Done():
		}
	}()
	start := time.Now()
	grant, err := e.cli.Grant(cctx, int64(e.opts.TTL/time.Second))
	if err != nil {
		return nil, e.campaignErr(ctx, key, err)
	}
	session, err := concurrency.NewSession(e.cli, concurrency.WithLease(grant.ID), concurrency.WithContext(e.ctx))
	if err != nil {
		e.revoke(grant.ID)
		return nil, e.campaignErr(ctx, key, err)
	}
	election := concurrency.NewElection(session, e.opts.Prefix+key)
	if err := election.Campaign(cctx, e.opts.Holder); err != nil {
		session.Close()
		return nil, e.campaignErr(ctx, key, err)
	}
	// The campaign may have waited a long time: the lease's local expiry
	// counts from the last keepalive, so renew once now.
	start2 := time.Now()
	if ka, err := e.cli.KeepAliveOnce(cctx, grant.ID); err == nil {
		start = start2
		grant.TTL = ka.TTL
	}
	term := uint64(election.Rev())
	l := &lease{session: session}
	l.BaseLease = ha.NewBaseLease(key, term, start.Add(time.Duration(grant.TTL)*time.Second), func(ctx context.Context) error {
		err := election.Resign(ctx)
		return errors.Join(err, session.Close())
	})
	if !e.held.Add(l.BaseLease, session.Close) {
		session.Close()
		return nil, ha.ErrClosed
	}
	e.log.Info("etcdelector: leading", "key", key, "term", term, "holder", e.opts.Holder)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.keep(l, grant.ID)
		e.held.Remove(l.BaseLease)
	}()
	return l, nil
}

func (e *Elector) keep(l *lease, id clientv3.LeaseID) {
	ctx, stop := context.WithCancel(e.ctx)
	defer stop()
	go func() {
		// The session ends when etcd says the lease is gone.
		select {
		case <-l.session.Done():
			l.End(fmt.Errorf("%w: the etcd session of %q ended", ha.ErrLeaseLost, l.Key()))
		case <-ctx.Done():
		}
	}()
	l.Keep(ctx, e.opts.TTL/3, func(ctx context.Context) (time.Duration, error) {
		ka, err := e.cli.KeepAliveOnce(ctx, id)
		if errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		return time.Duration(ka.TTL) * time.Second, nil
	}, func(err error) {
		e.log.Warn("etcdelector: renewal failed", "key", l.Key(), "term", l.Term(), "err", err)
	})
	if e.ctx.Err() != nil {
		l.End(ha.ErrClosed)
	} else if err := l.Err(); errors.Is(err, ha.ErrLeaseLost) {
		e.log.Warn("etcdelector: lease lost", "key", l.Key(), "term", l.Term(), "err", err)
		l.session.Orphan()
		e.revoke(id)
	}
}

func (e *Elector) revoke(id clientv3.LeaseID) {
	ctx, cancel := context.WithTimeout(context.Background(), e.opts.TTL/3)
	defer cancel()
	_, _ = e.cli.Revoke(ctx, id)
}

func (e *Elector) campaignErr(ctx context.Context, key string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if e.isClosed() {
		return ha.ErrClosed
	}
	return fmt.Errorf("etcdelector: campaign for %q: %w", key, err)
}

func (e *Elector) isClosed() bool { return e.held.Closed() }

// Close implements ha.Elector: held leases end with ha.ErrClosed and their
// etcd leases are revoked, so that a standby takes over at once; waiting
// campaigns return ha.ErrClosed. It does not close the client.
func (e *Elector) Close() error {
	first, err := e.held.Close()
	if !first {
		return nil
	}
	e.cancel()
	e.wg.Wait()
	return err
}
