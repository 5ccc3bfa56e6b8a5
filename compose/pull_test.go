package compose

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	dockerregistry "github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/registry"
)

// fakeEngine answers ImagePull with the daemon's JSON stream format, per reference.
type fakeEngine struct {
	streams  map[string]string // ref -> stream body
	errs     map[string]error  // ref -> error before the stream
	present  map[string]bool
	delay    time.Duration
	inFlight atomic.Int32
	maxSeen  atomic.Int32
	mu       sync.Mutex
	auths    map[string]dockerregistry.AuthConfig
	platform []string
}

func (f *fakeEngine) ImagePull(ctx context.Context, ref string, o image.PullOptions) (io.ReadCloser, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxSeen.Load()
		if n <= m || f.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	ac, err := dockerregistry.DecodeAuthConfig(o.RegistryAuth)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.auths[ref] = *ac
	f.platform = append(f.platform, ref+" "+o.Platform)
	f.mu.Unlock()
	time.Sleep(f.delay)
	if err := f.errs[ref]; err != nil {
		return nil, err
	}
	return io.NopCloser(strings.NewReader(f.streams[ref])), nil
}

func (f *fakeEngine) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	if f.present[ref] {
		return image.InspectResponse{ID: "sha256:abc"}, nil
	}
	return image.InspectResponse{}, cerrdefs.ErrNotFound.WithMessage("No such image: " + ref)
}

const okStream = `{"status":"Pulling from shop/web","id":"v1"}
{"status":"Pulling fs layer","progressDetail":{},"id":"aaa"}
{"status":"Downloading","progressDetail":{"current":512,"total":1024},"id":"aaa"}
{"status":"Pull complete","progressDetail":{},"id":"aaa"}
{"status":"Digest: sha256:1111111111111111111111111111111111111111111111111111111111111111"}
{"status":"Status: Downloaded newer image for r.example/shop/web:1"}
`

func keychainOf(m map[string]registry.Credentials) Keychain {
	return KeychainFunc(func(_ context.Context, ref string) (registry.Credentials, registry.Registry, error) {
		host, _, _ := strings.Cut(ref, "/")
		if c, ok := m[host]; ok {
			return c, registry.Registry{Name: "saved " + host}, nil
		}
		return registry.Credentials{}, registry.Registry{}, nil
	})
}

