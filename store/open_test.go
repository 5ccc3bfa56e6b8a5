package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store"
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
