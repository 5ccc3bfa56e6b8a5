package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

var healthIDs atomic.Int64

// healthIDsOption gives records IDs no other test uses (the connection test's transports
// are cached per ID and version).
func healthIDsOption() catalog.Option {
	return catalog.WithIDs(func() string { return fmt.Sprintf("health-%d", healthIDs.Add(1)) })
}

func healthStores() map[string]registry.Store {
	return map[string]registry.Store{
		"health store": memory.New(),
		"in memory":    plainStore{memory.New()}, // no HealthStore: the Catalog keeps it
	}
}

// The Catalog records the last connection test beside the record: verdict, step, time,
// version; the record's version does not move and no change is reported.
func TestCatalogRecordsTestHealth(t *testing.T) {
	for name, s := range healthStores() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			url := basicRegistry(t, "ci", "right")
			cat := catalog.New(s, catalog.WithClock(clk), healthIDsOption())
			t.Cleanup(func() { cat.Close() })
			saved, err := cat.Add(ctx, draftRecord(url, "wrong"))
			if err != nil {
				t.Fatal(err)
			}
			events := cat.Subscribe(ctx)
			if h, _ := cat.Health(ctx, saved.ID); h.Test != nil {
				t.Fatalf("health before any test: %+v", h.Test)
			}
			clk.Advance(time.Minute)
			if _, err := cat.Test(ctx, saved.ID); err != nil {
				t.Fatal(err)
			}
			h, err := cat.Health(ctx, saved.ID)
			if err != nil {
				t.Fatal(err)
			}
			if h.Test == nil || h.Test.Verdict != registry.VerdictFailed || h.Test.Step != registry.StepAuth ||
				!h.Test.At.Equal(clk.Now()) || h.Test.Version != 1 || !strings.Contains(h.Test.Cause, "refused the credentials") {
				t.Fatalf("recorded test: %+v", h.Test)
			}
			if cur, _ := cat.Get(ctx, saved.ID); cur.Version != 1 {
				t.Fatalf("recording health bumped the version to %d", cur.Version)
			}
			// Fixed: the next test replaces the verdict.
			form := saved
			form.Fields["password"] = "right"
			if _, err := cat.Update(ctx, form); err != nil {
				t.Fatal(err)
			}
			if _, err := cat.Test(ctx, saved.ID); err != nil {
				t.Fatal(err)
			}
			h, _ = cat.Health(ctx, saved.ID)
			if h.Test.Verdict != registry.VerdictWarning || h.Test.Step != registry.StepTLS || h.Test.Version != 2 {
				t.Fatalf("after the fix: %+v", h.Test) // plain HTTP warns
			}
			// Only the rotation was reported, not the health writes.
			select {
			case e := <-events:
				if e.Op != catalog.EventRotate {
					t.Fatalf("event %v, want the rotation", e.Op)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no event for the rotation")
			}
			select {
			case e := <-events:
				t.Fatalf("a health write was reported as a change: %+v", e.Op)
			case <-time.After(100 * time.Millisecond):
			}
		})
	}
}

// expiringProvider hands out tokens with an expiry, or fails, as the test says.
type expiringProvider struct {
	mu  sync.Mutex
	exp time.Time
	err error
}

func (p *expiringProvider) Credentials(context.Context) (registry.Credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return registry.Credentials{}, p.err
	}
	return registry.Credentials{Username: "AWS", Password: "token", ExpiresAt: p.exp}, nil
}

func (p *expiringProvider) set(exp time.Time, err error) {
	p.mu.Lock()
	p.exp, p.err = exp, err
	p.mu.Unlock()
}

// The Catalog's providers record the token state: expiry and last refresh, the last
// failure, and its recovery.
func TestCatalogRecordsTokenHealth(t *testing.T) {
	for name, s := range healthStores() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			ep := &expiringProvider{}
			cat := catalog.New(s, catalog.WithClock(clk), healthIDsOption(),
				catalog.WithProviderFactory(func(registry.Registry) (registry.Provider, error) { return ep, nil }))
			t.Cleanup(func() { cat.Close() })
			saved, err := cat.Add(ctx, catHarbor("h", "h.example.com", "pw"))
			if err != nil {
				t.Fatal(err)
			}
			p, err := cat.Provider(ctx, saved.ID)
			if err != nil {
				t.Fatal(err)
			}
			t0 := clk.Now()
			exp1 := t0.Add(12 * time.Hour)
			ep.set(exp1, nil)
			p.Credentials(ctx)
			p.Credentials(ctx) // the same token: nothing new
			clk.Advance(time.Hour)
			ep.set(time.Time{}, fmt.Errorf("token endpoint: %w", registry.ErrUnavailable))
			p.Credentials(ctx)
			h, _ := cat.Health(ctx, saved.ID)
			want := &registry.TokenHealth{ExpiresAt: exp1, Refreshed: t0, Error: "token endpoint: unavailable", ErrorAt: t0.Add(time.Hour)}
			if diff := cmp.Diff(want, h.Token); diff != "" {
				t.Fatalf("token health after a failure (-want +got):\n%s", diff)
			}
			clk.Advance(time.Hour)
			exp2 := clk.Now().Add(12 * time.Hour)
			ep.set(exp2, nil)
			p.Credentials(ctx)
			h, _ = cat.Health(ctx, saved.ID)
			want = &registry.TokenHealth{ExpiresAt: exp2, Refreshed: clk.Now()}
			if diff := cmp.Diff(want, h.Token); diff != "" {
				t.Fatalf("token health after the recovery (-want +got):\n%s", diff)
			}
			if inv, ok := p.(registry.Expirer); !ok || !inv.ExpiresAt().IsZero() {
				t.Fatal("the shared provider hides or invents an expiry")
			}
		})
	}
}

