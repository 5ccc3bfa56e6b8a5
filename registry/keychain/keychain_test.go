package keychain_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/keychain"
)

// kcRegistries is the saved set the matching table runs against.
func kcRegistries() []registry.Registry {
	hub := func(id, server string) registry.Registry {
		return registry.Registry{ID: id, Name: id, Kind: registry.KindDockerHub, Server: server,
			Fields: map[string]string{"username": "u", "password": "p"}}
	}
	ghcr := func(id, server string) registry.Registry {
		return registry.Registry{ID: id, Name: id, Kind: registry.KindGHCR, Server: server,
			Fields: map[string]string{"username": "u", "token": "t"}}
	}
	ipv6 := fixture.Custom("ipv6", "http://[::1]:5000")
	ipv6.TLS.Mode = registry.TLSInsecure
	return []registry.Registry{
		hub("hub", ""),
		hub("hub-library", "docker.io/library"),
		hub("hub-myuser", "https://index.docker.io/myuser"),
		ghcr("ghcr", ""),
		ghcr("ghcr-myorg", "ghcr.io/myorg"),
		ghcr("ghcr-team", "https://ghcr.io/myorg/team/"),
		fixture.Custom("local5000", "localhost:5000"),
		fixture.Custom("local", "localhost"),
		ipv6,
		fixture.Custom("upper", "https://Registry.Example.COM"),
		fixture.Custom("acr-any", "*.azurecr.io"),
		{ID: "acr-mine", Name: "acr-mine", Kind: registry.KindACR, Fields: map[string]string{
			"loginServer": "myreg.azurecr.io", "username": "u", "password": "p"}},
		{ID: "ecr-use1", Name: "ecr-use1", Kind: registry.KindECR, Fields: map[string]string{"region": "us-east-1"}},
		fixture.Custom("ecr-any", "*.dkr.ecr.*.amazonaws.com"),
		fixture.Custom("wild-port", "*.example.net:5000"),
		{ID: "quay", Name: "quay", Kind: registry.KindQuay, Fields: map[string]string{"username": "org+bot", "token": "t"}},
	}
}

