package golden

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/regcred/regcred/registry"
)

// Fault calls p, which must fail: with an error matching want, typed as
// *registry.Error{Op: "refresh", Registry: name}, whose text mentions mention, and with no
// credentials. A positive timeout bounds the call (for hanging endpoints). It returns the
// error text for the golden file.
func Fault(t testing.TB, p registry.Provider, timeout time.Duration, want error, name, mention string) string {
	t.Helper()
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	c, err := p.Credentials(ctx)
	if !errors.Is(err, want) || !c.Anonymous() {
		t.Fatalf("got %v, %v; want no credentials and %v", c, err, want)
	}
	var re *registry.Error
	if !errors.As(err, &re) || re.Op != "refresh" || re.Registry != name {
		t.Fatalf("err = %#v, want *registry.Error{Op: refresh, Registry: %s}", err, name)
	}
	if !strings.Contains(err.Error(), mention) {
		t.Fatalf("err = %q, want it to mention %q", err, mention)
	}
	return err.Error()
}
