package regcredtest_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/regcredtest"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

// do sends one request to the registry with the header h and returns the status and the
// WWW-Authenticate challenge.
func do(t *testing.T, r *regcredtest.Registry, method, path string, h http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, r.URL+path, nil)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := r.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

func basic(user, pass string) http.Header {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, pass)
	return req.Header
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func TestRegistryBasicAuth(t *testing.T) {
	r := regcredtest.NewRegistry(t, regcredtest.WithBasicAuth("ci", "right"))
	manifest := "/v2/team/app/manifests/v1"
	for _, tc := range []struct {
		name   string
		h      http.Header
		status int
	}{
		{"no credentials", nil, http.StatusUnauthorized},
		{"wrong password", basic("ci", "wrong"), http.StatusUnauthorized},
		{"wrong user", basic("other", "right"), http.StatusUnauthorized},
		{"a bearer token", bearer("right"), http.StatusUnauthorized},
		{"right", basic("ci", "right"), http.StatusOK},
	} {
		status, challenge := do(t, r, "GET", manifest, tc.h)
		if status != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, status, tc.status)
		}
		if status == http.StatusUnauthorized && challenge != `Basic realm="regcredtest"` {
			t.Errorf("%s: challenge %q", tc.name, challenge)
		}
	}
	if got := r.Counts(); got != (regcredtest.Counts{Requests: 5, Unauthorized: 4, ManifestGets: 1}) {
		t.Errorf("counts %v", got)
	}
	r.SetCredentials("ci", "rotated")
	if status, _ := do(t, r, "GET", manifest, basic("ci", "right")); status != http.StatusUnauthorized {
		t.Errorf("the old password after a rotation: %d, want 401", status)
	}
	if status, _ := do(t, r, "GET", manifest, basic("ci", "rotated")); status != http.StatusOK {
		t.Errorf("the new password after a rotation: %d, want 200", status)
	}
	r.ResetCounts()
	if got := r.Counts(); got != (regcredtest.Counts{}) {
		t.Errorf("counts after reset %v", got)
	}
}