func newTestKeychain(t testing.TB, regs []registry.Registry) *keychain.Keychain {
	t.Helper()
	for _, r := range regs {
		if err := r.Validate(); err != nil {
			t.Fatalf("fixture %s does not validate: %v", r.ID, err)
		}
	}
	kc, err := keychain.New(regs, keychain.WithProviderFactory(fixture.Factory))
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

const kcDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestKeychainMatch(t *testing.T) {
	kc := newTestKeychain(t, kcRegistries())
	tests := []struct {
		ref  string
		want string // registry ID; "" means anonymous
	}{
		// Docker Hub: aliases, official images, users.
		{"postgres", "hub-library"},
		{"postgres:17", "hub-library"},
		{"postgres@" + kcDigest, "hub-library"},
		{"postgres:17@" + kcDigest, "hub-library"},
		{"library/postgres", "hub-library"},
		{"docker.io/postgres", "hub-library"},
		{"docker.io/library/postgres:17", "hub-library"},
		{"index.docker.io/postgres", "hub-library"},
		{"registry-1.docker.io/library/postgres@" + kcDigest, "hub-library"},
		{"DOCKER.IO/library/postgres", "hub-library"},
		{"myuser/app", "hub-myuser"},
		{"docker.io/myuser/app:1.0", "hub-myuser"},
		{"index.docker.io/myuser/team/app", "hub-myuser"},
		{"myuserx/app", "hub"},
		{"libraryx/app", "hub"},
		{"otheruser/app", "hub"},
		{"docker.io", "hub"},
		{"index.docker.io", "hub"},
		{"registry-1.docker.io", "hub"},
		{"https://index.docker.io/v1/", "hub"},
		{"docker.io:443/library/postgres", ""},
		// Path-scoped servers on whole segments; the longest wins.
		{"ghcr.io/myorg/app", "ghcr-myorg"},
		{"ghcr.io/myorg", "ghcr-myorg"},
		{"ghcr.io/myorganisation/app", "ghcr"},
		{"ghcr.io/myorg-x/app", "ghcr"},
		{"ghcr.io/myorg/team/app:v1", "ghcr-team"},
		{"ghcr.io/myorg/team", "ghcr-team"},
		{"ghcr.io/myorg/teamx/app", "ghcr-myorg"},
		{"ghcr.io/myorg/team.x/app", "ghcr-myorg"},
		{"ghcr.io/other/myorg/app", "ghcr"},
		{"GHCR.IO/myorg/app", "ghcr-myorg"},
		{"Ghcr.Io/myorg/app", "ghcr-myorg"},
		{"ghcr.io", "ghcr"},
		{"https://ghcr.io/myorg", "ghcr-myorg"},
		{"ghcr.io:443/myorg/app", ""},
		// Ports and localhost.
		{"localhost:5000/app", "local5000"},
		{"localhost:5000", "local5000"},
		{"localhost/app", "local"},
		{"localhost", "local"},
		{"LOCALHOST/app", "local"},
		{"localhost:5001/app", ""},
		{"localhost:05000/app", ""},
		// IPv6 literals compare in canonical form; the port is significant.
		{"[::1]:5000/app", "ipv6"},
		{"[0:0:0:0:0:0:0:1]:5000/app:v1", "ipv6"},
		{"[::1]:5000", "ipv6"},
		{"[::1]/app", ""},
		{"[::2]:5000/app", ""},
		// Case-insensitive hosts.
		{"registry.example.com/app", "upper"},
		{"REGISTRY.EXAMPLE.COM/team/app@" + kcDigest, "upper"},
		{"registry.example.com:443/app", ""},
		{"sub.registry.example.com/app", ""},
		// Wildcards: one label each; exact beats wildcard; more literal labels win.
		{"myreg.azurecr.io/app", "acr-mine"},
		{"MyReg.AzureCR.io/app", "acr-mine"},
		{"other.azurecr.io/app", "acr-any"},
		{"other.azurecr.io", "acr-any"},
		{"a.b.azurecr.io/app", ""},
		{"azurecr.io/app", ""},
		{"other.azurecr.io:443/app", ""},
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com/app", "ecr-use1"},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1", "ecr-any"},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com.cn/app", ""},
		{"dkr.ecr.eu-west-1.amazonaws.com/app", ""},
		{"x.y.dkr.ecr.eu-west-1.amazonaws.com/app", ""},
		{"a.example.net:5000/app", "wild-port"},
		{"a.example.net/app", ""},
		{"a.example.net:5001/app", ""},
		// Kind default servers.
		{"quay.io/org/app", "quay"},
		{"QUAY.io/org/app:v1", "quay"},
		// Nothing matches.
		{"example.com/app", ""},
		{"Foo/app", ""}, // an uppercase first component is a host (docker's rule)
		{"gcr.io/project/app", ""},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, ok := kc.Match(tt.ref)
			if ok != (tt.want != "") || got.ID != tt.want {
				t.Fatalf("Match(%q) = %q, %v; want %q", tt.ref, got.ID, ok, tt.want)
			}
			c, reg, err := kc.Credentials(context.Background(), tt.ref)
			if err != nil {
				t.Fatalf("Credentials: %v", err)
			}
			if reg.ID != tt.want {
				t.Errorf("Credentials registry = %q, want %q", reg.ID, tt.want)
			}
			wantUser := ""
			if tt.want != "" {
				wantUser = "user-" + tt.want
			}
			if c.Username != wantUser {
				t.Errorf("Credentials user = %q, want %q", c.Username, wantUser)
			}
			if tt.want == "" && !c.Anonymous() {
				t.Errorf("unmatched ref got credentials %v", c)
			}
			// go-containerregistry's own parsing, through Resolve, must agree wherever it
			// parses the reference (it does not know bare hosts or URLs).
			if strings.Contains(tt.ref, "://") || !strings.Contains(tt.ref, "/") {
				return
			}
			ref, err := name.ParseReference(tt.ref)
			if err != nil {
				t.Logf("go-containerregistry does not parse %q: %v", tt.ref, err)
				return
			}
			auth, err := kc.Resolve(ref.Context())
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := auth.Authorization()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Username != wantUser {
				t.Errorf("Resolve(%s) user = %q, want %q", ref.Context(), cfg.Username, wantUser)
			}
		})
	}
}

