package transport_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/transport"
)

// BenchmarkTransport compares a manifest GET through the record's Transport (http refusal,
// Authorization rules, bounded body) with the bare *http.Transport the record's TLS
// settings build, on a loopback server: the cost of the guard per request.
func BenchmarkTransport(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"schemaVersion":2}`)
	}))
	defer srv.Close()
	rec := registry.Registry{ID: "bench", Version: 1, Kind: registry.KindCustom, Server: srv.URL, TLS: registry.TLS{Mode: registry.TLSInsecure}}
	base, err := transport.ForTLS(rec.TLS)
	if err != nil {
		b.Fatal(err)
	}
	guarded, err := new(transport.Cache).For(rec)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		rt   http.RoundTripper
	}{{"http.Transport", base}, {"transport.Transport", guarded}} {
		b.Run(c.name, func(b *testing.B) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/team/app/manifests/v1", nil)
			req.Header.Set("Authorization", "Basic cm9ib3Q6czNjcmV0")
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// BenchmarkCacheFor is the lookup every pull through a Keychain makes (Cache.For of a
// saved record, as a Store hands it out): it keys the cache by the record's server.
//
//	go test -run '^$' -bench CacheFor -benchmem ./registry/transport/
func BenchmarkCacheFor(b *testing.B) {
	data, err := registry.MarshalStored(registry.Registry{ID: "bench", Version: 1, Kind: registry.KindCustom,
		Server: "https://registry.example.com:5000/team", Fields: map[string]string{"username": "u", "password": "p"}})
	if err != nil {
		b.Fatal(err)
	}
	rec, err := registry.UnmarshalStored(data)
	if err != nil {
		b.Fatal(err)
	}
	c := new(transport.Cache)
	if _, err := c.For(rec); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.For(rec); err != nil {
			b.Fatal(err)
		}
	}
}
