package ecr

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/regcred/regcred/registry"
)

// TestTokenJSONIsRedacted: json.Marshal of a Token (and slog's JSON handler, alone or
// nested) shows the proxy endpoint and the expiry, never the token.
func TestTokenJSONIsRedacted(t *testing.T) {
	const tok = "s3cr3t-ecr-token"
	tk := Token{Credentials: registry.Credentials{Username: "AWS", Password: tok, ExpiresAt: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)},
		ProxyEndpoint: "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"}
	b, err := json.Marshal(tk)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "token", tk, "tokens", []Token{tk}, "ptr", &tk)
	for _, out := range []string{string(b), buf.String()} {
		if strings.Contains(out, tok) {
			t.Fatalf("the token leaks: %s", out)
		}
		if !strings.Contains(out, registry.Redacted) || !strings.Contains(out, "123456789012.dkr.ecr") {
			t.Fatalf("not a real rendering: %s", out)
		}
	}
	if tk.Password.Reveal() != tok {
		t.Fatal("the value itself changed")
	}
}
