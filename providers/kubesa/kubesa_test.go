package kubesa

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/providers/internal/golden"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/regcred/regcred/providers/cache"
	"github.com/regcred/regcred/providers/kubesa/kubesatest"
	"github.com/regcred/regcred/registry"
)

const ns, sa = "payload", "my-pull-sa"

func TestBasicToken(t *testing.T) {
	now := time.Date(2026, 3, 5, 2, 14, 19, 0, time.UTC)
	kc := kubesatest.NewClientset(kubesatest.ServiceAccount(ns, sa))
	kc.Now = func() time.Time { return now }
	var asked int64
	kc.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		asked = *a.(k8stesting.CreateAction).GetObject().(*authv1.TokenRequest).Spec.ExpirationSeconds
		return false, nil, nil
	})
	p, err := New(kc, ns, sa, WithAudiences("payload-registry.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Username != DefaultUsername || c.RegistryToken != "" || !strings.Contains(c.Password.Reveal(), ".") {
		t.Fatalf("credentials = %#v", c)
	}
	if !c.ExpiresAt.Equal(now.Add(24 * time.Hour)) {
		t.Fatalf("ExpiresAt = %v, want %v (seed 004: 24 hours)", c.ExpiresAt, now.Add(24*time.Hour))
	}
	if asked != 86400 {
		t.Fatalf("asked for %d s", asked)
	}
	claims, err := kubesatest.Claims(c.Password.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"aud": []any{"payload-registry.example.com"}, "sub": "system:serviceaccount:payload:my-pull-sa"}
	got := map[string]any{"aud": claims["aud"], "sub": claims["sub"]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("claims (-want +got):\n%s", diff)
	}
}

func TestBearerForm(t *testing.T) {
	kc := kubesatest.NewClientset(kubesatest.ServiceAccount(ns, sa))
	p, _ := New(kc, ns, sa, WithForm(Bearer), WithLifetime(time.Hour))
	c, err := p.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Username != "" || c.Password != "" || c.RegistryToken == "" {
		t.Fatalf("credentials = %#v", c)
	}
}

// The API server may shorten the lifetime; the returned expiry wins.
func TestServerShortensLifetime(t *testing.T) {
	kc := kubesatest.NewClientset(kubesatest.ServiceAccount(ns, sa))
	kc.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		req := a.(k8stesting.CreateAction).GetObject().(*authv1.TokenRequest).DeepCopy()
		req.Status = authv1.TokenRequestStatus{Token: "KUBESATOKEN-short", ExpirationTimestamp: metav1.NewTime(time.Now().Add(time.Hour))}
		return true, req, nil
	})
	p, _ := New(kc, ns, sa)
	c, err := p.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(c.ExpiresAt); d > time.Hour+time.Second || d < 59*time.Minute {
		t.Fatalf("expires in %v, want the server's 1h", d)
	}
}

func TestDeletedServiceAccount(t *testing.T) {
	kc := kubesatest.NewClientset(kubesatest.ServiceAccount(ns, sa))
	p, _ := New(kc, ns, sa, WithName("payload-registry"))
	if _, err := p.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := kc.CoreV1().ServiceAccounts(ns).Delete(context.Background(), sa, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := p.Credentials(context.Background())
	if !errors.Is(err, registry.ErrNotFound) || !strings.Contains(err.Error(), "payload/my-pull-sa") || !strings.Contains(err.Error(), "kubectl create serviceaccount") {
		t.Fatalf("err = %v, want ErrNotFound naming payload/my-pull-sa and what to do", err)
	}
	var re *registry.Error
	if !errors.As(err, &re) || re.Op != "refresh" || re.Registry != "payload-registry" {
		t.Fatalf("err = %#v", err)
	}
}

func TestBadInput(t *testing.T) {
	kc := kubesatest.NewClientset()
	tests := []struct {
		name, ns, sa string
		client       kubernetes.Interface
		opts         []Option
		field        string
	}{
		{"no namespace", "", sa, kc, nil, "serviceAccount"},
		{"bad name", ns, "My_SA", kc, nil, "serviceAccount"},
		{"too short", ns, sa, kc, []Option{WithLifetime(time.Minute)}, "expirationSeconds"},
		{"no client", ns, sa, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.client, tt.ns, tt.sa, tt.opts...)
			if !errors.Is(err, registry.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			var fe *registry.FieldError
			if tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field) {
				t.Fatalf("err = %v, want FieldError %s", err, tt.field)
			}
		})
	}
	if _, _, err := ParseRef("payload"); err == nil {
		t.Fatal("ParseRef accepted a ref without a name")
	}
}