func TestKeychainMatchInvalid(t *testing.T) {
	kc := newTestKeychain(t, kcRegistries())
	for _, ref := range []string{
		"",
		"Postgres",
		"ghcr.io/MyOrg/app",
		"ghcr.io/myorg//app",
		"ghcr.io/-x",
		"ghcr.io/a-.b",
		"ghcr.io/",
		"postgres:",
		"postgres:-x",
		"postgres@sha256:abc",
		"postgres@md5:" + strings.Repeat("a", 32),
		"a:b:c",
		"[::1/x",
		"[]:5000/x",
		"[::g]:5000/x",
		"host_name.com/x",
		"-host.com/x",
		"host.com:/x",
		"host.com:5x/x",
		strings.Repeat("a", 64),
		"ftp://ghcr.io",
		"https://*.azurecr.io",
		"docker.io/" + strings.Repeat("a", 250),
	} {
		t.Run(ref, func(t *testing.T) {
			if got, ok := kc.Match(ref); ok {
				t.Fatalf("Match(%q) = %s, want no match", ref, got.ID)
			}
			_, _, err := kc.Credentials(context.Background(), ref)
			if !errors.Is(err, registry.ErrInvalid) {
				t.Fatalf("Credentials(%q) error = %v, want ErrInvalid", ref, err)
			}
			var e *registry.Error
			if !errors.As(err, &e) || e.Op != "match" {
				t.Fatalf("error %v is not an *Error{Op: match}", err)
			}
		})
	}
}

func TestKeychainDuplicateServers(t *testing.T) {
	a := fixture.Custom("a", "registry.example.com")
	b := fixture.Custom("b", "https://REGISTRY.example.com/")
	c := fixture.Custom("c", "registry.example.com")
	c.Default = true
	w1, w2 := fixture.Custom("w1", "*.example.org"), fixture.Custom("w2", "*.example.org")
	// A Public docker.io entry and Docker Hub with credentials: the credentials win at the
	// same server whatever the order and whichever is the default (before, the first given
	// won and Hub pulls went anonymous and rate-limited).
	public := registry.Registry{ID: "public", Name: "public", Kind: registry.KindPublic, Server: "docker.io"}
	publicDefault := public
	publicDefault.Default = true
	hub := registry.Registry{ID: "hub", Name: "hub", Kind: registry.KindDockerHub, Fields: map[string]string{"username": "u", "password": "p"}}
	anonWild := fixture.Custom("anon-w", "*.example.org")
	anonWild.Fields = nil
	tests := []struct {
		name string
		regs []registry.Registry
		ref  string
		want string
	}{
		{"first given wins", []registry.Registry{a, b}, "registry.example.com/x", "a"},
		{"order matters", []registry.Registry{b, a}, "registry.example.com/x", "b"},
		{"default wins", []registry.Registry{a, c, b}, "registry.example.com/x", "c"},
		{"first wildcard wins", []registry.Registry{w1, w2}, "x.example.org/app", "w1"},
		{"wildcard order", []registry.Registry{w2, w1}, "x.example.org/app", "w2"},
		{"credentials beat a public entry", []registry.Registry{public, hub}, "alpine", "hub"},
		{"credentials beat a public entry given last", []registry.Registry{hub, public}, "index.docker.io/library/alpine", "hub"},
		{"credentials beat a public default", []registry.Registry{publicDefault, hub}, "docker.io/team/app", "hub"},
		{"credentials beat an anonymous wildcard", []registry.Registry{anonWild, w2}, "x.example.org/app", "w2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kc := newTestKeychain(t, tt.regs)
			got, ok := kc.Match(tt.ref)
			if !ok || got.ID != tt.want {
				t.Fatalf("Match = %q, %v; want %q", got.ID, ok, tt.want)
			}
		})
	}
}

func TestKeychainNoRegistries(t *testing.T) {
	kc := newTestKeychain(t, nil)
	auth, err := kc.Resolve(name.MustParseReference("ghcr.io/org/app").Context())
	if err != nil || auth != authn.Anonymous {
		t.Fatalf("Resolve = %v, %v; want authn.Anonymous", auth, err)
	}
	if _, ok := kc.Match("postgres"); ok {
		t.Fatal("empty keychain matched")
	}
}

