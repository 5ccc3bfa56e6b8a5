package sealed_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/sealed"
)

// A malformed key line is reported by its number, never quoted: the line is key material.
// A bare key that lost a character used to come back whole in "key <material> is 0 bytes".
func TestParseKeysNeverQuotesKeyMaterial(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	for _, tc := range []struct{ name, text string }{
		{"bare key missing a character", key[1:]},
		{"bare key with a stray character", "x" + key},
		{"base64 where the ID goes", key[:20] + "+/=" + key},
		{"second line", "prod=" + key + "\n" + key[2:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sealed.ParseKeys(tc.text)
			var fe *registry.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseKeys = %v, want a *FieldError", err)
			}
			msg := err.Error()
			for i := 0; i+8 <= len(key); i++ {
				if strings.Contains(msg, key[i:i+8]) {
					t.Fatalf("the error quotes key material: %s", msg)
				}
			}
			if !strings.HasPrefix(fe.Field, "key ") {
				t.Fatalf("field %q, want the key's line number", fe.Field)
			}
		})
	}
}
