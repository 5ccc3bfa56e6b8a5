package catalog_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

// thief is a server a user controls: it records every Authorization it is sent.
type thief struct {
	mu   sync.Mutex
	auth []string
	url  string
}

func newThief(t *testing.T) *thief {
	th := &thief{}
	s := fixture.V2Server(t, func(w http.ResponseWriter, r *http.Request) {
		th.mu.Lock()
		if a := r.Header.Get("Authorization"); a != "" {
			th.auth = append(th.auth, a)
		}
		th.mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		w.WriteHeader(http.StatusUnauthorized)
	})
	th.url = s.URL
	return th
}

func (th *thief) got() []string {
	th.mu.Lock()
	defer th.mu.Unlock()
	return append([]string(nil), th.auth...)
}

// The reproduction of issue 19: a user opens someone's saved registry, points it at a host
// of theirs, leaves the password blank and presses Test. Before the endpoint binding the
// stored password was sent there; now the draft is refused naming the field, and the host
// hears nothing. Update refuses the same edit (one rule: Merge).
func TestStoredSecretBoundToEndpoint(t *testing.T) {
	ctx := context.Background()
	url := basicRegistry(t, "ci", "stored-secret")
	f := newCatFixture(t, memory.New(), catalog.WithProviderFactory(registry.StaticFactory))
	saved, err := f.cat.Add(ctx, draftRecord(url, "stored-secret"))
	if err != nil {
		t.Fatal(err)
	}
	th := newThief(t)
	const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	moves := []struct {
		name, what string
		edit       func(r *registry.Registry)
	}{
		{"port", "server", func(r *registry.Registry) { r.Server = th.url }}, // the same IP, the user's port
		{"host", "server", func(r *registry.Registry) { r.Server = strings.Replace(th.url, "127.0.0.1", "localhost", 1) }},
		{"scheme", "server", func(r *registry.Registry) { r.Server = strings.Replace(url, "http://", "https://", 1) }},
		{"TLS mode", "TLS mode", func(r *registry.Registry) { r.TLS.Mode = registry.TLSSecure }},
		{"CA bundle", "TLS mode", func(r *registry.Registry) { r.TLS = registry.TLS{Mode: registry.TLSCustomCA, CABundle: ca} }},
	}
	for _, m := range moves {
		for _, form := range []struct {
			name string
			make func() registry.Registry
		}{
			{"redacted view", func() registry.Registry { return saved.Clone() }},
			{"blank secret", func() registry.Registry {
				r := mustUnredact(saved)
				r.Fields["password"] = ""
				return r
			}},
		} {
			t.Run(m.name+"/"+form.name, func(t *testing.T) {
				draft := form.make()
				m.edit(&draft)
				_, err := f.cat.TestDraft(ctx, draft)
				var fe *registry.FieldError
				if !errors.As(err, &fe) || fe.Field != "password" || !strings.Contains(err.Error(), "re-enter the password: the "+m.what+" changed") {
					t.Fatalf("TestDraft = %v, want a *FieldError: re-enter the password: the %s changed", err, m.what)
				}
				if _, err := f.cat.Update(ctx, draft); !errors.As(err, &fe) || fe.Field != "password" {
					t.Fatalf("Update = %v, want a *FieldError naming password", err)
				}
			})
		}
	}
	if got := th.got(); len(got) != 0 {
		t.Fatalf("the user's host received %d Authorization headers", len(got))
	}
	// The same endpoint written another way keeps the secret; a moved endpoint with the
	// password typed again is tested (and saved) with that password.
	same := saved.Clone()
	same.Server = strings.ToUpper(strings.TrimPrefix(url, "http://"))
	same.Server = "http://" + strings.ToLower(same.Server)
	if _, err := f.cat.TestDraft(ctx, same); err != nil {
		t.Fatalf("the same endpoint: %v", err)
	}
	moved := mustUnredact(saved)
	moved.Server, moved.Fields["password"] = th.url, "typed-again"
	if _, err := f.cat.TestDraft(ctx, moved); err != nil {
		t.Fatalf("a moved draft with the password typed again: %v", err)
	}
	if got := th.got(); len(got) == 0 || strings.Contains(strings.Join(got, " "), "c3RvcmVkLXNlY3JldA") {
		t.Fatalf("typed-again draft: Authorization %q (want the typed password, never the stored one)", got)
	}
	if cur, _ := f.store.Get(ctx, saved.ID); cur.Version != 1 || cur.Server != url {
		t.Fatalf("refused edits changed the record: v%d %s", cur.Version, cur.Server)
	}
}

// Merge's own table for the binding: which edits keep a stored secret.
func TestMergeEndpointBinding(t *testing.T) {
	stored := registry.Registry{ID: "r", Version: 1, Name: "h", Kind: registry.KindHarbor, Server: "h.example.com",
		Fields: map[string]string{"username": "u", "password": "pw"}}
	ecr := registry.Registry{ID: "e", Version: 1, Name: "e", Kind: registry.KindECR,
		Fields: map[string]string{"region": "eu-west-3", "accessKeyId": "AKIA", "secretAccessKey": "s"}}
	tests := []struct {
		name   string
		stored registry.Registry
		edit   func(r *registry.Registry)
		field  string // "" keeps
	}{
		{"rename", stored, func(r *registry.Registry) { r.Name = "x" }, ""},
		{"explicit default port", stored, func(r *registry.Registry) { r.Server = "https://H.example.com:443/" }, ""},
		{"path under the same host", stored, func(r *registry.Registry) { r.Server = "h.example.com/team" }, ""},
		{"other host", stored, func(r *registry.Registry) { r.Server = "evil.example.com" }, "password"},
		{"http", stored, func(r *registry.Registry) { r.Server = "http://h.example.com"; r.TLS.Mode = registry.TLSInsecure }, "password"},
		{"insecure", stored, func(r *registry.Registry) { r.TLS.Mode = registry.TLSInsecure }, "password"},
		{"ECR region", ecr, func(r *registry.Registry) { r.Fields["region"] = "us-east-1" }, "secretAccessKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edit := tt.stored.Redacted()
			tt.edit(&edit)
			_, err := registry.Merge(tt.stored, edit)
			var fe *registry.FieldError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("Merge = %v, want the secret kept", err)
			case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
				t.Fatalf("Merge = %v, want a *FieldError naming %s", err, tt.field)
			}
		})
	}
}