func TestKeychainResolveResources(t *testing.T) {
	kc := newTestKeychain(t, kcRegistries())
	tests := []struct {
		res  authn.Resource
		want string
	}{
		{name.MustParseReference("postgres:17").(name.Tag), "hub-library"},
		{name.MustParseReference("postgres:17").Context(), "hub-library"},
		{name.MustParseReference("ghcr.io/myorg/app@" + kcDigest).(name.Digest), "ghcr-myorg"},
		{mustRegistry(t, "ghcr.io"), "ghcr"},
		{mustRegistry(t, "index.docker.io"), "hub"},
		{mustRegistry(t, "other.azurecr.io"), "acr-any"},
		{mustRegistry(t, "example.com"), ""},
		{plainResource{s: "ghcr.io/myorg/team/app:v1", reg: "ghcr.io"}, "ghcr-team"},
		{plainResource{s: "ghcr.io/myorg/app@" + kcDigest, reg: "ghcr.io"}, "ghcr-myorg"},
		{plainResource{s: "ghcr.io", reg: "ghcr.io"}, "ghcr"},
	}
	for _, tt := range tests {
		t.Run(tt.res.String(), func(t *testing.T) {
			for _, resolve := range []func(authn.Resource) (authn.Authenticator, error){
				kc.Resolve,
				func(r authn.Resource) (authn.Authenticator, error) { return authn.Resolve(context.Background(), kc, r) },
			} {
				auth, err := resolve(tt.res)
				if err != nil {
					t.Fatal(err)
				}
				cfg, err := authn.Authorization(context.Background(), auth)
				if err != nil {
					t.Fatal(err)
				}
				want := authn.AuthConfig{}
				if tt.want != "" {
					want = authn.AuthConfig{Username: "user-" + tt.want, Password: "pw-" + tt.want}
				}
				if diff := cmp.Diff(want, *cfg); diff != "" {
					t.Errorf("authorization (-want +got):\n%s", diff)
				}
			}
		})
	}
}

type plainResource struct{ s, reg string }

func (p plainResource) String() string      { return p.s }
func (p plainResource) RegistryStr() string { return p.reg }

func mustRegistry(t *testing.T, s string) name.Registry {
	t.Helper()
	r, err := name.NewRegistry(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestKeychainResolveReturnsOneAuthenticatorPerRegistry(t *testing.T) {
	kc := newTestKeychain(t, kcRegistries())
	a1, _ := kc.Resolve(name.MustParseReference("ghcr.io/a/b").Context())
	a2, _ := kc.Resolve(name.MustParseReference("ghcr.io/c/d:1").Context())
	if a1 != a2 {
		t.Fatal("two resolves of the same registry returned different authenticators")
	}
}

func TestKeychainProviderErrors(t *testing.T) {
	boom := errors.New("token endpoint said no")
	var calls int
	factory := func(r registry.Registry) (registry.Provider, error) {
		return registry.ProviderFunc(func(ctx context.Context) (registry.Credentials, error) {
			calls++
			return registry.Credentials{}, boom
		}), nil
	}
	kc, err := keychain.New([]registry.Registry{fixture.Custom("broken", "registry.example.com")},
		keychain.WithProviderFactory(factory))
	if err != nil {
		t.Fatal(err)
	}
	if calls != 0 {
		t.Fatalf("NewKeychain fetched credentials %d times; providers must be lazy", calls)
	}
	auth, err := kc.Resolve(name.MustParseReference("registry.example.com/app").Context())
	if err != nil {
		t.Fatalf("Resolve must not fetch: %v", err)
	}
	if calls != 0 {
		t.Fatalf("Resolve fetched credentials")
	}
	_, err = auth.Authorization()
	var e *registry.Error
	if !errors.As(err, &e) || e.Op != "credentials" || e.Registry != "broken" || !errors.Is(err, boom) {
		t.Fatalf("Authorization error = %#v, want *Error{Op: credentials, Registry: broken} wrapping the cause", err)
	}
	_, reg, err := kc.Credentials(context.Background(), "registry.example.com/app")
	if !errors.Is(err, boom) || reg.ID != "broken" {
		t.Fatalf("Credentials = %v, %v", reg.ID, err)
	}
}

func TestNewKeychainErrors(t *testing.T) {
	tests := []struct {
		name    string
		regs    []registry.Registry
		opts    []keychain.Option
		wantErr error
		wantReg string
	}{
		{
			name:    "token kind with the static factory",
			regs:    []registry.Registry{{ID: "e", Name: "ecr", Kind: registry.KindECR, Fields: map[string]string{"region": "eu-west-1"}}},
			wantErr: registry.ErrInvalid, wantReg: "ecr",
		},
		{
			name:    "no server",
			regs:    []registry.Registry{{ID: "c", Name: "custom", Kind: registry.KindCustom}},
			wantErr: registry.ErrInvalid, wantReg: "custom",
		},
		{
			name:    "bad server",
			regs:    []registry.Registry{fixture.Custom("bad", "ftp://x.example.com")},
			wantErr: registry.ErrInvalid, wantReg: "bad",
		},
		{
			name: "factory error",
			regs: []registry.Registry{fixture.Custom("f", "x.example.com")},
			opts: []keychain.Option{keychain.WithProviderFactory(func(registry.Registry) (registry.Provider, error) {
				return nil, registry.ErrUnavailable
			})},
			wantErr: registry.ErrUnavailable, wantReg: "f",
		},
		{
			name: "factory returns nil",
			regs: []registry.Registry{fixture.Custom("n", "x.example.com")},
			opts: []keychain.Option{keychain.WithProviderFactory(func(registry.Registry) (registry.Provider, error) {
				return nil, nil
			})},
			wantErr: registry.ErrInvalid, wantReg: "n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keychain.New(tt.regs, tt.opts...)
			var e *registry.Error
			if !errors.Is(err, tt.wantErr) || !errors.As(err, &e) || e.Registry != tt.wantReg {
				t.Fatalf("NewKeychain error = %v, want %v naming %q", err, tt.wantErr, tt.wantReg)
			}
		})
	}
}

func TestKeychainViewsAreRedactedCopies(t *testing.T) {
	regs := []registry.Registry{fixture.Custom("a", "registry.example.com"), {ID: "p", Name: "pub", Kind: registry.KindPublic}}
	regs[0].Fields["password"] = "s3cr3t-value"
	kc := newTestKeychain(t, regs)

	got := kc.Registries()
	want := []registry.Registry{regs[0].Redacted(), regs[1].Redacted()}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(registry.Registry{})); diff != "" {
		t.Fatalf("Registries (-want +got):\n%s", diff)
	}
	got[0].Fields["password"] = "mutated"
	m, _ := kc.Match("registry.example.com/x")
	if m.Fields["password"] != registry.Redacted {
		t.Fatalf("Match view = %q; views must be redacted copies", m.Fields["password"])
	}
	m.Fields["username"] = "mutated"
	if again, _ := kc.Match("registry.example.com/x"); again.Fields["username"] != "u" {
		t.Fatal("mutating a returned view changed the keychain")
	}
	// The provider still has the real secret.
	p, ok := kc.Provider("a")
	if !ok {
		t.Fatal("Provider(a) not found")
	}
	c, _ := p.Credentials(context.Background())
	if c.Password.Reveal() != "pw-a" {
		t.Fatalf("provider credentials = %v", c)
	}
	if _, ok := kc.Provider("nope"); ok {
		t.Fatal("Provider(nope) found")
	}
}

