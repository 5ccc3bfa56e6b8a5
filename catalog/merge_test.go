package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
	"github.com/regcred/regcred/store/memory"
)

const (
	mergeKeyID  = "AKIAIOSFODNN7EXAMPLE"
	mergeSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func mergeECR() registry.Registry {
	return registry.Registry{Name: "prod-ecr", Kind: registry.KindECR, Owner: "alice",
		Server: "123456789012.dkr.ecr.eu-west-3.amazonaws.com",
		Fields: map[string]string{"region": "eu-west-3", "accessKeyId": mergeKeyID, "secretAccessKey": mergeSecret}}
}

// Switching ECR from access keys to the node's role is an Update that clears the secret:
// the record keeps its ID (and every Secret name derived from it). Before ClearFields a
// blank secret always kept the stored one, so this needed delete and re-create.
func TestCatalogUpdateClearsSecretExplicitly(t *testing.T) {
	forEachStore(t, func(t *testing.T, s registry.Store) {
		ctx := context.Background()
		f := newCatFixture(t, s)
		added, err := f.cat.Add(ctx, mergeECR())
		if err != nil {
			t.Fatal(err)
		}
		form := added // the redacted view, as the form shows it
		delete(form.Fields, "accessKeyId")
		// Without saying so, the blank secret is kept: the keys are half gone, and the
		// error says which field.
		if _, err := f.cat.Update(ctx, form); !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), "accessKeyId") {
			t.Fatalf("dropping only the key ID = %v, want a field error naming accessKeyId", err)
		}
		got, err := f.cat.Update(ctx, form, registry.ClearFields("accessKeyId", "secretAccessKey"))
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != added.ID || got.Version != 2 {
			t.Fatalf("after the switch: id %s v%d, want %s v2", got.ID, got.Version, added.ID)
		}
		stored, _ := s.Get(ctx, added.ID)
		if diff := cmp.Diff(map[string]string{"region": "eu-west-3"}, stored.Fields); diff != "" {
			t.Fatalf("stored fields after the switch (-want +got):\n%s", diff)
		}
		if _, err := f.cat.Update(ctx, got, registry.ClearFields("password")); !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), "password") {
			t.Fatalf("clearing a field ECR does not have = %v", err)
		}
	})
}

// A password that is literally "REDACTED" in a record that is not a redacted view is a
// real password: saved, not silently replaced by the stored one.
func TestCatalogUpdateLiteralRedactedPassword(t *testing.T) {
	ctx := context.Background()
	f := newCatFixture(t, memory.New())
	added, err := f.cat.Add(ctx, catHarbor("h", "h.example.com", "old"))
	if err != nil {
		t.Fatal(err)
	}
	edit := catHarbor("h", "h.example.com", registry.Redacted) // built by code, not read back
	edit.ID, edit.Version = added.ID, added.Version
	if _, err := f.cat.Update(ctx, edit); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.store.Get(ctx, added.ID); got.Fields["password"] != registry.Redacted {
		t.Fatalf("stored password %q, want the literal REDACTED that was sent", got.Fields["password"])
	}
	// The redacted view sent back (here through JSON, as a browser does) keeps the secret.
	cur, _ := f.cat.Get(ctx, added.ID)
	body, _ := json.Marshal(cur)
	var form registry.Registry
	if err := json.Unmarshal(body, &form); err != nil {
		t.Fatal(err)
	}
	form.Name = "renamed"
	if _, err := f.cat.Update(ctx, form); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.store.Get(ctx, added.ID); got.Fields["password"] != registry.Redacted || got.Name != "renamed" {
		t.Fatalf("after a redacted round trip: password %q name %q", got.Fields["password"], got.Name)
	}
}

