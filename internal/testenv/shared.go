package testenv

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// shared is a component that takes seconds to start (dockerd, the Kubernetes control
// plane): one instance per test binary when the package's TestMain hands over to main,
// else one per test, stopped when the test ends.
type shared[T any] struct {
	name string
	stop func(T) error

	mu      sync.Mutex
	inMain  bool // main is in charge of stopping the instance
	started bool
	v       T
	err     error
}

// main runs the package's tests and then stops the shared instance.
func (s *shared[T]) main(m *testing.M) {
	s.mu.Lock()
	s.inMain = true
	s.mu.Unlock()
	code := m.Run()
	s.mu.Lock()
	v, started, err := s.v, s.started, s.err
	s.started = false
	s.mu.Unlock()
	if started && err == nil {
		if err := s.stop(v); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: stopping %s: %v\n", s.name, err)
		}
	}
	os.Exit(code)
}

// get returns the instance for t: the binary's shared one (started on first use) under
// main, else one of t's own. A start that fails fails t.
func (s *shared[T]) get(t testing.TB, start func() (T, error)) T {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.inMain {
		v, err := start()
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		t.Cleanup(func() {
			if err := s.stop(v); err != nil {
				t.Errorf("testenv: stopping %s: %v", s.name, err)
			}
		})
		return v
	}
	if !s.started {
		s.started = true
		s.v, s.err = start()
	}
	if s.err != nil {
		t.Fatalf("testenv: %v", s.err)
	}
	return s.v
}
