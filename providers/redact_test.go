package providers

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/regcred/regcred/providers/acr"
	"github.com/regcred/regcred/providers/google"
	"github.com/regcred/regcred/providers/kubesa"
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

// TestProviderInputErrorsNeverQuoteValues: the providers' own input checks (reached when a
// platform calls them directly, without Validate) name the field and never echo the value:
// a secret pasted into the wrong input must not come back in an error.
func TestProviderInputErrorsNeverQuoteValues(t *testing.T) {
	const pasted = "ghp_S3cr3tT0k3nPastedInTheWrongBox"
	_, errACR := acr.New(pasted, "id", "secret")
	_, errGAR := google.ArtifactRegistryHost(pasted)
	_, _, errSA := kubesa.ParseRef(pasted)
	_, errLife := For(registry.Registry{Name: "k", Kind: registry.KindKubernetes, Server: "r.example.com",
		Fields: map[string]string{"serviceAccount": "ns/sa", "expirationSeconds": pasted}}, WithKubeClient(nil))
	for name, err := range map[string]error{"acr loginServer": errACR, "gar region": errGAR, "serviceAccount": errSA, "expirationSeconds": errLife} {
		var fe *registry.FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("%s: %v is not a FieldError", name, err)
		}
		if strings.Contains(err.Error(), "S3cr3t") {
			t.Errorf("%s: the value comes back in %q", name, err)
		}
	}
}
