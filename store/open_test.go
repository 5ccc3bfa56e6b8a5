package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store"
	"github.com/regcred/regcred/store/storetest"
)

func TestOpenBuiltins(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "registries.json")
	s, err := store.Open(ctx, "file:"+p)
	if err != nil {
		t.Fatal(err)
	}
	r := registry.Registry{ID: "a", Name: "a", Kind: registry.KindPublic, Server: "registry.example.com", Version: 1}
	if err := s.Put(ctx, r); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := store.Open(ctx, "file:"+p)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Get(ctx, "a"); err != nil {
		t.Fatalf("file: store lost the record: %v", err)
	}
	m, err := store.Open(ctx, "memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if l, err := m.List(ctx); err != nil || len(l) != 0 {
		t.Fatalf("memory: %d records, %v", len(l), err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		dsn  string
		is   error
		says string
	}{
		{"", registry.ErrInvalid, "no scheme"},
		{"/var/lib/x.db", registry.ErrInvalid, "no scheme"},
		{"sqlite:/tmp/x.db", store.ErrUnknownScheme, `import _ "github.com/regcred/regcred/store/sqlite"`},
		{"postgres://u:hunter2@db/x", store.ErrUnknownScheme, "store/postgres"},
		{"mysql://u@db/x", store.ErrUnknownScheme, "known: file, memory"},
		{"file:", registry.ErrInvalid, "no path"},
		{"memory:x", registry.ErrInvalid, "nothing after"},
	} {
		_, err := store.Open(ctx, tc.dsn)
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("Open(%q) = %v; want %v saying %q", tc.dsn, err, tc.is, tc.says)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) quotes the password: %v", tc.dsn, err)
		}
	}
}

// The built-in stores keep their optional interfaces through Open, and pass the suite.
func TestBuiltinsConformance(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		paths := map[registry.Store]string{}
		open := func(t *testing.T, p string) registry.Store {
			s, err := store.Open(context.Background(), "file:"+p)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		storetest.Run(t, func(t *testing.T) registry.Store {
			p := filepath.Join(t.TempDir(), "registries.json")
			s := open(t, p)
			paths[s] = p
			return s
		}, storetest.WithReopen(func(t *testing.T, s registry.Store) registry.Store { return open(t, paths[s]) }))
	})
	t.Run("memory", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) registry.Store {
			s, err := store.Open(context.Background(), "memory:")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}, storetest.Without(storetest.Reopen))
	})
	for _, dsn := range []string{"memory:", "file:" + filepath.Join(t.TempDir(), "r.json")} {
		s, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, w := s.(registry.Watcher)
		_, rw := s.(registry.Rewriter)
		_, hs := s.(registry.HealthStore)
		if !w || !rw || !hs {
			t.Errorf("%s: Watcher %v, Rewriter %v, HealthStore %v; want all", dsn, w, rw, hs)
		}
	}
}
