package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/regcred/regcred/registry"
)

// Errors of leases.
var (
	// ErrLeaseHeld: TryAcquire found the lease held by another session.
	ErrLeaseHeld = errors.New("the lease is held by another process")
	// ErrFenced: a fenced write was refused because the lease was taken over (its fencing
	// number moved on) or lost: this process is no longer the leader and must stop.
	ErrFenced = errors.New("the leader lease was taken over: this process is no longer the leader")
)

// Lease defaults.
const (
	// DefaultLeaseTTL is how long a holder may go silent (hung, partitioned, its host
	// gone) before the server ends its session and the lease can be taken over.
	DefaultLeaseTTL = 10 * time.Second
	// DefaultLeaseRetry is how often Acquire tries again while another process holds it.
	DefaultLeaseRetry = time.Second
)

// Lease is a leader lease: a session-level PostgreSQL advisory lock held on one pinned
// connection (outside the pool), with a fencing number that grows with every acquisition.
//
// Takeover: the lock lives as long as the holder's session. The session is set to end
// after TTL without a statement (idle_session_timeout) and the holder sends one every
// TTL/4 (a heartbeat that also checks the fencing number). So:
//   - the holder exits or crashes: its socket closes and the lock is free at once; a
//     contender gets it within its retry interval;
//   - the holder hangs (a stopped process, a stuck runtime) or its connection dies
//     silently (a partition, a dead host): the server ends the session TTL after the
//     last heartbeat, so a contender gets it within TTL + retry interval (measured by
//     TestLeaseTakeoverWhenTheHolderHangs and TestLeaseTakeoverAfterAPartition: 2 s TTL,
//     100 ms retry → 2.1 s);
//   - the holder notices: a failed heartbeat closes Lost, and Valid is false once TTL
//     passed without a good heartbeat. A process that resumes after a hang may still
//     act before it notices; writes through Fenced cannot land, because the new
//     holder's fencing number is in the table and every fenced write checks it in its
//     own transaction.
type Lease struct {
	name  string
	key   string
	fence int64
	ttl   time.Duration
	conn  *pgx.Conn
	log   func(msg string, args ...any)

	mu       sync.Mutex // guards conn use
	lastOK   atomic.Int64
	lost     chan struct{}
	lostOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
	released atomic.Bool
}

type leaseConfig struct {
	ttl    time.Duration
	retry  time.Duration
	holder string
}

// LeaseOption configures Acquire and TryAcquire.
type LeaseOption func(*leaseConfig)

// WithLeaseTTL sets how long a silent holder keeps the lease (default 10 s; at least 1 s).
func WithLeaseTTL(d time.Duration) LeaseOption {
	return func(c *leaseConfig) { c.ttl = max(d, time.Second) }
}

// WithLeaseRetry sets how often Acquire retries while the lease is held (default 1 s).
func WithLeaseRetry(d time.Duration) LeaseOption {
	return func(c *leaseConfig) {
		if d > 0 {
			c.retry = d
		}
	}
}

// WithLeaseHolder names the holder in regcred_leases (default hostname:pid), for
// operators.
func WithLeaseHolder(h string) LeaseOption { return func(c *leaseConfig) { c.holder = h } }

func newLeaseConfig(opts []LeaseOption) leaseConfig {
	host, _ := os.Hostname()
	c := leaseConfig{ttl: DefaultLeaseTTL, retry: DefaultLeaseRetry, holder: host + ":" + strconv.Itoa(os.Getpid())}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Acquire waits until this process holds the lease name (or ctx ends), trying every
// retry interval. The caller is the leader until Lost closes; it must stop leading then,
// and should Release the lease when it steps down.
func (s *Store) Acquire(ctx context.Context, name string, opts ...LeaseOption) (*Lease, error) {
	cfg := newLeaseConfig(opts)
	for {
		l, err := s.tryAcquire(ctx, name, cfg)
		if !errors.Is(err, ErrLeaseHeld) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(cfg.retry):
		}
	}
}

// TryAcquire takes the lease name if it is free, else fails with ErrLeaseHeld.
func (s *Store) TryAcquire(ctx context.Context, name string, opts ...LeaseOption) (*Lease, error) {
	return s.tryAcquire(ctx, name, newLeaseConfig(opts))
}

