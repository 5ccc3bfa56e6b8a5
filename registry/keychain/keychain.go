package keychain

import (
	"context"
	"errors"
	"fmt"
	"github.com/regcred/regcred/internal/hosts"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/transport"
)

// Keychain maps image references to saved registries and their credentials. It implements
// go-containerregistry's authn.Keychain and authn.ContextKeychain, so it plugs into
// remote.WithAuthFromKeychain.
//
// The index is built once, in NewKeychain, and is read-only afterwards: resolving a
// reference is a few map lookups in memory (no file is read, nothing is locked), and a
// Keychain is safe for concurrent use. To follow changes, build a new one (the Catalog
// does that after each change).
//
// Matching, most specific first:
//   - the host is compared lowercase with its port ("registry:5000" is not "registry");
//     docker.io, index.docker.io, registry-1.docker.io and bare names such as "postgres",
//     "library/postgres" or "user/app" all mean Docker Hub; IPv6 literals compare in
//     canonical form;
//   - a path-scoped server ("ghcr.io/myorg") matches repositories under that path on whole
//     segments ("ghcr.io/myorg/app", not "ghcr.io/myorganisation/app"), and the longest
//     path wins over shorter ones and over the bare host;
//   - a server on the exact host beats a wildcard server; among wildcard servers
//     ("*.azurecr.io", "*.dkr.ecr.*.amazonaws.com", where "*" is exactly one DNS label)
//     the one with more literal labels wins;
//   - two registries with the same server: one with credentials wins over an anonymous one
//     (a Public entry), then the default one, then the first given (see Shadows);
//   - nothing matches: anonymous.
type Keychain struct {
	entries []*keychainEntry
	hosts   map[string]*hostIndex       // exact hosts
	wild    map[string][]*wildcardEntry // wildcard servers by the literal suffix after the last "*"
	wildLen uint64                      // bit n set: some wildcard suffix has n labels (0 for "")
	byID    map[string]*keychainEntry   // by ID, or by name for records without one
	log     *slog.Logger
}

var (
	_ authn.Keychain        = (*Keychain)(nil)
	_ authn.ContextKeychain = (*Keychain)(nil)
)

// keychainEntry is one registry in the index, with its provider and the one authenticator
// every Resolve of it returns.
type keychainEntry struct {
	view     registry.Registry // redacted
	name     string
	host     string // canonical host, or the pattern for a wildcard
	path     string
	provider registry.Provider
	auth     *registryAuthenticator
	order    int
	anon     bool // pulls without credentials (see anonymous)
}

// hostIndex holds the registries of one exact host.
type hostIndex struct {
	root  *keychainEntry            // the server without a path
	paths map[string]*keychainEntry // path-scoped servers by path
	depth int                       // the most segments of any path
}

type wildcardEntry struct {
	pattern hosts.Pattern
	entry   *keychainEntry
}

// KeychainOption configures NewKeychain.
type Option interface {
	applyKeychain(*keychainConfig)
}

type keychainConfig struct {
	factory registry.ProviderFactory
	log     *slog.Logger
}

type keychainOption func(*keychainConfig)

func (o keychainOption) applyKeychain(c *keychainConfig) { o(c) }

// KeychainWithProviderFactory sets how a record becomes a Provider. The default,
// StaticFactory, knows the static kinds only; pass providers.Factory() for token kinds.
func WithProviderFactory(f registry.ProviderFactory) Option {
	return keychainOption(func(c *keychainConfig) {
		if f != nil {
			c.factory = f
		}
	})
}

// KeychainWithLogger sets the logger for what is noticed along the way (a registry
// shadowed by another with the same server). The library never prints; the default
// discards.
func WithLogger(l *slog.Logger) Option {
	return keychainOption(func(c *keychainConfig) {
		if l != nil {
			c.log = l
		}
	})
}