// A form without the default switch sends Default false: that keeps the default; only
// UnsetDefault clears it.
func TestCatalogUpdateKeepsDefault(t *testing.T) {
	ctx := context.Background()
	f := newCatFixture(t, memory.New())
	r := catHarbor("a", "a.example.com", "p")
	r.Default = true
	first, _ := f.cat.Add(ctx, r)
	if !first.Default {
		t.Fatal("a registry added with Default is not the default")
	}
	form := first
	form.Default = false
	form.Name = "a2"
	v2, err := f.cat.Update(ctx, form)
	if err != nil {
		t.Fatal(err)
	}
	if !v2.Default {
		t.Fatal("an edit without Default cleared the default")
	}
	v3, err := f.cat.Update(ctx, v2, registry.UnsetDefault())
	if err != nil {
		t.Fatal(err)
	}
	if v3.Default {
		t.Fatal("UnsetDefault kept the default")
	}
	if ids := catDefaults(t, f.cat); len(ids) != 0 {
		t.Fatalf("defaults after UnsetDefault: %v", ids)
	}
}

func TestMerge(t *testing.T) {
	stored := catHarbor("h", "h.example.com", "stored-pw")
	stored.ID, stored.Version, stored.Default = "reg-1", 3, true
	tests := []struct {
		name string
		edit func() registry.Registry
		opts []registry.MergeOption
		want map[string]string
		def  bool
		err  string
	}{
		{"blank keeps", func() registry.Registry { e := stored.Clone(); e.Fields["password"] = ""; return e }, nil,
			map[string]string{"username": "robot$ci", "password": "stored-pw"}, true, ""},
		{"missing keeps", func() registry.Registry { e := stored.Clone(); delete(e.Fields, "password"); return e }, nil,
			map[string]string{"username": "robot$ci", "password": "stored-pw"}, true, ""},
		{"redacted view keeps", func() registry.Registry { return stored.Redacted() }, nil,
			map[string]string{"username": "robot$ci", "password": "stored-pw"}, true, ""},
		{"literal REDACTED is a value", func() registry.Registry { e := stored.Clone(); e.Fields["password"] = registry.Redacted; return e }, nil,
			map[string]string{"username": "robot$ci", "password": registry.Redacted}, true, ""},
		{"new value rotates", func() registry.Registry { e := stored.Clone(); e.Fields["password"] = "new"; return e }, nil,
			map[string]string{"username": "robot$ci", "password": "new"}, true, ""},
		{"clear", func() registry.Registry { return stored.Redacted() }, []registry.MergeOption{registry.ClearFields("password")},
			map[string]string{"username": "robot$ci"}, true, ""},
		{"blank non-secret is removed", func() registry.Registry { e := stored.Redacted(); e.Fields["username"] = ""; return e }, nil,
			map[string]string{"password": "stored-pw"}, true, ""},
		{"unset default", func() registry.Registry { return stored.Redacted() }, []registry.MergeOption{registry.UnsetDefault()},
			map[string]string{"username": "robot$ci", "password": "stored-pw"}, false, ""},
		{"kind change with a redacted secret", func() registry.Registry { e := stored.Redacted(); e.Kind = registry.KindCustom; return e }, nil,
			nil, false, "field password: is REDACTED but the type changes"},
		{"clear unknown field", func() registry.Registry { return stored.Redacted() }, []registry.MergeOption{registry.ClearFields("token")},
			nil, false, "field token: cannot be cleared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := registry.Merge(stored, tt.edit(), tt.opts...)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, registry.ErrInvalid) {
					t.Fatalf("Merge = %v, want an ErrInvalid containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if got.Default != tt.def || got.ID != "reg-1" || got.Version != 3 || got.Owner != "alice" || got.IsRedacted() {
				t.Errorf("merged %+v: default %v, id %s, version %d, owner %s, redacted %v", got, got.Default, got.ID, got.Version, got.Owner, got.IsRedacted())
			}
		})
	}
	// A new record is the edit itself and must carry real values.
	if _, err := registry.Merge(registry.Registry{}, stored.Redacted()); !errors.Is(err, registry.ErrRedacted) {
		t.Fatalf("Merge of a new redacted record = %v, want ErrRedacted", err)
	}
}

