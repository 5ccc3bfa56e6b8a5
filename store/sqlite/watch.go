package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/regcred/regcred/registry"
)

// Watch implements registry.Watcher: the changes committed by any handle on the database
// (this Store, another Store, another process), read from the change table by one poller
// per Store when PRAGMA data_version, checked every poll interval (WithPollInterval,
// 25 ms), says another connection committed. A watcher that
// falls more than the table's retention behind, or whose buffer fills, gets a
// ChangeResync.
func (s *Store) Watch(ctx context.Context) (<-chan registry.Change, error) {
	if s.closed.Load() {
		return nil, &registry.Error{Op: "store watch", Registry: s.name, Err: errClosed}
	}
	var seq int64
	if err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM regcred_changes").Scan(&seq); err != nil {
		return nil, dbError("store watch", "", err)
	}
	ch := s.hub.Subscribe(ctx, seq)
	s.pollOnce.Do(func() { go s.poll(seq) })
	return ch, nil
}

// poll publishes the changes after seq until Close. Each tick asks SQLite, on a
// connection of its own, for PRAGMA data_version: it moves when any other connection (in
// this process or another) committed, and reading it touches no table. Only then is the
// change table read; and once a second anyway, in case the pinned connection was lost.
// On a platform's handle (New) nothing is pinned: the change table is read every tick.
func (s *Store) poll(seq int64) {
	defer close(s.stopped)
	t := time.NewTicker(s.cfg.poll)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stop
		cancel()
	}()
	var conn *sql.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	var version int64 = -1
	lastRead := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if s.hub.Len() == 0 {
			continue
		}
		changed := true
		if conn == nil && s.own {
			// Only on a handle Open made: a platform's *sql.DB may allow one connection
			// (SetMaxOpenConns(1)), which a pinned connection would take for good.
			conn, _ = s.db.Conn(ctx)
		}
		if conn != nil {
			var v int64
			if err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
				conn.Close()
				conn, version = nil, -1
			} else {
				changed = v != version
				version = v
			}
		}
		if !changed && time.Since(lastRead) < time.Second {
			continue
		}
		next, err := s.readChanges(ctx, seq)
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.log.Warn("sqlite store: reading the change table failed; retrying", "err", err)
			}
			version = -1 // read again next tick
			continue
		}
		seq, lastRead = next, time.Now()
	}
}

// readChanges publishes the changes after seq, a batch at a time, and returns the last
// sequence seen.
func (s *Store) readChanges(ctx context.Context, seq int64) (int64, error) {
	for {
		rows, err := s.db.QueryContext(ctx, "SELECT seq, op, id, version FROM regcred_changes WHERE seq > ? ORDER BY seq LIMIT 500", seq)
		if err != nil {
			return seq, err
		}
		n := 0
		for rows.Next() {
			var c registry.Change
			var next int64
			var op string
			if err := rows.Scan(&next, &op, &c.ID, &c.Version); err != nil {
				rows.Close()
				return seq, err
			}
			if next != seq+1 {
				// Pruned (this watcher was far behind) or otherwise missing: reload.
				s.hub.Publish(registry.Change{Op: registry.ChangeResync}, next)
			}
			switch op {
			case "put":
				c.Op = registry.ChangePut
			case "delete":
				c.Op = registry.ChangeDelete
			default:
				c = registry.Change{Op: registry.ChangeResync}
			}
			s.hub.Publish(c, next)
			seq = next
			n++
		}
		if err := rows.Close(); err != nil {
			return seq, err
		}
		if err := rows.Err(); err != nil {
			return seq, err
		}
		if n < 500 {
			return seq, nil
		}
	}
}