// NewKeychain indexes regs. It fails, naming the registry, when a record's server does not
// parse or the factory cannot make its provider; nothing is fetched from a token endpoint
// here (providers fetch lazily, when a pull asks).
func New(regs []registry.Registry, opts ...Option) (*Keychain, error) {
	cfg := keychainConfig{factory: registry.StaticFactory, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o.applyKeychain(&cfg)
		}
	}
	k := &Keychain{
		hosts: make(map[string]*hostIndex),
		wild:  make(map[string][]*wildcardEntry),
		byID:  make(map[string]*keychainEntry, len(regs)),
		log:   cfg.log,
	}
	for i, r := range regs {
		srv, err := r.ServerInfo()
		if err != nil {
			return nil, &registry.Error{Op: "keychain", Registry: r.Name, Err: err}
		}
		p, err := cfg.factory(r.Clone())
		if err != nil {
			var e *registry.Error
			if errors.As(err, &e) && e.Registry != "" {
				return nil, err
			}
			return nil, &registry.Error{Op: "keychain", Registry: r.Name, Err: err}
		}
		if p == nil {
			return nil, &registry.Error{Op: "keychain", Registry: r.Name, Err: fmt.Errorf("provider factory returned no provider: %w", registry.ErrInvalid)}
		}
		e := &keychainEntry{view: r.Redacted(), name: r.Name, path: srv.Path, provider: p, order: i, anon: anonymous(r)}
		e.auth = &registryAuthenticator{name: r.Name, provider: p}
		k.entries = append(k.entries, e)
		if id := r.ID; id != "" {
			k.byID[id] = e
		} else if _, dup := k.byID[r.Name]; !dup {
			k.byID[r.Name] = e
		}
		if srv.Wildcard {
			e.host = srv.Host
			w := &wildcardEntry{pattern: hosts.NewPattern(srv.Host), entry: e}
			k.wild[w.pattern.Suffix()] = append(k.wild[w.pattern.Suffix()], w)
			k.wildLen |= 1 << min(suffixLabels(w.pattern.Suffix()), 63)
			continue
		}
		e.host = srv.Canonical()
		hi := k.hosts[e.host]
		if hi == nil {
			hi = &hostIndex{}
			k.hosts[e.host] = hi
		}
		if e.path != "" && hi.paths == nil {
			hi.paths = make(map[string]*keychainEntry)
		}
		if d := strings.Count(e.path, "/") + 1; e.path != "" && d > hi.depth {
			hi.depth = d
		}
		cur := hi.root
		if e.path != "" {
			cur = hi.paths[e.path]
		}
		win := e
		if cur != nil {
			if better(e, cur) {
				k.shadowed(cur, e)
			} else {
				win = cur
				k.shadowed(e, cur)
			}
		}
		if e.path == "" {
			hi.root = win
		} else {
			hi.paths[e.path] = win
		}
	}
	for _, ws := range k.wild {
		sort.SliceStable(ws, func(i, j int) bool { return betterWildcard(ws[i], ws[j]) })
	}
	return k, nil
}

func (k *Keychain) shadowed(loser, winner *keychainEntry) {
	k.log.Debug("registry shadowed by another with the same server",
		slog.String("registry", loser.name), slog.String("by", winner.name),
		slog.String("server", serverString(loser.host, loser.path)))
}

func serverString(host, path string) string {
	if path == "" {
		return host
	}
	return host + "/" + path
}

// lookup finds the entry for a canonical host and a repository path. library marks a
// Docker Hub official image whose real path is "library/" + repo.
func (k *Keychain) lookup(host, repo string, library bool) *keychainEntry {
	if hi := k.hosts[host]; hi != nil {
		if e := hi.lookupPath(repo, library); e != nil {
			return e
		}
		if hi.root != nil {
			return hi.root
		}
	}
	if len(k.wild) == 0 {
		return nil
	}
	return k.lookupWildcard(host)
}

func (hi *hostIndex) lookupPath(repo string, library bool) *keychainEntry {
	if hi.paths == nil || repo == "" {
		return nil
	}
	if library {
		// The path is "library/<repo>" with repo a single component.
		if hi.depth >= 2 {
			var buf [maxRepoPath + 8]byte
			b := append(append(buf[:0], "library/"...), repo...)
			if e := hi.paths[string(b)]; e != nil {
				return e
			}
		}
		return hi.paths["library"]
	}
	// Try the prefixes of repo on segment boundaries, longest first, starting at the
	// deepest path the host has.
	end := len(repo)
	segs := strings.Count(repo, "/") + 1
	for segs > hi.depth {
		end = strings.LastIndexByte(repo[:end], '/')
		segs--
	}
	for end > 0 {
		if e := hi.paths[repo[:end]]; e != nil {
			return e
		}
		end = strings.LastIndexByte(repo[:end], '/')
	}
	return nil
}

func (k *Keychain) lookupWildcard(host string) *keychainEntry {
	if strings.HasPrefix(host, "[") {
		return nil // a "*" stands for a DNS label, never for an IP literal
	}
	name, port := hosts.SplitPort(host)
	var best *wildcardEntry
	consider := func(suffix string) {
		for _, w := range k.wild[suffix] {
			if best != nil && !betterWildcard(w, best) {
				break // buckets are sorted best first
			}
			if w.pattern.MatchSplit(name, port) {
				best = w
				break
			}
		}
	}
	if k.wildLen&1 != 0 {
		consider("")
	}
	labels := strings.Count(name, ".") + 1 // labels of name[i+1:] after the first dot: labels-1, ...
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			labels--
			if k.wildLen&(1<<min(labels, 63)) != 0 {
				consider(name[i+1:])
			}
		}
	}
	if best == nil {
		return nil
	}
	return best.entry
}

