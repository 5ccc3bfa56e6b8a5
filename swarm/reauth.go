package swarm

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	dockerswarm "github.com/docker/docker/api/types/swarm"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/internal/passloop"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/keychain"
)

// LabelRegistry on a Swarm service names the registry (its ID) whose credentials the
// service's image is pulled with. Services without it are matched by their image
// (keychain.Keychain's rules).
const LabelRegistry = "regcred.io/registry"

// ReauthAPI is the part of the Docker Engine API client Reauth uses (*client.Client
// implements it).
type ReauthAPI interface {
	ServiceAPI
	ServiceList(ctx context.Context, options dockerswarm.ServiceListOptions) ([]dockerswarm.Service, error)
}

// Reauth keeps the registry auth of Swarm services fresh: after a rotation, and before a
// token expires, each service that uses a saved registry gets its X-Registry-Auth
// replaced (UpdateServiceAuth: the spec is written back unchanged). The daemon does
// not restart tasks for a change of registry auth alone: running tasks keep running (the
// integration test checks the task IDs on a real swarm); new tasks pull with the new auth.
//
// The Engine API never returns a service's stored auth, so Reauth records what it pushed
// (a keyed fingerprint, never the credentials) and when. After a restart it knows nothing
// and pushes once to every matching service.
type Reauth struct {
	cat  *catalog.Catalog
	api  ReauthAPI
	clk  clock.Clock
	log  *slog.Logger
	poll time.Duration
	key  []byte // HMAC key of the fingerprints

	mu     sync.Mutex
	pushed map[string]pushRecord // by service ID
	due    map[string]time.Time  // registry ID -> when its provider fetches anew (registry.RefreshAt)
}

type pushRecord struct {
	registryID string
	service    string // the service's name
	sum        [32]byte
}

// ReauthOption configures NewReauth.
type ReauthOption func(*Reauth)

// WithReauthClock sets the clock of the refresh schedule (default clock.Real{}).
func WithReauthClock(c clock.Clock) ReauthOption {
	return func(s *Reauth) {
		if c != nil {
			s.clk = c
		}
	}
}

// WithReauthLogger sets the logger (default: discard).
func WithReauthLogger(l *slog.Logger) ReauthOption {
	return func(s *Reauth) {
		if l != nil {
			s.log = l
		}
	}
}

// WithReauthPoll sets how often Run lists the services to find new ones (default 30 s).
func WithReauthPoll(d time.Duration) ReauthOption {
	return func(s *Reauth) {
		if d > 0 {
			s.poll = d
		}
	}
}

// NewReauth returns the re-auth of the services of the swarm api manages.
func NewReauth(cat *catalog.Catalog, api ReauthAPI, opts ...ReauthOption) *Reauth {
	s := &Reauth{cat: cat, api: api, clk: clock.Real{}, log: slog.New(slog.DiscardHandler), poll: 30 * time.Second,
		pushed: map[string]pushRecord{}, due: map[string]time.Time{}, key: make([]byte, 32)}
	_, _ = rand.Read(s.key)
	for _, o := range opts {
		o(s)
	}
	return s
}

// ReauthResult is what one pass did.
type ReauthResult struct {
	Updated []string // service names whose auth was replaced
	Failed  map[string]error
}

// pushAuth is one registry's X-Registry-Auth for a pass, resolved once for all of its
// services.
type pushAuth struct {
	skip    bool // no provider: its services are left alone
	enc     string
	sum     [32]byte  // keyed fingerprint of enc
	refresh time.Time // when the provider fetches anew (registry.RefreshAt)
	err     error
}

// serviceUse is a service that uses a saved registry.
type serviceUse struct {
	svc  dockerswarm.Service
	reg  registry.Registry
	prev pushRecord
	had  bool // prev is what was pushed to it with this registry
}

