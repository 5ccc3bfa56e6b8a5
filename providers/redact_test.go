package providers

import (
	"context"
	"errors"
	"testing"

	"github.com/regcred/regcred/registry"
)

// TestForRefusesRedacted: For and Factory refuse a redacted view (static and token kinds
// alike) with ErrRedacted; a real password that reads REDACTED is used as it is.
func TestForRefusesRedacted(t *testing.T) {
	static := registry.Registry{Name: "gh", Kind: registry.KindGHCR, Fields: map[string]string{"username": "octo", "token": "ghp_real"}}
	for _, r := range []registry.Registry{static, ecrRecord("", nil)} {
		if _, err := For(r.Redacted()); !errors.Is(err, registry.ErrRedacted) {
			t.Errorf("For(%s redacted) = %v, want ErrRedacted", r.Kind, err)
		}
		if _, err := Factory()(r.Redacted()); !errors.Is(err, registry.ErrRedacted) {
			t.Errorf("Factory()(%s redacted) = %v, want ErrRedacted", r.Kind, err)
		}
	}
	literal := static.Clone()
	literal.Fields["token"] = registry.Redacted
	p, err := For(literal)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Credentials(context.Background())
	if err != nil || c.Password.Reveal() != registry.Redacted {
		t.Fatalf("a token that reads REDACTED: %v %v", c, err)
	}
}