func suffixLabels(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, ".") + 1
}

// betterWildcard orders wildcard servers: the more literal labels, the more specific;
// then better.
func betterWildcard(a, b *wildcardEntry) bool {
	if a.pattern.Literal() != b.pattern.Literal() {
		return a.pattern.Literal() > b.pattern.Literal()
	}
	return better(a.entry, b.entry)
}

// better orders two registries of equal specificity (the same server, or wildcards with
// as many literal labels): an authenticated one over an anonymous one (a Public entry
// never takes pulls away from credentials), then the default, then the first given.
func better(a, b *keychainEntry) bool {
	if a.anon != b.anon {
		return !a.anon
	}
	if a.view.Default != b.view.Default {
		return a.view.Default
	}
	return a.order < b.order
}

// anonymous reports whether r pulls without credentials: the Public kind, or a static
// kind with no secret saved. Token kinds always authenticate.
func anonymous(r registry.Registry) bool {
	c, ok := registry.StaticCredentials(r)
	return ok && c.Anonymous()
}

// Resolve implements authn.Keychain: the authenticator of the registry that matches the
// resource, or authn.Anonymous. It reads no file and fetches nothing: the authenticator
// asks the registry's provider when the transport calls Authorization. The repository path
// is only looked at when the host has path-scoped registries.
func (k *Keychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	reg := res.RegistryStr()
	host := hosts.Canonical(reg)
	var e *keychainEntry
	if hi := k.hosts[host]; hi != nil {
		if hi.paths != nil {
			repo, library, err := resourceRepo(res, reg)
			if err != nil {
				return nil, &registry.Error{Op: "resolve", Registry: reg, Err: err}
			}
			e = hi.lookupPath(repo, library)
		}
		if e == nil {
			e = hi.root
		}
	}
	if e == nil && len(k.wild) > 0 {
		e = k.lookupWildcard(host)
	}
	if e == nil {
		return authn.Anonymous, nil
	}
	return e.auth, nil
}

// ResolveContext implements authn.ContextKeychain; the lookup itself does not block.
func (k *Keychain) ResolveContext(_ context.Context, res authn.Resource) (authn.Authenticator, error) {
	return k.Resolve(res)
}

// repositoryResource is what name.Repository, name.Tag and name.Digest have.
type repositoryResource interface {
	RepositoryStr() string
}

// resourceRepo extracts the repository path of a resource: directly from
// go-containerregistry's names (already validated), else from its String.
func resourceRepo(res authn.Resource, reg string) (repo string, library bool, err error) {
	if r, ok := res.(repositoryResource); ok {
		return r.RepositoryStr(), false, nil
	}
	s := res.String()
	if s == reg {
		return "", false, nil
	}
	if rest, ok := strings.CutPrefix(s, reg+"/"); ok {
		// host/path[:tag][@digest] from some other Resource implementation.
		if i := strings.IndexByte(rest, '@'); i >= 0 {
			rest = rest[:i]
		}
		if i := strings.LastIndexByte(rest, ':'); i >= 0 {
			rest = rest[:i]
		}
		return rest, false, nil
	}
	ref, err := parseImageRef(s)
	if err != nil {
		return "", false, err
	}
	return ref.repo, ref.library, nil
}

// Match returns the registry an image reference ("postgres:17", "ghcr.io/org/app@sha256:…",
// "[::1]:5000/x") or a bare host ("ghcr.io", "registry.example.com:5000") resolves to, as a
// redacted copy. ok is false when nothing matches (the pull is anonymous) or when ref does
// not parse.
func (k *Keychain) Match(ref string) (registry.Registry, bool) {
	e, err := k.match(ref)
	if err != nil || e == nil {
		return registry.Registry{}, false
	}
	return e.view.Clone(), true
}

func (k *Keychain) match(ref string) (*keychainEntry, error) {
	r, err := parseImageRef(ref)
	if err != nil {
		return nil, err
	}
	return k.lookup(r.host, r.repo, r.library), nil
}

