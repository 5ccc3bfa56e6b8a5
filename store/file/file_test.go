package file_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/file"
	"github.com/regcred/regcred/store/storetest"
)

// fixture.OpenFileStore opens a FileStore watched with a short poll interval, closed at cleanup.
func TestStoreConformance(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) registry.Store {
			return fixture.OpenFileStore(t, filepath.Join(t.TempDir(), "registries.json"))
		}, storetest.WithReopen(func(t *testing.T, s registry.Store) registry.Store {
			return fixture.OpenFileStore(t, s.(*file.Store).Path())
		}), storetest.WithFeedTimeout(5*time.Second))
	})
}

func TestStoreVersionRules(t *testing.T) {
	ctx := context.Background()
	for name, open := range fixture.Stores(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			steps := []struct {
				name string
				do   func() error
				want error
			}{
				{"get missing", func() error { _, err := s.Get(ctx, "a"); return err }, registry.ErrNotFound},
				{"put version 0", func() error { return s.Put(ctx, fixture.StoreRecord("a", 0)) }, registry.ErrInvalid},
				{"put without id", func() error { return s.Put(ctx, fixture.StoreRecord("", 1)) }, registry.ErrInvalid},
				{"update missing", func() error { return s.Put(ctx, fixture.StoreRecord("a", 2)) }, registry.ErrNotFound},
				{"create", func() error { return s.Put(ctx, fixture.StoreRecord("a", 1)) }, nil},
				{"create again", func() error { return s.Put(ctx, fixture.StoreRecord("a", 1)) }, registry.ErrConflict},
				{"skip a version", func() error { return s.Put(ctx, fixture.StoreRecord("a", 3)) }, registry.ErrConflict},
				{"update", func() error { return s.Put(ctx, fixture.StoreRecord("a", 2)) }, nil},
				{"stale update", func() error { return s.Put(ctx, fixture.StoreRecord("a", 2)) }, registry.ErrConflict},
				{"delete stale", func() error { return s.Delete(ctx, "a", 1) }, registry.ErrConflict},
				{"delete missing", func() error { return s.Delete(ctx, "b", 0) }, registry.ErrNotFound},
				{"delete", func() error { return s.Delete(ctx, "a", 2) }, nil},
				{"get deleted", func() error { _, err := s.Get(ctx, "a"); return err }, registry.ErrNotFound},
				{"recreate", func() error { return s.Put(ctx, fixture.StoreRecord("a", 1)) }, nil},
				{"delete unconditionally", func() error { return s.Delete(ctx, "a", 0) }, nil},
			}
			for _, st := range steps {
				err := st.do()
				if st.want == nil && err != nil || st.want != nil && !errors.Is(err, st.want) {
					t.Fatalf("%s: error = %v, want %v", st.name, err, st.want)
				}
			}
		})
	}
}

func TestStoreReturnsCopies(t *testing.T) {
	ctx := context.Background()
	for name, open := range fixture.Stores(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			in := fixture.StoreRecord("a", 1)
			if err := s.Put(ctx, in); err != nil {
				t.Fatal(err)
			}
			in.Fields["password"] = "changed-after-put"
			got, err := s.Get(ctx, "a")
			if err != nil {
				t.Fatal(err)
			}
			if got.Fields["password"] != "real-secret-a" {
				t.Fatalf("store shares the caller's map: %q", got.Fields["password"])
			}
			got.Fields["password"] = "changed-after-get"
			list, _ := s.List(ctx)
			if list[0].Fields["password"] != "real-secret-a" {
				t.Fatalf("store shares its map: %q", list[0].Fields["password"])
			}
		})
	}
}

func TestStoreListSortedByID(t *testing.T) {
	ctx := context.Background()
	for name, open := range fixture.Stores(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			for _, id := range []string{"c", "a", "b"} {
				if err := s.Put(ctx, fixture.StoreRecord(id, 1)); err != nil {
					t.Fatal(err)
				}
			}
			list, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range list {
				ids = append(ids, r.ID)
			}
			if diff := cmp.Diff([]string{"a", "b", "c"}, ids); diff != "" {
				t.Fatalf("List order (-want +got):\n%s", diff)
			}
		})
	}
}

// Exactly one of many racing writes of the same version wins; the rest get ErrConflict.
func TestStoreConcurrentPuts(t *testing.T) {
	ctx := context.Background()
	for name, open := range fixture.Stores(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			if err := s.Put(ctx, fixture.StoreRecord("a", 1)); err != nil {
				t.Fatal(err)
			}
			const n = 16
			var wins, conflicts atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := fixture.StoreRecord("a", 2)
					r.Name = "writer-" + string(rune('a'+i))
					<-start
					switch err := s.Put(ctx, r); {
					case err == nil:
						wins.Add(1)
					case errors.Is(err, registry.ErrConflict):
						conflicts.Add(1)
					default:
						t.Error(err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if wins.Load() != 1 || conflicts.Load() != n-1 {
				t.Fatalf("wins=%d conflicts=%d, want 1 and %d", wins.Load(), conflicts.Load(), n-1)
			}
			got, _ := s.Get(ctx, "a")
			if got.Version != 2 {
				t.Fatalf("version = %d", got.Version)
			}
		})
	}
}

func TestStoreHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, open := range fixture.Stores(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			if err := s.Put(ctx, fixture.StoreRecord("a", 1)); !errors.Is(err, context.Canceled) {
				t.Fatalf("Put = %v", err)
			}
			if _, err := s.List(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("List = %v", err)
			}
		})
	}
}

func TestFileStoreFileModeAndReopen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state", "regcred")
	path := filepath.Join(dir, "registries.json")
	s, err := file.New(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("NewFileStore created the file before any write: %v", err)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("directory mode = %v, want 0700", di.Mode().Perm())
	}
	for _, id := range []string{"b", "a"} {
		if err := s.Put(ctx, fixture.StoreRecord(id, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, fixture.StoreRecord("a", 2)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode = %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"registries.json", "registries.json.lock"}, names); diff != "" {
		t.Fatalf("directory holds other files than the store and its lock (temporary files left behind?):\n%s", diff)
	}
	if fi, err := os.Stat(path + ".lock"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v, %v; want mode 0600", fi, err)
	}

	want, _ := s.List(ctx)
	re, err := file.New(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := re.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(registry.Registry{})); diff != "" {
		t.Fatalf("reopened store differs (-want +got):\n%s", diff)
	}
	if got[0].Fields["password"] != "real-secret-a" {
		t.Fatalf("the file store must keep the real secret, got %q", got[0].Fields["password"])
	}
	// Versions survive a reopen: a stale write is still refused.
	if err := re.Put(ctx, fixture.StoreRecord("a", 2)); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("stale write after reopen = %v, want ErrConflict", err)
	}
	if err := re.Delete(ctx, "b", 1); err != nil {
		t.Fatal(err)
	}
	again, _ := file.New(path)
	if list, _ := again.List(ctx); len(list) != 1 || list[0].ID != "a" {
		t.Fatalf("after delete and reopen: %v", list)
	}
}

// The golden file pins the on-disk format (sorted by ID, indented, real values).
func TestFileStoreGolden(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registries.json")
	s, err := file.New(path)
	if err != nil {
		t.Fatal(err)
	}
	b := fixture.StoreRecord("reg-b", 1)
	b.TLS = registry.TLS{Mode: registry.TLSInsecure}
	b.Owner = "alice"
	for _, r := range []registry.Registry{b, fixture.StoreRecord("reg-a", 1)} {
		if err := s.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fixture.Golden(t, filepath.Join("testdata", "store", "registries.json"), got)
}

func TestFileStoreOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
	}{
		{"not json", "registries: []"},
		{"unknown field", `{"registries": [], "extra": 1}`},
		{"record without id", `{"registries": [{"name": "x", "kind": "public", "version": 1}]}`},
		{"duplicate id", `{"registries": [{"id": "a", "version": 1}, {"id": "a", "version": 1}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := file.New(path)
			var e *registry.Error
			if !errors.Is(err, registry.ErrInvalid) || !errors.As(err, &e) || e.Registry != path {
				t.Fatalf("NewFileStore = %v, want an *Error naming the file wrapping ErrInvalid", err)
			}
		})
	}
	t.Run("empty file is an empty store", func(t *testing.T) {
		path := filepath.Join(dir, "empty.json")
		os.WriteFile(path, nil, 0o600)
		s, err := file.New(path)
		if err != nil {
			t.Fatal(err)
		}
		if l, _ := s.List(context.Background()); len(l) != 0 {
			t.Fatalf("List = %v", l)
		}
	})
	t.Run("empty path", func(t *testing.T) {
		if _, err := file.New(""); !errors.Is(err, registry.ErrInvalid) {
			t.Fatalf("NewFileStore(\"\") = %v", err)
		}
	})
}

// A write that cannot reach the disk changes nothing, in memory or on disk.
func TestFileStoreFailedWriteChangesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "registries.json")
	s, err := file.New(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, fixture.StoreRecord("a", 1)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	// Replace the directory by a file: creating the temporary file fails, even for root.
	if err := os.RemoveAll(filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, fixture.StoreRecord("a", 2)); err == nil {
		t.Fatal("Put succeeded without a directory")
	}
	// Reads look at the file first: without it they fail rather than serve a stale copy.
	if got, err := s.Get(ctx, "a"); err == nil && got.Version != 1 {
		t.Fatalf("a failed write changed memory: version %d", got.Version)
	}
	if err := s.Delete(ctx, "a", 1); err == nil {
		t.Fatal("Delete succeeded without a directory")
	}
	// Put the old file back: the store carries on from version 1.
	os.Remove(filepath.Join(dir, "sub"))
	os.MkdirAll(filepath.Join(dir, "sub"), 0o700)
	os.WriteFile(path, before, 0o600)
	if got, err := s.Get(ctx, "a"); err != nil || got.Version != 1 {
		t.Fatalf("after the file came back: version %d, %v; want 1", got.Version, err)
	}
	if err := s.Put(ctx, fixture.StoreRecord("a", 2)); err != nil {
		t.Fatal(err)
	}
}

func TestFileStoreTightensLooseMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registries.json")
	if err := os.WriteFile(path, []byte(`{"registries": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // regardless of umask
		t.Fatal(err)
	}
	if _, err := file.New(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after open = %v, want 0600", fi.Mode().Perm())
	}
}