func (s *Store) tryAcquire(ctx context.Context, name string, cfg leaseConfig) (_ *Lease, err error) {
	if name == "" {
		return nil, &registry.Error{Op: "acquire lease", Err: &registry.FieldError{Field: "name", Reason: "is empty"}}
	}
	cc := s.pool.Config().ConnConfig.Copy()
	// The client notices a dead server within about TTL; the server notices a dead client
	// by its keepalives and, above all, by idle_session_timeout.
	d := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: cfg.ttl / 3, Interval: cfg.ttl / 6, Count: 2}}
	cc.DialFunc = d.DialContext
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	cc.RuntimeParams["application_name"] = "regcred-lease"
	cc.RuntimeParams["idle_session_timeout"] = strconv.FormatInt(cfg.ttl.Milliseconds(), 10)
	cc.RuntimeParams["tcp_keepalives_idle"] = strconv.Itoa(max(1, int((cfg.ttl / 3).Seconds())))
	cc.RuntimeParams["tcp_keepalives_interval"] = strconv.Itoa(max(1, int((cfg.ttl / 6).Seconds())))
	cc.RuntimeParams["tcp_keepalives_count"] = "2"
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, dbError("acquire lease", name, err)
	}
	defer func() {
		if err != nil {
			conn.Close(context.Background())
		}
	}()
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", "regcred-lease:"+name).Scan(&got); err != nil {
		return nil, dbError("acquire lease", name, err)
	}
	if !got {
		return nil, &registry.Error{Op: "acquire lease", Registry: name, Err: ErrLeaseHeld}
	}
	var fence int64
	if err := conn.QueryRow(ctx, `INSERT INTO regcred_leases (name, fence, holder) VALUES ($1, 1, $2)
		ON CONFLICT (name) DO UPDATE SET fence = regcred_leases.fence + 1, holder = excluded.holder, acquired_at = now()
		RETURNING fence`, name, cfg.holder).Scan(&fence); err != nil {
		return nil, dbError("acquire lease", name, err)
	}
	l := &Lease{
		name: name, key: "regcred-lease:" + name, fence: fence, ttl: cfg.ttl, conn: conn,
		log:  s.cfg.log.Warn,
		lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{}),
	}
	l.lastOK.Store(time.Now().UnixNano())
	go l.heartbeat()
	return l, nil
}

// Name is the lease's name.
func (l *Lease) Name() string { return l.name }

// Fence is the fencing number of this acquisition: larger than every earlier one.
func (l *Lease) Fence() int64 { return l.fence }

// Lost is closed when the lease is lost: the connection failed, the session was ended,
// or the fencing number moved on. It is not closed by Release.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Valid reports whether the lease is held as far as this process knows: not lost, not
// released, and a heartbeat succeeded within TTL.
func (l *Lease) Valid() bool {
	select {
	case <-l.lost:
		return false
	default:
	}
	return !l.released.Load() && time.Since(time.Unix(0, l.lastOK.Load())) < l.ttl
}

// heartbeat runs a statement every TTL/4 (keeping the session from its idle timeout)
// that checks the fencing number; a failure loses the lease.
func (l *Lease) heartbeat() {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 4)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.ttl/2)
		l.mu.Lock()
		var fence int64
		err := l.conn.QueryRow(ctx, "SELECT fence FROM regcred_leases WHERE name = $1", l.name).Scan(&fence)
		l.mu.Unlock()
		cancel()
		if err == nil && fence != l.fence {
			err = fmt.Errorf("fencing number is %d, ours %d", fence, l.fence)
		}
		if err != nil {
			if !l.released.Load() {
				l.log("postgres lease: lost", "lease", l.name, "fence", l.fence, "err", err)
			}
			l.lostOnce.Do(func() { close(l.lost) })
			return
		}
		l.lastOK.Store(time.Now().UnixNano())
	}
}

// Release gives the lease up: the advisory lock is unlocked and the pinned connection
// closed. The fencing number stays, so this holder's fenced writes keep passing only until
// the next acquisition. Release is safe to call more than once.
func (l *Lease) Release(ctx context.Context) error {
	if !l.released.CompareAndSwap(false, true) {
		return nil
	}
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	// Closing the session releases the lock whatever the unlock says; an unlock that
	// fails (the session was already gone) is not an error of Release.
	l.conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", l.key)
	return l.conn.Close(ctx)
}

// String names the lease and its fencing number.
func (l *Lease) String() string { return fmt.Sprintf("postgres.Lease{%s, fence %d}", l.name, l.fence) }
