package dockerconfig

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/regcred/regcred/registry"
)

// TestRedaction walks every printable type of the package under every fmt verb and slog
// and checks that no secret, nor the base64 "auth" that carries it, shows.
func TestRedaction(t *testing.T) {
	const (
		pass = "pw-Secret-1"
		idt  = "idtok-Secret-2"
		rt   = "regtok-Secret-3"
	)
	secrets := []string{pass, idt, rt, "Secret-", base64.StdEncoding.EncodeToString([]byte("alice:" + pass))}
	entry := AuthEntry{Username: "alice", Password: pass, Email: "a@x.io", IdentityToken: idt, RegistryToken: rt}
	cfg := &Config{
		Auths:       map[string]AuthEntry{"ghcr.io": entry, HubKey: {Username: "bob", Password: pass}},
		CredHelpers: map[string]string{"gcr.io": "gcloud"},
		CredsStore:  "pass",
	}
	values := map[string]any{
		"AuthEntry":  entry,
		"*AuthEntry": &entry,
		"Config":     *cfg,
		"*Config":    cfg,
		"in a struct": struct {
			C *Config
			E AuthEntry
		}{cfg, entry},
		"in a slice": []AuthEntry{entry},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"}
	for name, v := range values {
		for _, verb := range verbs {
			t.Run(name+" "+verb, func(t *testing.T) {
				out := fmt.Sprintf(verb, v)
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("%s of %s shows a secret: %s", verb, name, out)
					}
				}
			})
		}
		t.Run(name+" slog", func(t *testing.T) {
			for _, h := range []func(*bytes.Buffer) slog.Handler{
				func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
				func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			} {
				var buf bytes.Buffer
				slog.New(h(&buf)).Info("msg", "value", v)
				for _, s := range secrets {
					if strings.Contains(buf.String(), s) {
						t.Errorf("slog shows a secret: %s", buf.String())
					}
				}
			}
		})
	}
	// The redacted views still say what is there.
	if s := fmt.Sprint(entry); !strings.Contains(s, "alice") || !strings.Contains(s, registry.Redacted) {
		t.Errorf("AuthEntry prints %q: want the user and %s", s, registry.Redacted)
	}
	if s := fmt.Sprintf("%+v", cfg); !strings.Contains(s, "ghcr.io") || !strings.Contains(s, "alice") || !strings.Contains(s, "gcloud") {
		t.Errorf("%%+v of Config prints %q: want keys, users and helpers", s)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "cfg", cfg)
	if !strings.Contains(buf.String(), `"ghcr.io":{"username":"alice","password":"REDACTED"`) {
		t.Errorf("slog JSON of Config: %s", buf.String())
	}
}
