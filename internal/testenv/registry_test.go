package testenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func get(t *testing.T, client *http.Client, u, user, pass string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestRegistryPlain(t *testing.T) {
	s := StartRegistry(t)
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.CAPEM != nil {
		t.Fatalf("URL %q CAPEM %v: want plain http on loopback without CA", s.URL, s.CAPEM != nil)
	}
	resp := get(t, http.DefaultClient, s.URL+"/v2/", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ = %d, want 200", resp.StatusCode)
	}
	ref := s.Push(t, "plain/app")
	if want := s.Host + "/plain/app:latest"; ref != want {
		t.Fatalf("Push = %q, want %q", ref, want)
	}
	resp = get(t, http.DefaultClient, s.URL+"/v2/plain/app/manifests/latest", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET pushed manifest = %d, want 200", resp.StatusCode)
	}
}

func TestRegistryBasicAuth(t *testing.T) {
	s := StartRegistry(t, WithBasicAuth("alice", "s3cret"))
	if s.Username != "alice" || s.Password != "s3cret" {
		t.Fatalf("credentials %q/%q", s.Username, s.Password)
	}
	tests := []struct {
		name, user, pass string
		want             int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", "alice", "nope", http.StatusUnauthorized},
		{"good", "alice", "s3cret", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := get(t, http.DefaultClient, s.URL+"/v2/", tc.user, tc.pass)
			if resp.StatusCode != tc.want {
				t.Fatalf("GET /v2/ = %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Fatalf("challenge %q, want Basic", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	ref := s.Push(t, "team/app:v1")
	if ref != s.Host+"/team/app:v1" {
		t.Fatalf("Push = %q", ref)
	}
	// An independent pull through go-containerregistry with the user's credentials.
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(r, remote.WithAuth(authn.FromConfig(authn.AuthConfig{Username: "alice", Password: "s3cret"}))); err != nil {
		t.Fatalf("HEAD %s with credentials: %v", ref, err)
	}
	if _, err := remote.Head(r); err == nil {
		t.Fatalf("HEAD %s anonymously succeeded; want 401", ref)
	}
}

func TestRegistryTLS(t *testing.T) {
	s := StartRegistry(t, WithTLS(), WithBasicAuth("alice", "s3cret"))
	if !strings.HasPrefix(s.URL, "https://") || len(s.CAPEM) == 0 {
		t.Fatalf("URL %q, CAPEM %d bytes", s.URL, len(s.CAPEM))
	}
	// The system roots refuse the test CA.
	if _, err := http.Get(s.URL + "/v2/"); err == nil || !isUnknownAuthority(err) {
		t.Fatalf("GET with system roots: %v, want unknown authority", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CAPEM) {
		t.Fatal("CAPEM holds no certificate")
	}
	for _, host := range []string{s.Host, "localhost:" + portOf(s.Host)} {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		resp := get(t, client, "https://"+host+"/v2/", "alice", "s3cret")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET https://%s/v2/ = %d", host, resp.StatusCode)
		}
	}
	s.Push(t, "tls/app")
}

func TestRegistryBadCerts(t *testing.T) {
	tests := []struct {
		name  string
		opt   RegistryOption
		check func(error) bool
	}{
		{"expired", WithExpiredCert(), func(err error) bool {
			var e x509.CertificateInvalidError
			return errors.As(err, &e) && e.Reason == x509.Expired
		}},
		{"wrong name", WithWrongNameCert(), func(err error) bool {
			var e x509.HostnameError
			return errors.As(err, &e)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := StartRegistry(t, tc.opt)
			_, err := tls.Dial("tcp", s.Host, &tls.Config{RootCAs: s.CA.Pool()})
			if err == nil || !tc.check(err) {
				t.Fatalf("handshake error %v (%T)", err, err)
			}
			s.Push(t, "bad/cert") // the harness can still fill it
		})
	}
}

func TestRegistryTokenAuth(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[useTLS], func(t *testing.T) {
			opts := []RegistryOption{
				WithTokenAuth("bob", "pw", Grant{Repo: "public/*", Actions: []string{"pull"}}),
				WithTokenAuth("carol", "pw2"),
			}
			if useTLS {
				opts = append(opts, WithTLS())
			}
			s := StartRegistry(t, opts...)
			if s.Username != "bob" || s.TokenRealm == "" {
				t.Fatalf("Username %q realm %q", s.Username, s.TokenRealm)
			}
			client := &http.Client{Transport: s.Transport()}
			resp := get(t, client, s.URL+"/v2/", "", "")
			ch := resp.Header.Get("WWW-Authenticate")
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(ch, `realm="`+s.TokenRealm+`"`) || !strings.Contains(ch, `service="`+s.TokenService+`"`) {
				t.Fatalf("GET /v2/ = %d %q", resp.StatusCode, ch)
			}
			pub := s.Push(t, "public/app")
			priv := s.Push(t, "private/app")

			token := func(user, pass, scope string) (string, int) {
				u := s.TokenRealm + "?service=" + url.QueryEscape(s.TokenService) + "&scope=" + url.QueryEscape(scope)
				req, _ := http.NewRequest(http.MethodGet, u, nil)
				req.SetBasicAuth(user, pass)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var body struct{ Token string }
				json.NewDecoder(resp.Body).Decode(&body)
				return body.Token, resp.StatusCode
			}
			if _, code := token("bob", "wrong", "repository:public/app:pull"); code != http.StatusUnauthorized {
				t.Fatalf("token with a wrong password: %d, want 401", code)
			}
			manifest := func(tok, repo string) int {
				req, _ := http.NewRequest(http.MethodHead, s.URL+"/v2/"+repo+"/manifests/latest", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json")
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			tok, code := token("bob", "pw", "repository:public/app:pull")
			if code != http.StatusOK || tok == "" {
				t.Fatalf("token: %d %q", code, tok)
			}
			if got := manifest(tok, "public/app"); got != http.StatusOK {
				t.Fatalf("bob HEAD public/app = %d, want 200", got)
			}
			tok, _ = token("bob", "pw", "repository:private/app:pull")
			if got := manifest(tok, "private/app"); got != http.StatusUnauthorized {
				t.Fatalf("bob HEAD private/app = %d, want 401 insufficient_scope", got)
			}
			tok, _ = token("carol", "pw2", "repository:private/app:pull")
			if got := manifest(tok, "private/app"); got != http.StatusOK {
				t.Fatalf("carol HEAD private/app = %d, want 200", got)
			}
			// go-containerregistry's bearer flow end to end.
			r, _ := name.ParseReference(pub, map[bool][]name.Option{false: {name.Insecure}, true: nil}[useTLS]...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			bob := authn.FromConfig(authn.AuthConfig{Username: "bob", Password: "pw"})
			if _, err := remote.Head(r, remote.WithAuth(bob), remote.WithTransport(s.Transport()), remote.WithContext(ctx)); err != nil {
				t.Fatalf("ggcr HEAD %s as bob: %v", pub, err)
			}
			r, _ = name.ParseReference(priv, map[bool][]name.Option{false: {name.Insecure}, true: nil}[useTLS]...)
			if _, err := remote.Head(r, remote.WithAuth(bob), remote.WithTransport(s.Transport()), remote.WithContext(ctx)); err == nil {
				t.Fatalf("ggcr HEAD %s as bob succeeded; want refusal", priv)
			}
			if s.TokenRequests() == 0 {
				t.Fatal("issuer served no request")
			}
		})
	}
}

func TestSkopeoInspect(t *testing.T) {
	skopeo := Skopeo(t)
	s := StartRegistry(t, WithBasicAuth("alice", "s3cret"))
	ref := s.Push(t, "sk/app")
	// Credentials go through an authfile (0600), never the command line.
	authfile := filepath.Join(t.TempDir(), "auth.json")
	auth := base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))
	if err := os.WriteFile(authfile, []byte(`{"auths":{"`+s.Host+`":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	outb, err := exec.Command(skopeo, "inspect", "--tls-verify=false", "--authfile", authfile, "docker://"+ref).CombinedOutput()
	out := string(outb)
	if err != nil {
		t.Fatalf("skopeo inspect: %v\n%s", err, out)
	}
	if !strings.Contains(out, `"Digest"`) {
		t.Fatalf("skopeo output lacks a digest:\n%s", out)
	}
}

func isUnknownAuthority(err error) bool {
	var e x509.UnknownAuthorityError
	return errors.As(err, &e)
}

func portOf(hostport string) string { return hostport[strings.LastIndex(hostport, ":")+1:] }