// Reconcile runs one pass: every service using a saved registry whose credentials differ
// from what was pushed gets the current ones. Each registry's credentials are resolved once
// per pass, however many services use it; a provider due to refresh (registry.RefreshAt)
// fetches new ones in that call, and Run wakes then.
func (s *Reauth) Reconcile(ctx context.Context) (*ReauthResult, error) {
	kc, err := s.cat.Keychain(ctx)
	if err != nil {
		return nil, err
	}
	services, err := s.api.ServiceList(ctx, dockerswarm.ServiceListOptions{})
	if err != nil {
		return nil, fmt.Errorf("swarm: list services: %w", err)
	}
	res := &ReauthResult{Failed: map[string]error{}}
	uses := map[string][]string{}
	seen := map[string]bool{}
	regs := map[string]registry.Registry{}
	for _, r := range kc.Registries() {
		regs[r.ID] = r
	}
	var matched []serviceUse
	s.mu.Lock()
	for _, svc := range services {
		seen[svc.ID] = true
		cs := svc.Spec.TaskTemplate.ContainerSpec
		if cs == nil || cs.Image == "" {
			continue
		}
		reg, ok := regs[svc.Spec.Labels[LabelRegistry]]
		if !ok {
			if reg, ok = kc.Match(cs.Image); !ok {
				continue
			}
		}
		uses[reg.ID] = append(uses[reg.ID], svc.Spec.Name)
		prev, had := s.pushed[svc.ID]
		had = had && prev.registryID == reg.ID
		matched = append(matched, serviceUse{svc: svc, reg: reg, prev: prev, had: had})
	}
	s.mu.Unlock()
	auths := map[string]*pushAuth{}
	for _, u := range matched {
		a, ok := auths[u.reg.ID]
		if !ok {
			a = s.auth(ctx, kc, u.reg)
			auths[u.reg.ID] = a
		}
		name := u.svc.Spec.Name
		if a.skip {
			continue
		}
		if a.err != nil {
			res.Failed[name] = a.err
			continue
		}
		if u.had && u.prev.sum == a.sum {
			continue
		}
		if _, err := UpdateServiceAuth(ctx, s.api, u.svc.ID, a.enc, WithTLS(u.reg.TLS)); err != nil {
			res.Failed[name] = err
			s.log.Warn("swarm: service auth update failed", "service", name, "registry", u.reg.Name, "error", err)
			continue
		}
		s.mu.Lock()
		s.pushed[u.svc.ID] = pushRecord{registryID: u.reg.ID, service: name, sum: a.sum}
		s.mu.Unlock()
		res.Updated = append(res.Updated, name)
	}
	s.mu.Lock()
	for id := range s.pushed {
		if !seen[id] {
			delete(s.pushed, id)
		}
	}
	clear(s.due)
	for id, a := range auths {
		if !a.refresh.IsZero() {
			s.due[id] = a.refresh
		}
	}
	s.mu.Unlock()
	for id, names := range uses {
		if err := s.cat.SetConsumers(ctx, id, registry.ConsumerSwarmService, names); err != nil && !errors.Is(err, registry.ErrNotFound) {
			s.log.Warn("swarm: record consumers", "registry", id, "error", err)
		}
	}
	sort.Strings(res.Updated)
	if len(res.Failed) == 0 {
		res.Failed = nil
	}
	return res, nil
}

// auth resolves reg's credentials into the X-Registry-Auth its services get.
func (s *Reauth) auth(ctx context.Context, kc *keychain.Keychain, reg registry.Registry) *pushAuth {
	p, ok := kc.Provider(reg.ID)
	if !ok {
		return &pushAuth{skip: true}
	}
	cr, err := p.Credentials(ctx)
	if err != nil {
		return &pushAuth{err: err}
	}
	srv, err := reg.ServerInfo()
	if err != nil {
		return &pushAuth{err: err}
	}
	host := srv.Host
	if cr.Server != "" {
		host = cr.Server
	}
	enc, err := EncodeAuth(cr, ServerAddress(host))
	if err != nil {
		return &pushAuth{err: err}
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(enc))
	a := &pushAuth{enc: enc, refresh: registry.RefreshAt(p, cr)}
	copy(a.sum[:], mac.Sum(nil))
	return a
}

// nextDue is when the earliest provider of a pushed registry fetches anew; zero when none
// expires.
func (s *Reauth) nextDue() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	for _, t := range s.due {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next
}

// Run reconciles at once, on every Catalog change, when pushed credentials fall due, and
// every poll period (new services), until ctx is done (passloop). Failed passes are
// logged and retried at the next.
func (s *Reauth) Run(ctx context.Context) error {
	passloop.Run(ctx, s.clk, s.cat.Subscribe(ctx), func(ctx context.Context) time.Duration {
		if _, err := s.Reconcile(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("swarm: re-auth pass failed", "error", err)
		}
		return passloop.Until(s.clk, s.nextDue(), s.poll, time.Second)
	})
	return nil
}

// Usage reports the services whose registry auth Reauth pushed for r, as
// "swarm-service/NAME": uses that make Catalog.Delete refuse (catalog.WithUsage).
func (s *Reauth) Usage(_ context.Context, r registry.Registry) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, p := range s.pushed {
		if p.registryID == r.ID {
			out = append(out, "swarm-service/"+p.service)
		}
	}
	sort.Strings(out)
	return out, nil
}
