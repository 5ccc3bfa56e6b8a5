package registry

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A registry that trickles its GET /v2/ body forever (one byte at a time, well inside any
// idle timeout) cannot hold a caller that gave no deadline: the body read whole has a
// time bound of its own.
func TestTransportBoundsSlowBodies(t *testing.T) {
	old := readWholeTimeout
	readWholeTimeout = 300 * time.Millisecond
	defer func() { readWholeTimeout = old }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}))
	defer srv.Close()
	defer srv.CloseClientConnections()
	host := strings.TrimPrefix(srv.URL, "http://")
	var c TransportCache
	tr, err := c.For(Registry{Kind: KindCustom, Server: "http://" + host, TLS: TLS{Mode: TLSInsecure}})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v2/", "/v2/team/app/manifests/v1"} {
		start := time.Now()
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("%s: read error %v, want ErrTimeout", path, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%s: took %s", path, d)
		}
	}
	// A blob streams without a time bound of its own.
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/v2/team/app/blobs/sha256:00")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	done := make(chan error, 1)
	go func() { _, err := io.CopyN(io.Discard, resp.Body, 40); done <- err }()
	if err := <-done; err != nil {
		t.Fatalf("blob read: %v", err)
	}
}
