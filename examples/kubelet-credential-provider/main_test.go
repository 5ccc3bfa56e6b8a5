package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	credv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/providers/cache"
	"github.com/regcred/regcred/registry"
)

const registriesYAML = `registries:
  - name: Org GHCR
    type: GHCR
    url: ghcr.io/myorg
    credentials: {username: myorg, token: "${TEST_GHCR_TOKEN}"}
  - name: Hub
    type: Docker
    credentials: {username: hubuser, password: dckr_pat_x}
  - name: Private
    type: Custom
    url: registry.example.com:5000
    credentials: {username: deploy, password: "p:ss"}
  - name: Public
    type: Public
    url: quay.io
`

// buildPlugin builds the binary once per test run.
func buildPlugin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kubelet-credential-provider")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestPluginBinary(t *testing.T) {
	bin := buildPlugin(t)
	cfg := filepath.Join(t.TempDir(), "registries.yaml")
	if err := os.WriteFile(cfg, []byte(registriesYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	req := func(image string) string {
		return `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"` + image + `"}`
	}
	tests := []struct {
		name    string
		stdin   string
		args    []string
		want    *credv1.CredentialProviderResponse // nil: the plugin must fail
		wantErr string
	}{
		// A host with a path-scoped registry answers per image (Image, the image as key); a
		// host without one answers for the whole registry (Registry, the registry as key).
		{"path-scoped registry", req("ghcr.io/myorg/app:1.0"), nil, &credv1.CredentialProviderResponse{
			CacheKeyType: credv1.ImagePluginCacheKeyType,
			Auth:         map[string]credv1.AuthConfig{"ghcr.io/myorg/app": {Username: "myorg", Password: "ghp_from_env"}},
		}, ""},
		{"docker hub official image, as the kubelet sends it", req("docker.io/library/nginx"), nil, &credv1.CredentialProviderResponse{
			CacheKeyType: credv1.RegistryPluginCacheKeyType,
			Auth:         map[string]credv1.AuthConfig{"docker.io": {Username: "hubuser", Password: "dckr_pat_x"}},
		}, ""},
		{"docker hub short name", req("nginx:1.27"), nil, &credv1.CredentialProviderResponse{
			CacheKeyType: credv1.ImagePluginCacheKeyType,
			Auth:         map[string]credv1.AuthConfig{"nginx": {Username: "hubuser", Password: "dckr_pat_x"}},
		}, ""},
		{"host with port", req("registry.example.com:5000/team/app@sha256:" + strings.Repeat("a", 64)), nil, &credv1.CredentialProviderResponse{
			CacheKeyType: credv1.RegistryPluginCacheKeyType,
			Auth:         map[string]credv1.AuthConfig{"registry.example.com:5000": {Username: "deploy", Password: "p:ss"}},
		}, ""},
		{"unknown registry: empty auth for the whole registry", req("unknown.example.org/app"), nil, &credv1.CredentialProviderResponse{CacheKeyType: credv1.RegistryPluginCacheKeyType}, ""},
		// Cached for the registry, this empty answer would hide ghcr.io/myorg's credentials.
		{"other path on a host with a path-scoped registry: empty auth for this image only", req("ghcr.io/someoneelse/app"), nil, &credv1.CredentialProviderResponse{CacheKeyType: credv1.ImagePluginCacheKeyType}, ""},
		{"public registry: empty auth", req("quay.io/prometheus/node-exporter"), nil, &credv1.CredentialProviderResponse{CacheKeyType: credv1.RegistryPluginCacheKeyType}, ""},
		{"not JSON", "hello", nil, nil, "read CredentialProviderRequest"},
		{"old apiVersion", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","kind":"CredentialProviderRequest","image":"nginx"}`, nil, nil, "this plugin speaks credentialprovider.kubelet.k8s.io/v1"},
		{"no image", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest"}`, nil, nil, "no image"},
		{"missing registries file", req("nginx"), []string{"--config=" + filepath.Join(t.TempDir(), "none.yaml")}, nil, "none.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if args == nil {
				args = []string{"--config=" + cfg}
			}
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), "TEST_GHCR_TOKEN=ghp_from_env", "REGCRED_CONFIG=")
			cmd.Stdin = strings.NewReader(tc.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if tc.want == nil {
				if err == nil {
					t.Fatalf("want failure, got success: %s", stdout.String())
				}
				if !strings.Contains(stderr.String(), tc.wantErr) {
					t.Fatalf("stderr %q lacks %q", stderr.String(), tc.wantErr)
				}
				if strings.Contains(stderr.String(), "dckr_pat_x") || strings.Contains(stderr.String(), "ghp_from_env") {
					t.Fatal("a secret leaked to stderr")
				}
				return
			}
			if err != nil {
				t.Fatalf("plugin failed: %v\n%s", err, stderr.String())
			}
			var got credv1.CredentialProviderResponse
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatalf("response is not JSON: %v\n%s", err, stdout.String())
			}
			tc.want.TypeMeta = metav1.TypeMeta{APIVersion: APIVersion, Kind: "CredentialProviderResponse"}
			if d := cmp.Diff(tc.want, &got); d != "" {
				t.Fatalf("response (-want +got):\n%s", d)
			}
		})
	}
}

func TestCacheDurationFromExpiry(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	regs := []registry.Registry{{ID: "ecr", Name: "ECR", Kind: registry.KindCustom, Server: "123456789012.dkr.ecr.eu-west-1.amazonaws.com"}}
	for _, tc := range []struct {
		name    string
		expires time.Time
		want    *metav1.Duration
		wantErr bool
	}{
		// Until the refreshing cache would fetch anew: 0.8 of the lifetime (its one rule).
		{"twelve-hour token", now.Add(12 * time.Hour), &metav1.Duration{Duration: 9*time.Hour + 36*time.Minute}, false},
		{"never expires", time.Time{}, nil, false},
		{"already expired", now.Add(-time.Minute), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			factory := func(registry.Registry) (registry.Provider, error) {
				return cache.New(registry.Static(registry.Credentials{Username: "AWS", Password: "tok", ExpiresAt: tc.expires}),
					cache.WithClock(clock.NewFake(now))), nil
			}
			req := &credv1.CredentialProviderRequest{Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1"}
			resp, err := respond(context.Background(), req, regs, factory, func() time.Time { return now })
			if tc.wantErr {
				if err == nil || strings.Contains(err.Error(), "tok") && !strings.Contains(err.Error(), "token") {
					t.Fatalf("want an error without the secret, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, resp.CacheDuration); d != "" {
				t.Fatalf("cacheDuration (-want +got):\n%s", d)
			}
			if resp.Auth["123456789012.dkr.ecr.eu-west-1.amazonaws.com"].Password != "tok" {
				t.Fatalf("auth %v", resp.Auth)
			}
		})
	}
}