func TestPrePullPerImageResults(t *testing.T) {
	f := &fakeEngine{
		streams: map[string]string{
			"r.example/shop/web:1":     okStream,
			"public.example/lib/db:1":  okStream,
			"r.example/shop/missing:1": `{"status":"Pulling from shop/missing"}` + "\n" + `{"errorDetail":{"message":"manifest for r.example/shop/missing:1 not found: manifest unknown: manifest unknown"},"error":"manifest for r.example/shop/missing:1 not found: manifest unknown: manifest unknown"}` + "\n",
			"r.example/shop/build:1":   `{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}` + "\n",
		},
		errs: map[string]error{
			"private.example/x/y:1": cerrdefs.ErrUnknown.WithMessage(`Head "https://private.example/v2/x/y/manifests/1": no basic auth credentials`),
			"down.example/x/y:1":    cerrdefs.ErrUnknown.WithMessage(`Get "https://down.example/v2/": dial tcp: lookup down.example: no such host`),
		},
		present: map[string]bool{"r.example/shop/cached:1": true},
		auths:   map[string]dockerregistry.AuthConfig{},
	}
	kc := keychainOf(map[string]registry.Credentials{"r.example": {Username: "deploy", Password: "pw-123"}})
	images := []Image{
		{Ref: "r.example/shop/web:1", Host: "r.example", Services: []string{"web"}},
		{Ref: "public.example/lib/db:1", Host: "public.example", Services: []string{"db"}},
		{Ref: "r.example/shop/missing:1", Host: "r.example", Services: []string{"m"}},
		{Ref: "private.example/x/y:1", Host: "private.example", Services: []string{"p"}},
		{Ref: "down.example/x/y:1", Host: "down.example", Services: []string{"d"}},
		{Ref: "r.example/shop/cached:1", Host: "r.example", Services: []string{"c"}, Policy: "missing"},
		{Ref: "r.example/shop/build:1", Host: "r.example", Services: []string{"b"}, Buildable: true},
	}
	var events []Event
	results, err := PrePull(context.Background(), f, kc, images, WithProgress(func(e Event) { events = append(events, e) }))

	type row struct {
		Ref    string
		Status Status
		Digest string
		Is     string
	}
	sentinel := func(err error) string {
		for _, s := range []error{registry.ErrUnauthorized, registry.ErrNotFound, registry.ErrUnavailable} {
			if errors.Is(err, s) {
				return s.Error()
			}
		}
		if err != nil {
			return "other: " + err.Error()
		}
		return ""
	}
	var got []row
	for _, r := range results {
		got = append(got, row{r.Image.Ref, r.Status, r.Digest, sentinel(r.Err)})
	}
	digest := "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	want := []row{
		{"r.example/shop/web:1", Pulled, digest, ""},
		{"public.example/lib/db:1", Pulled, digest, ""},
		{"r.example/shop/missing:1", Failed, "", "not found"},
		{"private.example/x/y:1", Failed, "", "unauthorized"},
		{"down.example/x/y:1", Failed, "", "unavailable"},
		{"r.example/shop/cached:1", Present, "", ""},
		{"r.example/shop/build:1", Failed, "", "not found"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	// The joined error lists the three fatal failures, not the buildable one.
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 3 {
		t.Errorf("joined error has %d failures, want 3: %v", n, err)
	}
	if !strings.Contains(results[3].Err.Error(), "no saved registry matches private.example") {
		t.Errorf("unknown registry error does not say so: %v", results[3].Err)
	}
	if f.auths["r.example/shop/web:1"].Password != "pw-123" || f.auths["public.example/lib/db:1"].Password != "" {
		t.Errorf("auth sent: %+v", f.auths)
	}
	var progress, starts, dones int
	for _, e := range events {
		switch e.Kind {
		case EventStart:
			starts++
		case EventDone:
			dones++
		case EventProgress:
			progress++
		}
	}
	if starts != len(images) || dones != len(images) || progress == 0 {
		t.Errorf("events: %d starts, %d dones, %d progress", starts, dones, progress)
	}
}

func TestPrePullBoundsConcurrency(t *testing.T) {
	for _, n := range []int{1, 3} {
		f := &fakeEngine{streams: map[string]string{}, auths: map[string]dockerregistry.AuthConfig{}, delay: 20 * time.Millisecond}
		var images []Image
		for _, s := range "abcdefgh" {
			ref := "r.example/img/" + string(s) + ":1"
			f.streams[ref] = okStream
			images = append(images, Image{Ref: ref, Host: "r.example"})
		}
		var inCallback atomic.Int32
		results, err := PrePull(context.Background(), f, nil, images, WithConcurrency(n), WithProgress(func(Event) {
			if inCallback.Add(1) > 1 {
				t.Error("progress callback called concurrently")
			}
			inCallback.Add(-1)
		}))
		if err != nil {
			t.Fatal(err)
		}
		if got := f.maxSeen.Load(); got != int32(n) {
			t.Errorf("concurrency %d: %d pulls at once", n, got)
		}
		for _, r := range results {
			if r.Status != Pulled {
				t.Errorf("%s: %v %v", r.Image.Ref, r.Status, r.Err)
			}
		}
	}
}

func TestPrePullKeychainFailureIsPerImage(t *testing.T) {
	f := &fakeEngine{streams: map[string]string{"ok.example/a:1": okStream}, auths: map[string]dockerregistry.AuthConfig{}}
	kc := KeychainFunc(func(_ context.Context, ref string) (registry.Credentials, registry.Registry, error) {
		if strings.HasPrefix(ref, "ecr.example") {
			return registry.Credentials{}, registry.Registry{Name: "ecr"}, &registry.Error{Op: "credentials", Registry: "ecr", Err: registry.ErrUnavailable}
		}
		return registry.Credentials{}, registry.Registry{}, registry.ErrNotFound
	})
	results, err := PrePull(context.Background(), f, kc, []Image{{Ref: "ecr.example/a:1", Host: "ecr.example"}, {Ref: "ok.example/a:1", Host: "ok.example"}})
	if err == nil || results[0].Status != Failed || results[1].Status != Pulled {
		t.Fatalf("results %+v err %v", results, err)
	}
	if _, pulled := f.auths["ecr.example/a:1"]; pulled {
		t.Error("pulled anonymously although the keychain failed")
	}
}

func TestPrePullPassesPlatform(t *testing.T) {
	f := &fakeEngine{streams: map[string]string{"r.example/a:1": okStream}, auths: map[string]dockerregistry.AuthConfig{},
		present: map[string]bool{"r.example/a:1": true}}
	// Present for the daemon's platform, but another platform is asked for: pull anyway.
	results, err := PrePull(context.Background(), f, nil, []Image{{Ref: "r.example/a:1", Host: "r.example", Platform: "linux/arm64", Policy: "missing"}})
	if err != nil || results[0].Status != Pulled {
		t.Fatalf("results %+v, %v", results, err)
	}
	if diff := cmp.Diff([]string{"r.example/a:1 linux/arm64"}, f.platform); diff != "" {
		t.Errorf("pulls (-want +got):\n%s", diff)
	}
}

// The verdict comes from the structure of the daemon's answer: hosts on ports and digests
// holding 401 and 403 never turn "manifest unknown" into "unauthorized".
func TestPrePullClassifiesFromStructure(t *testing.T) {
	const (
		h   = "127.0.0.1:40103"
		dig = "sha256:4014034040401403404040140340404014034040401403404040140340404014"
	)
	streamErr := func(code int, msg string) string {
		b, _ := json.Marshal(map[string]any{"errorDetail": map[string]any{"code": code, "message": msg}, "error": msg})
		return `{"status":"Pulling from x"}` + "\n" + string(b) + "\n"
	}
	tests := []struct {
		name   string
		ref    string
		creds  bool
		stream string
		err    error
		want   error
	}{
		{"manifest unknown on a 401 port", h + "/a:v1", true, "", cerrdefs.ErrUnknown.WithMessage("manifest for " + h + "/a:v1 not found: manifest unknown: manifest unknown"), registry.ErrNotFound},
		{"digest with 401 and 403", h + "/a@" + dig, true, "", cerrdefs.ErrNotFound.WithMessage("manifest for " + h + "/a@" + dig + " not found: manifest unknown: manifest unknown"), registry.ErrNotFound},
		{"stream error code 404", h + "/b:v1", true, streamErr(404, "pulling "+h+"/b@"+dig), nil, registry.ErrNotFound},
		{"stream error code 401", h + "/c:v1", true, streamErr(401, "pulling "+h+"/c"), nil, registry.ErrUnauthorized},
		{"stream error without code", h + "/d:v1", true, streamErr(0, "manifest for "+h+"/d:v1 not found: manifest unknown: manifest unknown"), nil, registry.ErrNotFound},
		{"registry's UNAUTHORIZED", h + "/e:v1", true, "", cerrdefs.ErrUnknown.WithMessage(`Head "http://` + h + `/v2/e/manifests/v1": unauthorized: authentication required`), registry.ErrUnauthorized},
		{"DENIED with credentials", h + "/f:v1", true, "", cerrdefs.ErrNotFound.WithMessage("pull access denied for " + h + "/f, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"), registry.ErrForbidden},
		{"DENIED without credentials", "anon.example:40301/f:v1", false, "", cerrdefs.ErrNotFound.WithMessage("pull access denied for anon.example:40301/f, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"), registry.ErrUnauthorized},
		{"connection refused on a 401 port", h + "/g:v1", true, "", cerrdefs.ErrUnknown.WithMessage(`Get "http://` + h + `/v2/": dial tcp ` + h + `: connect: connection refused`), registry.ErrUnavailable},
		{"daemon down", h + "/i:v1", true, "", client.ErrorConnectionFailed("unix:///x.sock"), registry.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeEngine{streams: map[string]string{tt.ref: tt.stream}, errs: map[string]error{tt.ref: tt.err}, auths: map[string]dockerregistry.AuthConfig{}}
			host, _, _ := strings.Cut(tt.ref, "/")
			m := map[string]registry.Credentials{}
			if tt.creds {
				m[host] = registry.Credentials{Username: "deploy", Password: "pw-401403"}
			}
			results, _ := PrePull(context.Background(), f, keychainOf(m), []Image{{Ref: tt.ref, Host: host}})
			err := results[0].Err
			if !errors.Is(err, tt.want) {
				t.Fatalf("%v, want %v", err, tt.want)
			}
			for _, s := range []error{registry.ErrUnauthorized, registry.ErrForbidden, registry.ErrNotFound, registry.ErrUnavailable} {
				if s != tt.want && errors.Is(err, s) {
					t.Fatalf("%v is also %v", err, s)
				}
			}
			if strings.Contains(err.Error(), "pw-401403") {
				t.Fatalf("the password leaked: %v", err)
			}
		})
	}
}

