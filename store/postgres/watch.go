package postgres

import (
	"context"
	"encoding/json"
	"net"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/regcred/regcred/registry"
)

// Watch implements registry.Watcher with LISTEN/NOTIFY: one listening connection per
// Store (outside the pool), started by the first Watch, which returns once the LISTEN is
// in place. Notifications arrive in commit order from every replica. When the connection
// drops, the listener reconnects (backing off up to 5 s) and then sends every watcher a
// ChangeResync, because changes committed meanwhile were not heard.
func (s *Store) Watch(ctx context.Context) (<-chan registry.Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.startListener(ctx); err != nil {
		return nil, err
	}
	return s.hub.Subscribe(ctx, 0), nil
}

// startListener starts the listener unless it runs, and waits for its first LISTEN.
func (s *Store) startListener(ctx context.Context) error {
	s.listen.Lock()
	defer s.listen.Unlock()
	if s.closed.Load() {
		return &registry.Error{Op: "store watch", Registry: s.name, Err: errClosed}
	}
	if s.running {
		return nil
	}
	conn, err := s.listenConn(ctx)
	if err != nil {
		return dbError("store watch", "", err)
	}
	lctx, cancel := context.WithCancel(context.Background())
	s.stop, s.done, s.running = cancel, make(chan struct{}), true
	go s.listenLoop(lctx, conn)
	return nil
}

// listenConn connects outside the pool, with TCP keepalives, and LISTENs.
func (s *Store) listenConn(ctx context.Context) (*pgx.Conn, error) {
	cc := s.pool.Config().ConnConfig.Copy()
	d := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: s.cfg.keepAlive, Interval: s.cfg.keepAlive / 3, Count: 3}}
	cc.DialFunc = d.DialContext
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	cc.RuntimeParams["application_name"] = "regcred-listen"
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// listenLoop publishes notifications until ctx ends, reconnecting when the connection
// drops.
func (s *Store) listenLoop(ctx context.Context, conn *pgx.Conn) {
	defer close(s.done)
	backoff := 100 * time.Millisecond
	for {
		err := s.receive(ctx, conn)
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		s.cfg.log.Warn("postgres store: the change-feed connection dropped; reconnecting", "err", err)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			conn, err = s.listenConn(ctx)
			if err == nil {
				break
			}
			backoff = min(backoff*2, 5*time.Second)
			s.cfg.log.Warn("postgres store: reconnecting the change feed failed", "err", err)
		}
		backoff = 100 * time.Millisecond
		// Whatever committed while nobody listened was not heard.
		s.hub.Publish(registry.Change{Op: registry.ChangeResync}, 0)
	}
}

// receive publishes notifications until the connection fails or ctx ends; an idle
// connection is pinged every 30 s so a silently dead one is noticed.
func (s *Store) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if wctx.Err() != nil && !conn.IsClosed() {
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err = conn.Ping(pctx)
				cancel()
				if err == nil {
					continue
				}
			}
			return err
		}
		s.hub.Publish(parseChange(n.Payload), 0)
	}
}

// parseChange reads the trigger's payload; anything unexpected is a resync.
func parseChange(payload string) registry.Change {
	var p struct {
		Op      string `json:"op"`
		ID      string `json:"id"`
		Version int64  `json:"version"`
	}
	if err := json.Unmarshal([]byte(payload), &p); err != nil {
		return registry.Change{Op: registry.ChangeResync}
	}
	switch p.Op {
	case "put":
		return registry.Change{Op: registry.ChangePut, ID: p.ID, Version: p.Version}
	case "delete":
		return registry.Change{Op: registry.ChangeDelete, ID: p.ID, Version: p.Version}
	}
	return registry.Change{Op: registry.ChangeResync}
}