func TestAPIErrors(t *testing.T) {
	gr := schema.GroupResource{Resource: "serviceaccounts"}
	tests := []struct {
		name    string
		err     error
		want    error
		mention string
	}{
		{"forbidden", apierrors.NewForbidden(gr, sa, errors.New("rbac")), registry.ErrForbidden, "serviceaccounts/token"},
		{"unauthorized", apierrors.NewUnauthorized("bad token"), registry.ErrUnauthorized, "kubeconfig"},
		{"internal", apierrors.NewInternalError(errors.New("etcd")), registry.ErrUnavailable, "InternalError"},
		{"too many requests", apierrors.NewTooManyRequests("slow down", 1), registry.ErrUnavailable, "TooManyRequests"},
		{"server timeout", apierrors.NewServerTimeout(gr, "create", 1), registry.ErrUnavailable, "retried"},
		{"invalid audience", apierrors.NewBadRequest("audience not allowed"), registry.ErrInvalid, "audience"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kc := kubesatest.NewClientset(kubesatest.ServiceAccount(ns, sa))
			kc.PrependReactor("create", "serviceaccounts", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, tt.err })
			p, _ := New(kc, ns, sa)
			c, err := p.Credentials(context.Background())
			if !errors.Is(err, tt.want) || !c.Anonymous() {
				t.Fatalf("got %v, %v; want %v", c, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.mention) || !strings.Contains(err.Error(), ns+"/"+sa) {
				t.Fatalf("err = %q, want it to mention %q and the ServiceAccount", err, tt.mention)
			}
		})
	}
}

// fakeAPIServer answers the TokenRequest endpoint over HTTP, so the real client-go REST
// stack (JSON decoding, status errors, ctx) is exercised.
func fakeAPIServer(t *testing.T, handler http.HandlerFunc) kubernetes.Interface {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/namespaces/"+ns+"/serviceaccounts/"+sa+"/token" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusTeapot)
			return
		}
		if handler == nil { // hang until the client gives up
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	kc, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

func status(code int, reason metav1.StatusReason, msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status: metav1.StatusFailure, Message: msg, Reason: reason, Code: int32(code),
			Details: &metav1.StatusDetails{Name: sa, Kind: "serviceaccounts"}})
	}
}

func TestOverHTTP(t *testing.T) {
	exp := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		timeout time.Duration
		want    error
		mention string
	}{
		{"ok", func(w http.ResponseWriter, r *http.Request) {
			var req authv1.TokenRequest
			body, _ := io.ReadAll(r.Body)
			json.Unmarshal(body, &req)
			req.TypeMeta = metav1.TypeMeta{Kind: "TokenRequest", APIVersion: "authentication.k8s.io/v1"}
			req.Status = authv1.TokenRequestStatus{Token: "KUBESATOKEN-http", ExpirationTimestamp: metav1.NewTime(exp)}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			json.NewEncoder(w).Encode(req)
		}, 0, nil, ""},
		{"not found", status(404, metav1.StatusReasonNotFound, `serviceaccounts "my-pull-sa" not found`), 0, registry.ErrNotFound, "payload/my-pull-sa"},
		{"500", status(500, metav1.StatusReasonInternalError, "etcdserver: leader changed"), 0, registry.ErrUnavailable, "unavailable"},
		{"503 plain text", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "upstream down", 503) }, 0, registry.ErrUnavailable, "unavailable"},
		{"malformed json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"kind":"TokenRequest","status":{"token":`)
		}, 0, registry.ErrUnavailable, "answer"},
		{"no token", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","status":{}}`)
		}, 0, registry.ErrUnavailable, "no token"},
		{"hang", nil, 50 * time.Millisecond, context.DeadlineExceeded, "in time"},
	}
	var messages []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := New(fakeAPIServer(t, tt.handler), ns, sa)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			c, err := p.Credentials(ctx)
			if err != nil {
				messages = append(messages, tt.name+": "+err.Error())
			}
			if tt.want == nil {
				if err != nil || c.Password != "KUBESATOKEN-http" || !c.ExpiresAt.Equal(exp) {
					t.Fatalf("got %v, %v", c, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tt.want, tt.mention)
			}
			if strings.Contains(err.Error(), kubesatest.TokenMarker) {
				t.Fatalf("error leaks a token: %v", err)
			}
		})
	}
	golden.Check(t, "overhttp.golden", messages)
}

// Through the cache: a token that is already expired on arrival is refused; the last good
// one is served while valid; a deleted ServiceAccount surfaces once the token expires.
func TestCached(t *testing.T) {
	now := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	kc := kubesatest.NewClientset(kubesatest.ServiceAccount(ns, sa))
	kc.Now = clk.Now
	p, _ := New(kc, ns, sa)
	c := cache.New(p, cache.WithClock(clk))
	good, err := c.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kc.Now = func() time.Time { return clk.Now().Add(-48 * time.Hour) } // the API server's clock is 2 days behind
	clk.Advance(20 * time.Hour)
	got, err := c.Credentials(context.Background())
	if err != nil || got.Password != good.Password {
		t.Fatalf("got %v, %v; want the last good token", got, err)
	}
	kc.CoreV1().ServiceAccounts(ns).Delete(context.Background(), sa, metav1.DeleteOptions{})
	clk.Advance(5 * time.Hour)
	_, err = c.Credentials(context.Background())
	if !errors.Is(err, registry.ErrExpired) || !errors.Is(err, registry.ErrNotFound) || strings.Contains(err.Error(), kubesatest.TokenMarker) {
		t.Fatalf("err = %v, want ErrExpired caused by ErrNotFound", err)
	}
	if kc.Issued() != 2 {
		t.Fatalf("issued = %d, want 2", kc.Issued())
	}
}