// The daemon quotes what a registry says; a hostile registry's terminal escapes, bidi
// overrides and forged lines reach PullError texts and progress events escaped, and an
// endless message is bounded.
func TestPullErrorEscapesDaemonText(t *testing.T) {
	const hostile = "unauthorized: \x1b[2J\x1b]0;pwned\x07 \u202etxt.exe\nregcred: pulled"
	streamErr := func(msg string) string {
		b, _ := json.Marshal(map[string]any{"errorDetail": map[string]any{"message": msg}, "error": msg})
		return `{"status":"Pulling \u001b[31mred\u001b[0m","id":"\u001b[1Alayer"}` + "\n" + string(b) + "\n"
	}
	const ref = "r.example/a:v1"
	for _, tc := range []struct {
		name   string
		stream string
		err    error
	}{
		{"error response", "", cerrdefs.ErrUnauthenticated.WithMessage(hostile)},
		{"stream error", streamErr(hostile), nil},
		{"endless message", "", cerrdefs.ErrUnknown.WithMessage(strings.Repeat("\x1b[5m", 50000))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeEngine{streams: map[string]string{ref: tc.stream}, errs: map[string]error{ref: tc.err}, auths: map[string]dockerregistry.AuthConfig{}}
			var events []Event
			var mu sync.Mutex
			results, _ := PrePull(context.Background(), f, keychainOf(map[string]registry.Credentials{"r.example": {Username: "u", Password: "pw"}}),
				[]Image{{Ref: ref, Host: "r.example", Services: []string{"web\x1b[8m"}}},
				WithProgress(func(ev Event) { mu.Lock(); events = append(events, ev); mu.Unlock() }))
			err := results[0].Err
			if err == nil {
				t.Fatal("no error")
			}
			var pe *PullError
			if !errors.As(err, &pe) {
				t.Fatalf("%T is not a *PullError", err)
			}
			texts := []string{err.Error()}
			for _, ev := range events {
				texts = append(texts, ev.Status, ev.Layer)
			}
			for _, s := range texts {
				for _, bad := range []string{"\x1b", "\x07", "\u202e", "\n"} {
					if strings.Contains(s, bad) {
						t.Errorf("%q carries %q raw", s, bad)
					}
				}
			}
			if !strings.Contains(err.Error(), `\x1b`) {
				t.Errorf("the escape was dropped, not shown escaped: %q", err.Error())
			}
			if n := len([]rune(err.Error())); n > maxDaemonMessageRunes+400 {
				t.Errorf("error of %d runes: the daemon's message is not bounded", n)
			}
		})
	}
}
