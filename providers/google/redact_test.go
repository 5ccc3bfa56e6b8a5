package google

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/regcred/regcred/internal/fakecloud"
	"github.com/regcred/regcred/registry"
)

// TestKeyNeverPrinted: neither the Provider nor the parsed key file print the private key
// under JSON, slog or fmt.
func TestKeyNeverPrinted(t *testing.T) {
	g := fakecloud.NewGoogle(t)
	key := g.NewKey(email)
	var parsed registry.ServiceAccountKey
	if err := json.Unmarshal([]byte(key), &parsed); err != nil {
		t.Fatal(err)
	}
	line := strings.Split(parsed.PrivateKey.Reveal(), "\n")[2]
	p, err := New(key, WithTokenURL(g.TokenURL()))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"*Provider": p, "ServiceAccountKey": parsed, "*ServiceAccountKey": &parsed} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "v", v, "nested", []any{v})
		for _, out := range []string{string(b), buf.String(), fmt.Sprintf("%+v %#v", v, v)} {
			if strings.Contains(out, line) {
				t.Fatalf("%s: the private key leaks in %s", name, out)
			}
		}
	}
}
