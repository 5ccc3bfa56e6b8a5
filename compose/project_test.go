package compose

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/registry"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 writes it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

func TestLoadProject(t *testing.T) {
	dir := filepath.Join("testdata", "project")
	for _, tc := range []struct {
		name   string
		files  []string
		opts   []LoadOption
		golden string
	}{
		{"one file with extends and .env", []string{"compose.yaml"}, nil, "images-base.golden.json"},
		{"override file", []string{"compose.yaml", "compose.override.yaml"}, nil, "images-override.golden.json"},
		{"profile debug", []string{"compose.yaml"}, []LoadOption{WithProfiles("debug")}, "images-debug.golden.json"},
		{"env wins over .env", []string{"compose.yaml"}, []LoadOption{WithEnv("API_TAG=9.9", "TAG=2.0")}, "images-env.golden.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var files []string
			for _, f := range tc.files {
				files = append(files, filepath.Join(dir, f))
			}
			opts := append([]LoadOption{WithOSEnv(false), WithEnv("REGISTRY=registry.example.com:5000")}, tc.opts...)
			p, err := Load(context.Background(), files, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != "shop" {
				t.Errorf("project name %q, want shop", p.Name)
			}
			got, _ := json.MarshalIndent(struct {
				Images  []Image
				Skipped []Skip
			}{p.Images, p.Skipped}, "", "  ")
			golden(t, tc.golden, append(got, '\n'))
		})
	}
}

func TestLoadBadFiles(t *testing.T) {
	bad := filepath.Join("testdata", "bad")
	t.Run("every broken file is named", func(t *testing.T) {
		_, err := Load(context.Background(), []string{
			filepath.Join(bad, "broken.yaml"), filepath.Join(bad, "list.yaml"), filepath.Join(bad, "missing.yaml"),
		})
		if !errors.Is(err, registry.ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
		var paths []string
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var fe *FileError
			if !errors.As(e, &fe) {
				t.Fatalf("%v is not a *FileError", e)
			}
			paths = append(paths, filepath.Base(fe.Path))
		}
		if diff := cmp.Diff([]string{"broken.yaml", "list.yaml", "missing.yaml"}, paths); diff != "" {
			t.Errorf("files named (-want +got):\n%s", diff)
		}
		for _, want := range []string{"is not valid YAML", "is not a mapping", "cannot read it"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	})
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"badref.yaml", []string{"compose service web", "field image", `"UPPER/Case:1" is not an image reference`}},
		{"badpolicy.yaml", []string{"badpolicy.yaml", "services.api.pull_policy", "sometimes"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Load(context.Background(), []string{filepath.Join(bad, tc.file)}, WithOSEnv(false))
			if !errors.Is(err, registry.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
	t.Run("no files", func(t *testing.T) {
		if _, err := Load(context.Background(), nil); !errors.Is(err, registry.ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
	})
}

func TestNormalizeRef(t *testing.T) {
	for _, tc := range []struct{ in, ref, host string }{
		{"redis", "docker.io/library/redis:latest", "docker.io"},
		{"redis:7", "docker.io/library/redis:7", "docker.io"},
		{"acme/app", "docker.io/acme/app:latest", "docker.io"},
		{"127.0.0.1:5000/a/b:1", "127.0.0.1:5000/a/b:1", "127.0.0.1:5000"},
		{"ghcr.io/o/i@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "ghcr.io/o/i@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "ghcr.io"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			ref, host, err := NormalizeRef(tc.in)
			if err != nil || ref != tc.ref || host != tc.host {
				t.Errorf("NormalizeRef(%q) = %q, %q, %v; want %q, %q", tc.in, ref, host, err, tc.ref, tc.host)
			}
		})
	}
}
