package main

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/keychain"
)

// The demo's pull path (Keychain + Keychain.Transport) against a record saved as https in
// the secure and custom CA modes whose server on loopback speaks plain HTTP with basic
// auth: go-containerregistry falls back to http for loopback, and before, the demo's
// transport let the Basic credentials go over it. Not one request may reach the server.
func TestDemoPullNeverDowngradesToHTTP(t *testing.T) {
	var requests, authed atomic.Int64
	inner := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		u, p, ok := r.BasicAuth()
		if ok {
			authed.Add(1)
		}
		if !ok || u != "demo" || p != "demo-pw" {
			w.Header().Set("WWW-Authenticate", `Basic realm="demo"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	seed, err := name.ParseReference(host+"/team/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := random.Image(512, 1)
	if err := remote.Write(seed, img, remote.WithAuth(&authn.Basic{Username: "demo", Password: "demo-pw"})); err != nil {
		t.Fatal(err)
	}
	demo, err := startDemoServer() // only for a CA bundle the custom CA mode accepts
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	for _, tlsSettings := range []registry.TLS{{Mode: registry.TLSSecure}, {Mode: registry.TLSCustomCA, CABundle: demo.CAPEM}} {
		t.Run(string(tlsSettings.Mode), func(t *testing.T) {
			rec := registry.Registry{ID: "demo-" + string(tlsSettings.Mode), Name: "demo", Kind: registry.KindCustom, Server: "https://" + host,
				Fields: map[string]string{"username": "demo", "password": "demo-pw"}, TLS: tlsSettings}
			kc, err := keychain.New([]registry.Registry{rec})
			if err != nil {
				t.Fatal(err)
			}
			ref, _ := name.ParseReference(host + "/team/app:v1")
			requests.Store(0)
			authed.Store(0)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := pullWithKeychain(ctx, kc, ref); err == nil {
				t.Fatal("pulled over plain HTTP")
			}
			if requests.Load() != 0 {
				t.Fatalf("%d requests (%d with credentials) reached the plain-HTTP server", requests.Load(), authed.Load())
			}
		})
	}
}