// Credentials resolves ref and asks the matching registry's provider for credentials. It
// returns the registry as a redacted copy. When nothing matches, it returns anonymous (zero)
// Credentials, a zero Registry and a nil error: an unknown registry is pulled anonymously,
// not an error; check Registry.ID (or Name) to tell. It fails with an *Error wrapping
// ErrInvalid when ref does not parse, and with an *Error{Op: "credentials"} wrapping the
// provider's error.
func (k *Keychain) Credentials(ctx context.Context, ref string) (registry.Credentials, registry.Registry, error) {
	e, err := k.match(ref)
	if err != nil {
		return registry.Credentials{}, registry.Registry{}, &registry.Error{Op: "match", Err: err}
	}
	if e == nil {
		return registry.Credentials{}, registry.Registry{}, nil
	}
	c, err := e.provider.Credentials(ctx)
	if err != nil {
		return registry.Credentials{}, e.view.Clone(), &registry.Error{Op: "credentials", Registry: e.name, Err: err}
	}
	return c, e.view.Clone(), nil
}

// Provider returns the provider of the registry with the given ID (or name, for records
// without an ID).
func (k *Keychain) Provider(id string) (registry.Provider, bool) {
	e, ok := k.byID[id]
	if !ok {
		return nil, false
	}
	return e.provider, true
}

// Registries returns the indexed registries as redacted copies, in the order given.
func (k *Keychain) Registries() []registry.Registry {
	out := make([]registry.Registry, len(k.entries))
	for i, e := range k.entries {
		out[i] = e.view.Clone()
	}
	return out
}

// registryAuthenticator is the authn.Authenticator of one registry. It asks the provider on
// every Authorization call; caching and refresh are the provider's job.
type registryAuthenticator struct {
	name     string
	provider registry.Provider
}

var (
	_ authn.Authenticator        = (*registryAuthenticator)(nil)
	_ authn.ContextAuthenticator = (*registryAuthenticator)(nil)
)

// Authorization implements authn.Authenticator.
func (a *registryAuthenticator) Authorization() (*authn.AuthConfig, error) {
	return a.AuthorizationContext(context.Background())
}

// AuthorizationContext implements authn.ContextAuthenticator. A provider error comes back
// as an *Error{Op: "credentials", Registry: name} wrapping it.
func (a *registryAuthenticator) AuthorizationContext(ctx context.Context) (*authn.AuthConfig, error) {
	c, err := a.provider.Credentials(ctx)
	if err != nil {
		return nil, &registry.Error{Op: "credentials", Registry: a.name, Err: err}
	}
	cfg := c.AuthConfig()
	return &cfg, nil
}

// String names the registry, never the credentials.
func (a *registryAuthenticator) String() string { return "registry authenticator for " + a.name }

// GoString keeps %#v from printing the provider's fields.
func (a *registryAuthenticator) GoString() string { return a.String() }

// String summarizes the keychain; it never prints a record or a provider.
func (k *Keychain) String() string {
	return fmt.Sprintf("keychain.Keychain{%d registries}", len(k.entries))
}

// Format prints String under every verb, so no provider's fields leak through %+v or %#v.
func (k *Keychain) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// LogValue keeps slog from encoding the keychain's internals.
func (k *Keychain) LogValue() slog.Value { return slog.StringValue(k.String()) }

// LogValue names the registry for slog.
func (a *registryAuthenticator) LogValue() slog.Value { return slog.StringValue(a.String()) }

// Transport returns the HTTP transport to pull ref with: the Transport of the matching
// registry (shared through DefaultCache, so the connection test, the Keychain and the
// CLI all talk to a registry the same way), or, when no saved registry matches (the pull
// is anonymous), a Transport that verifies TLS against the system roots, allows
// go-containerregistry's plain-http fallback (no credentials to protect) and bounds what
// the server sends all the same. Pass it to remote.WithTransport next to
// remote.WithAuthFromKeychain: it is what keeps the credentials on TLS and on their own
// host (no plain-http fallback unless the record's TLS mode is insecure, the realm
// policy for token exchanges, no Authorization on redirects to other hosts) and bounds
// what the registry sends. Without it go-containerregistry uses its default transport,
// which falls back to plain http for loopback, *.local and private hosts.
func (k *Keychain) Transport(ref string) (http.RoundTripper, error) {
	r, err := parseImageRef(ref)
	if err != nil {
		return nil, &registry.Error{Op: "transport", Registry: ref, Err: fmt.Errorf("%w: %v", registry.ErrInvalid, err)}
	}
	e := k.lookup(r.host, r.repo, r.library)
	if e == nil {
		return transport.AnonymousTransport(r.host), nil
	}
	tr, err := transport.DefaultCache.For(e.view)
	if err != nil {
		return nil, &registry.Error{Op: "transport", Registry: e.name, Err: err}
	}
	return tr, nil
}
