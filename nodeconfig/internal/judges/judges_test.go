package judges

import (
	"crypto/x509"
	"slices"
	"strings"
	"testing"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/nodeconfig"
	"github.com/regcred/regcred/registry"
)

// node generates and applies regs for rt under a fresh root, and returns the root and
// the plan.
func node(t *testing.T, regs []registry.Registry, rt nodeconfig.Runtime) (string, *nodeconfig.Plan) {
	t.Helper()
	root := t.TempDir()
	p, err := nodeconfig.Generate(regs, rt, nodeconfig.WithRoot(root))
	if err != nil {
		t.Fatalf("Generate(%s): %v", rt, err)
	}
	if _, err := nodeconfig.Apply(p, root); err != nil {
		t.Fatalf("Apply(%s): %v", rt, err)
	}
	return root, p
}

// warned reports whether the plan warns with every one of words (case-insensitive).
func warned(p *nodeconfig.Plan, words ...string) bool {
	return slices.ContainsFunc(append(slices.Clone(p.Warnings), p.Notes...), func(w string) bool {
		for _, s := range words {
			if !strings.Contains(strings.ToLower(w), strings.ToLower(s)) {
				return false
			}
		}
		return true
	})
}

// trustOf says what a runtime's root pool trusts, given the CA the user gave: "ours" (only
// it), "system+ours", "system" (the CA was not loaded) or "other".
func trustOf(pool *x509.CertPool, ca []byte) string {
	sys, err := x509.SystemCertPool()
	if err != nil {
		return "other"
	}
	ours := x509.NewCertPool()
	ours.AppendCertsFromPEM(ca)
	both := sys.Clone()
	both.AppendCertsFromPEM(ca)
	switch {
	case pool == nil:
		return "system"
	case pool.Equal(ours):
		return "ours"
	case pool.Equal(both):
		return "system+ours"
	case pool.Equal(sys):
		return "system"
	}
	return "other"
}

var testCA = testenv.NewCA(&testing.T{})

func reg(id, server string, tls registry.TLS, m *registry.Mirror) registry.Registry {
	return registry.Registry{ID: id, Name: id, Kind: registry.KindCustom, Server: server, TLS: tls, Mirror: m}
}

var (
	withCA     = registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(testCA.CertPEM)}
	skipVerify = registry.TLS{Mode: registry.TLSInsecure}
)
