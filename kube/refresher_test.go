package kube_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/internal/fakecloud"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/providers/cache"
	"github.com/regcred/regcred/registry"
)

// tokenSource is a token endpoint of one-hour tokens that can be made to fail: every call
// fetches (the refreshing cache in front of it decides when to call).
type tokenSource struct {
	clock   clock.Clock
	mu      sync.Mutex
	n       int
	fail    bool
	fetches int
}

func (p *tokenSource) Credentials(ctx context.Context) (registry.Credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fetches++
	if p.fail {
		return registry.Credentials{}, &registry.Error{Op: "refresh", Registry: "tok", Err: registry.ErrUnavailable}
	}
	p.n++
	return registry.Credentials{Username: "token", Password: registry.Secret("t" + string(rune('0'+p.n))), ExpiresAt: p.clock.Now().Add(time.Hour)}, nil
}

func TestRefresher(t *testing.T) {
	ctx := context.Background()
	clock := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	src := &tokenSource{clock: clock}
	// The one refresh rule is the cache's (0.8 of the lifetime): the Refresher wakes when
	// it says. A back-off of a millisecond lets each failing pass call the endpoint.
	cached := cache.New(src, cache.WithClock(clock), cache.WithBackoff(time.Millisecond, time.Millisecond))
	client := fake.NewSimpleClientset()
	reg := registry.Registry{ID: "tok", Name: "tok", Kind: registry.KindKubernetes, Server: "payload.example.com"}
	s := kube.NewSyncer(client, kube.WithClock(clock),
		kube.WithProviderFactory(func(registry.Registry) (registry.Provider, error) { return cached, nil }))
	r := kube.NewRefresher(s, func(context.Context) ([]registry.Registry, []string, error) {
		return []registry.Registry{reg}, []string{"ns"}, nil
	}, kube.WithRefresherClock(clock), kube.WithJitter(func() float64 { return 0.5 }), kube.WithBackoff(time.Second, time.Minute), kube.WithResync(24*time.Hour))

	secret := func() *corev1.Secret {
		s, err := client.CoreV1().Secrets("ns").Get(ctx, "registry-secret-tok", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	res, wait, err := r.Step(ctx)
	if err != nil || res.Count(kube.Created) != 1 {
		t.Fatalf("first pass: %v\n%s", err, res)
	}
	if wait != 48*time.Minute { // when the cache refreshes: 0.8 of the one-hour lifetime (jitter 0.5 = none)
		t.Fatalf("wait %v, want 48m", wait)
	}
	first := secret()

	// Woken early (say by a restart of the loop): the token is not due, nothing is written.
	clock.Advance(10 * time.Minute)
	res, wait, err = r.Step(ctx)
	if err != nil || res.Writes != 0 || wait != 38*time.Minute || src.fetches != 1 {
		t.Fatalf("early pass: writes %d wait %v fetches %d err %v", res.Writes, wait, src.fetches, err)
	}

	// Due: the pass's Credentials call fetches (nobody invalidates), a new token is written.
	clock.Advance(38 * time.Minute)
	res, wait, err = r.Step(ctx)
	if err != nil || res.Count(kube.Updated) != 1 || src.fetches != 2 {
		t.Fatalf("due pass (fetches %d): %v\n%s", src.fetches, err, res)
	}
	if wait != 48*time.Minute {
		t.Fatalf("wait after refresh %v, want 48m", wait)
	}
	second := secret()
	if bytes.Equal(second.Data[corev1.DockerConfigJsonKey], first.Data[corev1.DockerConfigJsonKey]) {
		t.Fatal("the due refresh did not write a new token")
	}

	// The token endpoint fails: while the token is valid the cache serves it (the Secret
	// keeps it, nothing is written); once it has expired every pass fails, the back-off
	// doubles, and the working secret stays as it is.
	src.mu.Lock()
	src.fail = true
	src.mu.Unlock()
	clock.Advance(48 * time.Minute)
	if res, _, err := r.Step(ctx); err != nil || res.Writes != 0 || src.fetches != 3 {
		t.Fatalf("due pass with a failing endpoint: writes %d fetches %d err %v (want the valid token kept)", res.Writes, src.fetches, err)
	}
	clock.Advance(12 * time.Minute) // the second token has expired
	var waits []time.Duration
	for i := 0; i < 4; i++ {
		res, wait, err = r.Step(ctx)
		if !errors.Is(err, registry.ErrUnavailable) {
			t.Fatalf("failing pass %d: err %v", i, err)
		}
		waits = append(waits, wait)
		clock.Advance(wait)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("back-off %v, want %v", waits, want)
		}
	}
	if after := secret(); after.ResourceVersion != second.ResourceVersion || string(after.Data[corev1.DockerConfigJsonKey]) != string(second.Data[corev1.DockerConfigJsonKey]) {
		t.Fatal("a failed refresh changed the working secret")
	}

	// Recovery resets the back-off.
	src.mu.Lock()
	src.fail = false
	src.mu.Unlock()
	res, wait, err = r.Step(ctx)
	if err != nil || res.Count(kube.Updated) != 1 || wait != 48*time.Minute {
		t.Fatalf("recovery: err %v wait %v\n%s", err, wait, res)
	}
}

func TestRefresherJitterAndResync(t *testing.T) {
	client := fake.NewSimpleClientset()
	s := kube.NewSyncer(client)
	for _, tc := range []struct {
		jitter float64
		want   time.Duration
	}{{0, 9 * time.Minute}, {0.5, 10 * time.Minute}, {0.999999, 11 * time.Minute}} {
		r := kube.NewRefresher(s, func(context.Context) ([]registry.Registry, []string, error) {
			return []registry.Registry{ghcr("static", "x")}, []string{"ns"}, nil
		}, kube.WithJitter(func() float64 { return tc.jitter }), kube.WithResync(10*time.Minute))
		_, wait, err := r.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if d := wait - tc.want; d < -time.Second || d > time.Second {
			t.Errorf("jitter %v: wait %v, want about %v", tc.jitter, wait, tc.want)
		}
	}
}

// Run waits on the Refresher's clock between passes: nothing runs until the clock reaches
// the wait Step returned, and Run returns ctx's error once ctx is done.
func TestRefresherRunWaitsOnItsClock(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	passes := make(chan time.Time, 10)
	r := kube.NewRefresher(kube.NewSyncer(fake.NewSimpleClientset()), func(context.Context) ([]registry.Registry, []string, error) {
		passes <- clk.Now()
		return nil, []string{"ns"}, nil
	}, kube.WithRefresherClock(clk), kube.WithJitter(func() float64 { return 0.5 }), kube.WithResync(10*time.Minute))
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	start := <-passes
	for i := 1; i <= 3; i++ {
		if err := clk.BlockUntil(wctx, 1); err != nil {
			t.Fatalf("pass %d: Run is not waiting on its clock: %v", i, err)
		}
		clk.Advance(10*time.Minute - time.Second)
		select {
		case at := <-passes:
			t.Fatalf("pass %d ran at +%v, before the resync of 10m", i, at.Sub(start))
		case <-time.After(20 * time.Millisecond):
		}
		clk.Advance(time.Second)
		if at := <-passes; at.Sub(start) != time.Duration(i)*10*time.Minute {
			t.Fatalf("pass %d ran at +%v, want +%v", i, at.Sub(start), time.Duration(i)*10*time.Minute)
		}
	}
	if err := clk.BlockUntil(wctx, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	if clk.Waiters() != 0 {
		t.Fatalf("Run left %d timers armed", clk.Waiters())
	}
}

// An ECR record saved the way the seeds' form saves it (keys and region, no URL: the
// wildcard server *.dkr.ecr.REGION.amazonaws.com) gets a pull Secret for the concrete host
// of its token's proxy endpoint without extra options, and the Refresher renews it before
// the 12-hour token expires.
func TestRefresherECRRecordWithoutURL(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC))
	aws := fakecloud.NewAWS(t)
	aws.AddKey("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")
	aws.Now = clk.Now
	reg := registry.Registry{ID: "ecr", Name: "prod-ecr", Kind: registry.KindECR, Fields: map[string]string{
		"region": "eu-west-3", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}
	client := fake.NewSimpleClientset()
	s := kube.NewSyncer(client, kube.WithClock(clk),
		kube.WithProviderFactory(providers.Shared(providers.Factory(providers.WithHTTPClient(aws.Client()), providers.WithClock(clk)))))
	r := kube.NewRefresher(s, func(context.Context) ([]registry.Registry, []string, error) {
		return []registry.Registry{reg}, []string{"ns"}, nil
	}, kube.WithRefresherClock(clk), kube.WithJitter(func() float64 { return 0.5 }), kube.WithResync(24*time.Hour))
	host := fakecloud.AWSAccount + ".dkr.ecr.eu-west-3.amazonaws.com"
	password := func() string {
		t.Helper()
		sec, err := client.CoreV1().Secrets("ns").Get(ctx, "registry-secret-ecr", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := dockerconfig.Parse(sec.Data[corev1.DockerConfigJsonKey])
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Auths) != 1 {
			t.Fatalf("auths %v, want one entry for %s", cfg.Auths, host)
		}
		c, err := cfg.Get(ctx, host)
		if err != nil {
			t.Fatalf("no entry for the token's host %s: %v", host, err)
		}
		return c.Password.Reveal()
	}
	res, wait, err := r.Step(ctx)
	if err != nil || res.Count(kube.Created) != 1 {
		t.Fatalf("first pass: %v\n%s", err, res)
	}
	if got := password(); got != fakecloud.Password(1) {
		t.Fatalf("password %q, want the first token", got)
	}
	if wait < 8*time.Hour || wait > 10*time.Hour {
		t.Fatalf("next pass in %v, want about 9h36m (when the cache refreshes: 0.8 of a 12-hour token)", wait)
	}
	clk.Advance(wait)
	if res, _, err := r.Step(ctx); err != nil || res.Count(kube.Updated) != 1 {
		t.Fatalf("due pass: %v\n%s", err, res)
	}
	if got := password(); got != fakecloud.Password(2) {
		t.Fatalf("password %q after the refresh, want the second token", got)
	}
}
