package postgres_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regcred/regcred/store/postgres"
	"github.com/regcred/regcred/store/storetest"
)

// blackhole is a TCP proxy that can stop forwarding without closing anything: a network
// partition as both ends see it (no FIN, no RST, just silence).
type blackhole struct {
	ln  net.Listener
	cut atomic.Bool
	mu  sync.Mutex
	all []net.Conn
}

func newBlackhole(t *testing.T, target string) *blackhole {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln}
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		for _, c := range b.all {
			c.Close()
		}
		b.mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			b.mu.Lock()
			b.all = append(b.all, c, s)
			b.mu.Unlock()
			go b.pipe(c, s)
			go b.pipe(s, c)
		}
	}()
	return b
}

// pipe copies until the partition, then reads and drops everything.
func (b *blackhole) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !b.cut.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (b *blackhole) port() int { return b.ln.Addr().(*net.TCPAddr).Port }

// The holder's network goes silent (a partition, a dead host): the server ends its session
// TTL after the last heartbeat and a contender takes over within TTL + retry; the holder
// sees Lost, and its writes, once the network is back, are fenced.
func TestLeaseTakeoverAfterAPartition(t *testing.T) {
	pg, _, dsn := newDB(t)
	direct := open(t, dsn)
	proxy := newBlackhole(t, net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port)))
	viaProxy := open(t, strings.Replace(dsn, ":"+strconv.Itoa(pg.Port)+"/", ":"+strconv.Itoa(proxy.port())+"/", 1))
	ctx := context.Background()
	ttl := 2 * time.Second
	held, err := viaProxy.Acquire(ctx, "ctl", postgres.WithLeaseTTL(ttl))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release(ctx)
	proxy.cut.Store(true)
	cut := time.Now()
	l, err := direct.Acquire(ctx, "ctl", postgres.WithLeaseTTL(ttl), postgres.WithLeaseRetry(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	takeover := time.Since(cut)
	t.Logf("takeover %v after the partition (TTL 2s, retry 100ms)", takeover.Round(10*time.Millisecond))
	if takeover > ttl+time.Second {
		t.Errorf("takeover took %v; want within TTL + retry plus scheduling", takeover)
	}
	select {
	case <-held.Lost():
	case <-time.After(3 * ttl):
		t.Fatal("the partitioned holder never saw Lost")
	}
	if held.Valid() {
		t.Fatal("the partitioned holder's lease is Valid")
	}
	proxy.cut.Store(false)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// Its pool's connections are as dead as its lease's; a fresh handle stands for the
	// process once its network is back.
	back := open(t, strings.Replace(dsn, ":"+strconv.Itoa(pg.Port)+"/", ":"+strconv.Itoa(proxy.port())+"/", 1))
	if err := back.Fenced(held).Put(wctx, storetest.Record("stale", 1)); !errors.Is(err, postgres.ErrFenced) {
		t.Fatalf("the deposed holder's write after the partition: %v; want ErrFenced", err)
	}
}
