package testenv

import (
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
)

// Forward listens on 127.0.0.1 at the first of ports that is free (any free port when none
// is given; it fails the test when none of them is free, since the port is the point) and
// forwards every connection to target (host:port), byte for byte, until the test ends. It
// returns the address it listens on.
//
// Tests use it to reach a real component through an address of their choosing, e.g. a
// registry on a port whose digits hold "401" or "403", which must never be mistaken for a
// status code.
func Forward(t testing.TB, target string, ports ...int) string {
	t.Helper()
	var ln net.Listener
	var lastErr error
	for _, p := range ports {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			ln = l
			break
		}
		lastErr = err
	}
	if len(ports) == 0 {
		ln, lastErr = net.Listen("tcp", "127.0.0.1:0")
	}
	if ln == nil {
		t.Fatalf("testenv: Forward: none of the ports %v is free: %v", ports, lastErr)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	track := func(c net.Conn, add bool) {
		mu.Lock()
		defer mu.Unlock()
		if add {
			conns[c] = struct{}{}
		} else {
			delete(conns, c)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer in.Close()
				out, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer out.Close()
				track(in, true)
				track(out, true)
				defer track(in, false)
				defer track(out, false)
				done := make(chan struct{}, 2)
				pipe := func(dst, src net.Conn) {
					_, _ = io.Copy(dst, src)
					if tc, ok := dst.(*net.TCPConn); ok {
						_ = tc.CloseWrite()
					}
					done <- struct{}{}
				}
				go pipe(out, in)
				go pipe(in, out)
				<-done
				<-done
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// FreePortOf returns the first of ports on 127.0.0.1 that nothing listens on (it binds and
// releases it), for tests that need a refused connection on a chosen port.
func FreePortOf(t testing.TB, ports ...int) string {
	t.Helper()
	var errs []error
	for _, p := range ports {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		l, err := net.Listen("tcp", addr)
		if err == nil {
			l.Close()
			return addr
		}
		errs = append(errs, err)
	}
	t.Fatalf("testenv: none of the ports %v is free: %v", ports, errors.Join(errs...))
	return ""
}

// UnluckyPorts are loopback ports whose digits hold 401, 403 or 404: a classifier that
// reads status codes out of text mistakes an address on them for a refusal.
var UnluckyPorts = []int{40103, 40301, 40401, 14010, 14031, 24013, 34033, 40104, 44013, 54031}