type tokenAnswer struct {
	Token        string `json:"token"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	IssuedAt     string `json:"issued_at"`
	RefreshToken string `json:"refresh_token"`
}

func getToken(t *testing.T, r *regcredtest.Registry, req *http.Request) (int, tokenAnswer) {
	t.Helper()
	resp, err := r.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a tokenAnswer
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, a
}

// The bearer flow of the distribution token specification, checked piece by piece: the
// challenge, the GET token request with basic auth, the POST password and refresh_token
// grants, the token's scope, signature and expiry.
func TestRegistryBearer(t *testing.T) {
	clk := regcredtest.NewClock(time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC))
	r := regcredtest.NewRegistry(t, regcredtest.WithBearerAuth("ci", "right"), regcredtest.WithClock(clk))
	manifest := "/v2/team/app/manifests/v1"

	status, challenge := do(t, r, "GET", manifest, nil)
	want := `Bearer realm="` + r.URL + `/token",service="regcredtest",scope="repository:team/app:pull"`
	if status != http.StatusUnauthorized || challenge != want {
		t.Fatalf("anonymous: %d %q, want 401 %q", status, challenge, want)
	}
	if _, challenge := do(t, r, "GET", "/v2/", nil); challenge != `Bearer realm="`+r.URL+`/token",service="regcredtest"` {
		t.Errorf("base endpoint challenge %q", challenge)
	}

	tokenURL := r.URL + "/token?service=regcredtest&scope=" + url.QueryEscape("repository:team/app:pull")
	req, _ := http.NewRequest("GET", tokenURL, nil)
	req.SetBasicAuth("ci", "wrong")
	if status, _ := getToken(t, r, req); status != http.StatusUnauthorized {
		t.Errorf("token with a wrong password: %d, want 401", status)
	}
	req, _ = http.NewRequest("GET", tokenURL, nil)
	req.SetBasicAuth("ci", "right")
	status, a := getToken(t, r, req)
	if status != http.StatusOK || a.Token == "" || a.Token != a.AccessToken || a.ExpiresIn != 300 || a.IssuedAt != "2026-03-06T09:00:00Z" {
		t.Fatalf("token: %d %+v", status, a)
	}
	if strings.Count(a.Token, ".") != 2 {
		t.Errorf("token %q is not a JWT", a.Token)
	}

	tampered := a.Token[:len(a.Token)-2] + "AA"
	if strings.HasSuffix(a.Token, "AA") {
		tampered = a.Token[:len(a.Token)-2] + "BB"
	}
	for _, tc := range []struct {
		name, method, path string
		h                  http.Header
		status             int
	}{
		{"pull in scope", "GET", manifest, bearer(a.Token), http.StatusOK},
		{"HEAD in scope", "HEAD", manifest, bearer(a.Token), http.StatusOK},
		{"base endpoint", "GET", "/v2/", bearer(a.Token), http.StatusOK},
		{"another repository", "GET", "/v2/team/other/manifests/v1", bearer(a.Token), http.StatusUnauthorized},
		{"push with a pull token", "PUT", manifest, bearer(a.Token), http.StatusUnauthorized},
		{"tampered signature", "GET", manifest, bearer(tampered), http.StatusUnauthorized},
		{"basic auth", "GET", manifest, basic("ci", "right"), http.StatusUnauthorized},
	} {
		if status, _ := do(t, r, tc.method, tc.path, tc.h); status != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, status, tc.status)
		}
	}

	clk.Advance(299 * time.Second)
	if status, _ := do(t, r, "GET", manifest, bearer(a.Token)); status != http.StatusOK {
		t.Errorf("a second before expiry: %d, want 200", status)
	}
	clk.Advance(time.Second)
	if status, _ := do(t, r, "GET", manifest, bearer(a.Token)); status != http.StatusUnauthorized {
		t.Errorf("at expiry: %d, want 401", status)
	}

	// OAuth2: the password grant with a refresh token, then the refresh_token grant.
	post := func(f url.Values) (int, tokenAnswer) {
		req, _ := http.NewRequest("POST", r.URL+"/token", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return getToken(t, r, req)
	}
	status, a = post(url.Values{"grant_type": {"password"}, "username": {"ci"}, "password": {"right"}, "service": {"regcredtest"},
		"scope": {"repository:team/app:pull,push"}, "access_type": {"offline"}, "client_id": {"test"}})
	if status != http.StatusOK || a.RefreshToken == "" {
		t.Fatalf("password grant: %d %+v", status, a)
	}
	if status, _ := do(t, r, "PUT", "/v2/team/app/manifests/v2", bearer(a.Token)); status == http.StatusUnauthorized {
		t.Errorf("push with a push token: 401")
	}
	if status, _ := do(t, r, "GET", manifest, bearer(a.RefreshToken)); status != http.StatusUnauthorized {
		t.Errorf("a refresh token used as a bearer token: %d, want 401", status)
	}
	if status, _ := post(url.Values{"grant_type": {"password"}, "username": {"ci"}, "password": {"wrong"}}); status != http.StatusUnauthorized {
		t.Errorf("password grant with a wrong password: %d, want 401", status)
	}
	status, b := post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.RefreshToken}, "service": {"regcredtest"},
		"scope": {"repository:team/app:pull"}})
	if status != http.StatusOK {
		t.Fatalf("refresh_token grant: %d", status)
	}
	if status, _ := do(t, r, "GET", manifest, bearer(b.Token)); status != http.StatusOK {
		t.Errorf("pull with a refreshed token: %d", status)
	}
	if status, _ := post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {b.Token}}); status != http.StatusUnauthorized {
		t.Errorf("an access token used as a refresh token: %d, want 401", status)
	}
	if got := r.Counts().TokenRequests; got != 6 {
		t.Errorf("token requests %d, want 6", got)
	}
}

// An independent client (skopeo, in its own process) pulls the kit's image over TLS with
// the record's CA, through the bearer flow: the wire format is the one real clients speak.
func TestRegistrySkopeo(t *testing.T) {
	skopeo := testenv.Skopeo(t)
	for _, auth := range []regcredtest.RegistryOption{
		regcredtest.WithBasicAuth("ci", "right-Pa55"),
		regcredtest.WithBearerAuth("ci", "right-Pa55"),
	} {
		r := regcredtest.NewRegistry(t, auth)
		t.Run(r.Auth.String(), func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "ca.crt"), r.CAPEM, 0o600)
			for _, creds := range []string{"ci:wrong", "ci:right-Pa55"} {
				authfile := filepath.Join(t.TempDir(), "auth.json")
				u, p, _ := strings.Cut(creds, ":")
				b, _ := json.Marshal(map[string]any{"auths": map[string]any{r.Host: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(u + ":" + p))}}})
				os.WriteFile(authfile, b, 0o600)
				out, err := exec.Command(skopeo, "inspect", "--authfile", authfile, "--cert-dir", dir, "--format", "{{.Digest}}",
					"docker://"+r.Image).CombinedOutput()
				if p == "wrong" {
					if err == nil {
						t.Errorf("skopeo with a wrong password succeeded: %s", out)
					}
					continue
				}
				if err != nil || strings.TrimSpace(string(out)) != r.Digest {
					t.Errorf("skopeo inspect: %v %s, want %s", err, out, r.Digest)
				}
			}
		})
	}
}

// The cloud endpoints refuse what the real ones refuse: an ECR record with another secret
// key gets no token (the signature does not verify), an ACR record with a wrong client
// secret neither.
func TestCloudsRefuse(t *testing.T) {
	ctx := context.Background()
	aws := regcredtest.NewECR(t)
	az := regcredtest.NewACR(t)
	f := providers.Factory(aws.ProviderOption(), az.ProviderOption())
	for _, r := range []registry.Registry{aws.Record("ecr"), az.Record("acr")} {
		p, err := f(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Credentials(ctx); err != nil {
			t.Errorf("%s with the right secret: %v", r.Name, err)
		}
		if strings.Contains(r.Fields["secretAccessKey"]+r.Fields["password"], "wrong") {
			t.Fatal("fixture")
		}
		bad := r.Clone()
		for _, k := range []string{"secretAccessKey", "password"} {
			if _, ok := bad.Fields[k]; ok {
				bad.Fields[k] = "wrong" + bad.Fields[k][5:]
			}
		}
		p, err = f(bad)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Credentials(ctx); err == nil {
			t.Errorf("%s with a wrong secret got credentials", r.Name)
		}
	}
	if aws.TokenRequests() != 1 || az.TokenRequests() != 1 || az.AADRequests() != 2 {
		t.Errorf("counts: ecr %d, acr exchanges %d, aad %d", aws.TokenRequests(), az.TokenRequests(), az.AADRequests())
	}
}

// The registry's certificate is its own: a record that trusts only the system roots cannot
// pull (the credentials never leave over an unverified connection), the record from Record
// (custom CA) can, and so can a client built on CertPool.
func TestRegistryTLS(t *testing.T) {
	ctx := context.Background()
	r := regcredtest.NewRegistry(t)
	for _, tc := range []struct {
		name string
		tls  registry.TLS
		ok   bool
	}{
		{"system roots", registry.TLS{}, false},
		{"the kit's CA", r.TLS(), true},
	} {
		rec := r.Record("team")
		rec.TLS = tc.tls
		cat := catalog.New(memory.New(), catalog.WithProviderFactory(providers.Factory()))
		if _, err := cat.Add(ctx, rec); err != nil {
			t.Fatal(err)
		}
		kc, err := cat.Keychain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		digest, err := regcredtest.Pull(ctx, kc, r.Image)
		if (err == nil) != tc.ok || (tc.ok && digest != r.Digest) {
			t.Errorf("%s: pull %q, %v; want ok=%v", tc.name, digest, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s: refused for another reason than the certificate: %v", tc.name, err)
		}
		if got := r.Counts().Requests; !tc.ok && got != 0 {
			t.Errorf("%s: %d requests reached the registry over an unverified connection", tc.name, got)
		}
		cat.Close()
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: r.CertPool}}
	resp, err := (&http.Client{Transport: tr}).Get(r.URL + "/v2/")
	if err != nil {
		t.Fatalf("a client on CertPool: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/v2/ without credentials: %d, want 401", resp.StatusCode)
	}
}

// No verb prints a secret of the kit's fakes.
func TestFormatRedacts(t *testing.T) {
	r := regcredtest.NewRegistry(t, regcredtest.WithBasicAuth("ci", "kit-secret-Pa55"))
	aws := regcredtest.NewECR(t)
	az := regcredtest.NewACR(t)
	g := regcredtest.NewGoogle(t)
	for _, v := range []any{r, aws, az, g} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range []string{"kit-secret-Pa55", aws.SecretAccessKey, az.ClientSecret, "PRIVATE KEY"} {
				if strings.Contains(out, secret) {
					t.Errorf("%s of %T prints a secret: %s", verb, v, out)
				}
			}
		}
	}
}