// Consumers and the static credential's expiry show in Health; Expiring lists what to
// remind about.
func TestCatalogConsumersAndExpiry(t *testing.T) {
	for name, s := range healthStores() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			cat := catalog.New(s, catalog.WithClock(clk), healthIDsOption())
			pat := catHarbor("pat", "pat.example.com", "pw")
			pat.CredentialsExpire = clk.Now().Add(10 * 24 * time.Hour)
			later := catHarbor("later", "later.example.com", "pw")
			later.CredentialsExpire = clk.Now().Add(90 * 24 * time.Hour)
			a, err := cat.Add(ctx, pat)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := cat.Add(ctx, later)
			cat.Add(ctx, catHarbor("never", "never.example.com", "pw"))
			if err := cat.SetConsumers(ctx, a.ID, registry.ConsumerNamespace, []string{"team-b", "team-a", "team-a"}); err != nil {
				t.Fatal(err)
			}
			if err := cat.SetConsumers(ctx, a.ID, registry.ConsumerSwarmService, []string{"web"}); err != nil {
				t.Fatal(err)
			}
			if err := cat.SetConsumers(ctx, a.ID, registry.ConsumerNamespace, []string{"team-c"}); err != nil { // replaces the namespaces
				t.Fatal(err)
			}
			h, err := cat.Health(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			now := clk.Now()
			want := []registry.Consumer{{Kind: registry.ConsumerNamespace, Name: "team-c", Seen: now}, {Kind: registry.ConsumerSwarmService, Name: "web", Seen: now}}
			if diff := cmp.Diff(want, h.Consumers); diff != "" {
				t.Fatalf("consumers (-want +got):\n%s", diff)
			}
			if !h.CredentialsExpire.Equal(pat.CredentialsExpire) {
				t.Fatalf("credentials expire %v, want %v", h.CredentialsExpire, pat.CredentialsExpire)
			}
			all, err := cat.ListHealth(ctx)
			if err != nil || len(all) != 3 || len(all[a.ID].Consumers) != 2 || !all[b.ID].CredentialsExpire.Equal(later.CredentialsExpire) {
				t.Fatalf("ListHealth = %+v, %v", all, err)
			}
			soon, err := cat.Expiring(ctx, 30*24*time.Hour)
			if err != nil || len(soon) != 1 || soon[0].ID != a.ID || !soon[0].IsRedacted() {
				t.Fatalf("Expiring(30 days) = %v, %v; want only the PAT, redacted", soon, err)
			}
			clk.Advance(100 * 24 * time.Hour)
			if soon, _ := cat.Expiring(ctx, 0); len(soon) != 2 || soon[0].ID != a.ID {
				t.Fatalf("Expiring(0) after both ended = %v", soon)
			}
			if err := cat.SetConsumers(ctx, "missing", registry.ConsumerNamespace, nil); !errors.Is(err, registry.ErrNotFound) {
				t.Fatalf("SetConsumers of a missing record = %v", err)
			}
		})
	}
}

// A test that reached nothing with the credentials (an ECR record on its wildcard host: no
// image given) is recorded as not tested (VerdictSkipped, the fix in the cause), never as
// a pass the registries page would show green.
func TestCatalogRecordsNotTested(t *testing.T) {
	ctx := context.Background()
	cat := catalog.New(memory.New())
	t.Cleanup(func() { cat.Close() })
	saved, err := cat.Add(ctx, registry.Registry{Name: "ecr", Kind: registry.KindECR,
		Fields: map[string]string{"region": "eu-west-1", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := cat.Test(ctx, saved.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tested() {
		t.Fatalf("the wildcard ECR record was tested:\n%s", rep)
	}
	h, err := cat.Health(ctx, saved.ID)
	if err != nil {
		t.Fatal(err)
	}
	if h.Test == nil || h.Test.Verdict != registry.VerdictSkipped || !strings.Contains(h.Test.Cause, "enter an image") {
		t.Fatalf("recorded %+v; want not tested (skipped) with what the user can do", h.Test)
	}
}