// basicRegistry answers GET /v2/ like a registry with basic auth for user:password.
func basicRegistry(t *testing.T, user, password string) string {
	t.Helper()
	s := fixture.V2Server(t, func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == user && p == password {
			w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		w.WriteHeader(http.StatusUnauthorized)
	})
	return s.URL
}

func draftRecord(url, password string) registry.Registry {
	return registry.Registry{Name: "self-hosted", Kind: registry.KindCustom, Server: url, Owner: "alice",
		TLS:    registry.TLS{Mode: registry.TLSInsecure},
		Fields: map[string]string{"username": "ci", "password": password}}
}

// A draft is tested by the rules it would be saved with: a draft edit of a saved record
// with its secret left blank uses the stored secret; a new record is tested as it is.
func TestCatalogTestDraft(t *testing.T) {
	ctx := context.Background()
	url := basicRegistry(t, "ci", "right")
	f := newCatFixture(t, memory.New(), catalog.WithProviderFactory(registry.StaticFactory))
	saved, err := f.cat.Add(ctx, draftRecord(url, "right"))
	if err != nil {
		t.Fatal(err)
	}
	verdict := func(rep *conntest.Report, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if s := rep.Failed(); s != nil {
			return string(s.Name) + "=failed"
		}
		return "ok"
	}
	// The form as shown (redacted), with a new name: the stored password is used.
	form := saved
	form.Name = "renamed"
	if got := verdict(f.cat.TestDraft(ctx, form)); got != "ok" {
		t.Fatalf("draft edit with the stored secret: %s, want ok", got)
	}
	// Blank, as a form that never shows secrets sends it.
	form.Fields = map[string]string{"username": "ci", "password": ""}
	form = mustUnredact(form)
	if got := verdict(f.cat.TestDraft(ctx, form)); got != "ok" {
		t.Fatalf("draft edit with a blank secret: %s, want ok", got)
	}
	// A new secret in the draft is the one tested.
	form.Fields["password"] = "wrong"
	if got := verdict(f.cat.TestDraft(ctx, form)); got != "auth=failed" {
		t.Fatalf("draft edit with a wrong secret: %s, want auth=failed", got)
	}
	// Cleared explicitly: a custom registry needs both or neither.
	form.Fields["password"] = ""
	if got := verdict(f.cat.TestDraft(ctx, form, catalog.WithMerge(registry.ClearFields("password")))); got != "fields=failed" {
		t.Fatalf("draft edit with the secret cleared: %s, want fields=failed", got)
	}
	// Nothing was saved.
	if cur, _ := f.store.Get(ctx, saved.ID); cur.Version != 1 || cur.Name != saved.Name {
		t.Fatalf("a draft test changed the record: v%d %q", cur.Version, cur.Name)
	}
	// New unsaved records.
	if got := verdict(f.cat.TestDraft(ctx, draftRecord(url, "right"))); got != "ok" {
		t.Fatalf("new draft with the right secret: %s", got)
	}
	if got := verdict(f.cat.TestDraft(ctx, draftRecord(url, "wrong"))); got != "auth=failed" {
		t.Fatalf("new draft with a wrong secret: %s", got)
	}
	if _, err := f.cat.TestDraft(ctx, draftRecord(url, "right").Redacted()); !errors.Is(err, registry.ErrRedacted) {
		t.Fatalf("new redacted draft = %v, want ErrRedacted", err)
	}
}

// mustUnredact returns r as a form that is not a redacted view (its fields as sent).
func mustUnredact(r registry.Registry) registry.Registry {
	b, _ := json.Marshal(r)
	var m map[string]any
	json.Unmarshal(b, &m)
	delete(m, "redacted")
	b, _ = json.Marshal(m)
	var out registry.Registry
	json.Unmarshal(b, &out)
	return out
}
