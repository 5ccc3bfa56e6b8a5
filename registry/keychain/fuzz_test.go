package keychain

import (
	"github.com/regcred/regcred/internal/hosts"
	"strings"
	"testing"

	"github.com/distribution/reference"
	"github.com/regcred/regcred/registry"
)

// The fuzz targets live in package registry so they can hold the reference parser to
// docker/distribution's grammar (the reference package is the oracle, test-only).

var fuzzRefSeeds = []string{
	"postgres", "postgres:17", "library/postgres", "user/app", "docker.io/library/postgres",
	"index.docker.io/user/app", "registry-1.docker.io/postgres", "ghcr.io/myorg/app",
	"ghcr.io/myorganisation/app", "ghcr.io/myorg/team/app:v1@" + fuzzDigest, "[::1]:5000/x",
	"[0:0::1]:5000/x", "localhost:5000/app", "localhost", "LOCALHOST/x", "Foo/app",
	"x.azurecr.io/app", "a.b.azurecr.io/app", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app",
	"ghcr.io", "https://index.docker.io/v1/", "a:b:c", "host.com:/x", "ghcr.io/a-.b", "a__b/c",
	"a---b/c", "postgres@sha256:abc", strings.Repeat("a", 64), "Registry.Example.COM/app",
	"example.com:443/app", "a/b/c/d/e/f", "_/x", "x.y:5000/a.b/c_d", "[::ffff:1.2.3.4]:5/x",
}

const fuzzDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func fuzzKeychain(t testing.TB) *Keychain {
	mk := func(id, server string) registry.Registry {
		return registry.Registry{ID: id, Name: id, Kind: registry.KindCustom, Server: server}
	}
	regs := []registry.Registry{
		{ID: "hub", Name: "hub", Kind: registry.KindPublic},
		mk("hub-lib", "docker.io/library"),
		mk("ghcr", "ghcr.io"),
		mk("ghcr-org", "ghcr.io/myorg"),
		mk("ghcr-team", "ghcr.io/myorg/team"),
		mk("local", "localhost:5000"),
		mk("ipv6", "[::1]:5000"),
		mk("acr", "*.azurecr.io"),
		mk("ecr", "*.dkr.ecr.*.amazonaws.com"),
		mk("x", "x.y:5000"),
		mk("any", "*"),
		mk("upper", "registry.example.com"),
	}
	kc, err := New(regs)
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

// FuzzMatch: matching never panics, is deterministic, agrees with docker/distribution on
// what parses and on the host and path, and a matched registry's host equals the
// reference's host or wildcard-matches it, with its path a whole-segment prefix.
func FuzzMatch(f *testing.F) {
	for _, s := range fuzzRefSeeds {
		f.Add(s)
	}
	kc := fuzzKeychain(f)
	f.Fuzz(func(t *testing.T, ref string) {
		r1, ok1 := kc.Match(ref)
		r2, ok2 := kc.Match(ref)
		if ok1 != ok2 || r1.ID != r2.ID {
			t.Fatalf("Match(%q) is not deterministic: %q/%v then %q/%v", ref, r1.ID, ok1, r2.ID, ok2)
		}
		parsed, err := parseImageRef(ref)
		if err != nil {
			if ok1 {
				t.Fatalf("Match(%q) matched %q but the reference does not parse: %v", ref, r1.ID, err)
			}
		} else {
			checkAgainstDistribution(t, ref, parsed)
		}
		if !ok1 {
			return
		}
		e := kc.byID[r1.ID]
		if e.view.ID != r1.ID {
			t.Fatalf("byID(%q) is %q", r1.ID, e.view.ID)
		}
		srv, _ := r1.ServerInfo()
		if srv.Wildcard {
			if !naiveWildcard(srv.Host, parsed.host) {
				t.Fatalf("Match(%q) = %q: host %q does not match pattern %q", ref, r1.ID, parsed.host, srv.Host)
			}
		} else if hosts.Canonical(srv.Host) != parsed.host {
			t.Fatalf("Match(%q) = %q: host %q is not the reference's %q", ref, r1.ID, srv.Host, parsed.host)
		}
		if p := parsed.path(); srv.Path != "" && p != srv.Path && !strings.HasPrefix(p, srv.Path+"/") {
			t.Fatalf("Match(%q) = %q: path %q is not under %q", ref, r1.ID, p, srv.Path)
		}
	})
}

// naiveWildcard is the obvious, slow statement of "each * is one DNS label, the port is
// equal", independent of hostPattern.
func naiveWildcard(pattern, host string) bool {
	pn, pp, _ := strings.Cut(pattern, ":")
	hn, hp, _ := strings.Cut(host, ":")
	if pp != hp || strings.HasPrefix(host, "[") {
		return false
	}
	pl, hl := strings.Split(pn, "."), strings.Split(hn, ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		if hl[i] == "" || pl[i] != "*" && pl[i] != hl[i] {
			return false
		}
	}
	return true
}

// checkAgainstDistribution compares our parse with reference.ParseNormalizedNamed, except
// for the two documented additions (bare hosts, URLs).
func checkAgainstDistribution(t *testing.T, ref string, got imageRef) {
	t.Helper()
	if strings.Contains(ref, "://") || (got.repo == "" && !strings.ContainsAny(ref, "/@")) {
		return
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		t.Fatalf("parseImageRef(%q) = %s, but docker/distribution refuses it: %v", ref, got, err)
	}
	host := hosts.Canonical(strings.ToLower(reference.Domain(named)))
	path := reference.Path(named)
	if host == hosts.DockerHub && !strings.Contains(path, "/") {
		path = "library/" + path // registry-1.docker.io/x is docker.io/library/x to us
	}
	if host != got.host || path != got.path() {
		t.Fatalf("parseImageRef(%q) = %s/%s, docker/distribution says %s/%s", ref, got.host, got.path(), host, path)
	}
}

// TestParseImageRefAgreesWithDistribution runs the fuzz seeds and more through both
// parsers, refusals included.
func TestParseImageRefAgreesWithDistribution(t *testing.T) {
	refs := append([]string{
		"ghcr.io/-x", "ghcr.io/x-", "a.-b/x", "a..b/x", "a/b//c", "a/", "/a", "a@sha256:" + strings.Repeat("A", 64),
		"a@sha512:" + strings.Repeat("b", 128), "a:" + strings.Repeat("t", 128), "a:" + strings.Repeat("t", 129),
		"a:.x", "a:_x", "A/b", "a/B", "[::1]/x", "[::1x]/x", "[]/x", "x:/y", "x:1a/y", "localhost/x",
		"docker.io/" + strings.Repeat("a", 247), "docker.io/" + strings.Repeat("a", 248),
		"ghcr.io/" + strings.Repeat("a", 255), "ghcr.io/" + strings.Repeat("a", 256), "a.b/c.d_e__f-g--h",
		"a_.b/c", "a/b_.c", "a/b._c", "a/b-_c", "a/b__c", "a/b___c",
	}, fuzzRefSeeds...)
	for _, ref := range refs {
		t.Run(ref, func(t *testing.T) {
			got, err := parseImageRef(ref)
			if err == nil {
				checkAgainstDistribution(t, ref, got)
				return
			}
			if strings.Contains(ref, "://") {
				return
			}
			if named, derr := reference.ParseNormalizedNamed(ref); derr == nil {
				t.Fatalf("parseImageRef(%q) refuses (%v) but docker/distribution parses %s", ref, err, named)
			}
		})
	}
}

// FuzzParseServer: ParseServer never panics, errors are *FieldError naming "url", and a
// parsed server is canonical: parsing its String again gives the same Server.
func FuzzParseServer(f *testing.F) {
	for _, s := range []string{
		"ghcr.io", "https://ghcr.io", "registry.example.com:5000", "http://[::1]:5000", "ghcr.io/myorg",
		"*.azurecr.io", "https://index.docker.io/v1/", "HTTPS://GHCR.IO/org", "ftp://x", "user:pw@host",
		"host:0", "host:65536", "host.", "[::1", "[1.2.3.4]", "a/b/../c", "*.x/y", "host:+5", "::1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s, err := registry.ParseServer(raw)
		if err != nil {
			fe, ok := err.(*registry.FieldError)
			if !ok || fe.Field != "url" {
				t.Fatalf("ParseServer(%q) error %T %v is not a *FieldError for url", raw, err, err)
			}
			return
		}
		if s.Host == "" || strings.ToLower(s.Host) != s.Host {
			t.Fatalf("ParseServer(%q) host %q is empty or not lowercase", raw, s.Host)
		}
		if s.Wildcard != strings.Contains(s.Host, "*") || (s.Wildcard && s.Path != "") {
			t.Fatalf("ParseServer(%q) = %+v: inconsistent wildcard", raw, s)
		}
		again, err := registry.ParseServer(s.String())
		if err != nil {
			t.Fatalf("ParseServer(%q) = %q, which does not parse again: %v", raw, s.String(), err)
		}
		again.Scheme = s.Scheme
		if again != s {
			t.Fatalf("ParseServer(%q) = %+v, reparsed %+v", raw, s, again)
		}
	})
}