func TestKeychainProviderByNameWithoutID(t *testing.T) {
	r := fixture.Custom("", "registry.example.com")
	r.Name = "from-file"
	kc := newTestKeychain(t, []registry.Registry{r})
	if _, ok := kc.Provider("from-file"); !ok {
		t.Fatal("a record without an ID is not found by name")
	}
}

func TestKeychainConcurrentUse(t *testing.T) {
	kc := newTestKeychain(t, kcRegistries())
	refs := []string{"postgres", "ghcr.io/myorg/app", "other.azurecr.io/x", "[::1]:5000/x", "example.com/x"}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				ref := refs[(i+j)%len(refs)]
				want, _ := kc.Match(ref)
				r, err := name.ParseReference(ref)
				if err != nil {
					t.Error(err)
					return
				}
				a, err := kc.Resolve(r.Context())
				if err != nil {
					t.Error(err)
					return
				}
				cfg, _ := a.Authorization()
				if want.ID != "" && cfg.Username != "user-"+want.ID {
					t.Errorf("%s: %q vs %q", ref, cfg.Username, want.ID)
				}
			}
		}()
	}
	wg.Wait()
}

func TestKeychainLogsShadowedRegistries(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, b := fixture.Custom("a", "registry.example.com"), fixture.Custom("b", "registry.example.com")
	a.Fields["password"], b.Fields["password"] = "s3cr3t-a", "s3cr3t-b"
	if _, err := keychain.New([]registry.Registry{a, b}, keychain.WithLogger(log)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "registry=b by=a server=registry.example.com") {
		t.Fatalf("log does not say b is shadowed by a:\n%s", out)
	}
	if strings.Contains(out, "s3cr3t") {
		t.Fatalf("log leaks a secret:\n%s", out)
	}
}
