package compose

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	dockerregistry "github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/regcred/regcred/internal/engineerr"
	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry"
)

// EngineAPI is the part of the Engine API client PrePull needs; *client.Client has it.
type EngineAPI interface {
	ImagePull(ctx context.Context, ref string, options image.PullOptions) (io.ReadCloser, error)
	ImageInspect(ctx context.Context, imageID string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
}

var _ EngineAPI = (*client.Client)(nil)

// Status is what happened to one image.
type Status int

const (
	// Pulled: the daemon pulled the image (or found it up to date).
	Pulled Status = iota + 1
	// Present: pull_policy missing/if_not_present and the image was already there.
	Present
	// Failed: see Result.Err.
	Failed
)

func (s Status) String() string {
	switch s {
	case Pulled:
		return "pulled"
	case Present:
		return "present"
	case Failed:
		return "failed"
	}
	return "pending"
}

// Result is the outcome for one image.
type Result struct {
	Image    Image
	Status   Status
	Digest   string // the manifest digest the daemon reported, when it did
	Err      error  // a *PullError when Status is Failed
	Duration time.Duration
}

// PullError says why one image could not be pulled. Err wraps a registry sentinel:
// ErrUnauthorized (credentials refused, or none saved for a private registry), ErrForbidden,
// ErrNotFound (no such image or tag), ErrUnavailable (registry or daemon unreachable), or the
// Keychain's own error.
type PullError struct {
	Ref      string
	Services []string
	Err      error
}

// Error names the image and its services (text from the compose file) bounded and escaped,
// as is the daemon's message inside Err (classify).
func (e *PullError) Error() string {
	return fmt.Sprintf("pull %s (service %s): %v", untrusted.Text(e.Ref), untrusted.Text(strings.Join(e.Services, ", ")), e.Err)
}

func (e *PullError) Unwrap() error { return e.Err }

// Event is one progress report. Start and Done come once per image; Progress as the daemon
// reports layers ("Downloading", "Extracting", "Pull complete", ...).
type Event struct {
	Ref     string
	Kind    EventKind
	Layer   string // the layer ID of a Progress event, "" for the image as a whole
	Status  string // the daemon's status text
	Current int64  // bytes done, when the daemon says
	Total   int64  // bytes in all, when the daemon says
	Result  *Result
}

// EventKind tells Start, Progress and Done events apart.
type EventKind int

const (
	EventStart EventKind = iota + 1
	EventProgress
	EventDone
)

// PullOption configures PrePull.
type PullOption func(*pullConfig)

type pullConfig struct {
	concurrency int
	progress    func(Event)
	logger      *slog.Logger
}

// DefaultConcurrency is how many images PrePull pulls at once unless WithConcurrency says.
const DefaultConcurrency = 4

// WithConcurrency bounds the pulls in flight (default DefaultConcurrency; values below 1
// mean 1).
func WithConcurrency(n int) PullOption {
	return func(c *pullConfig) { c.concurrency = max(n, 1) }
}

// WithProgress receives progress events. Calls are serialized (never two at once), from
// PrePull's goroutines; keep the callback quick.
func WithProgress(f func(Event)) PullOption { return func(c *pullConfig) { c.progress = f } }

// WithLogger logs each image's outcome at debug level (failures at warn).
func WithLogger(l *slog.Logger) PullOption { return func(c *pullConfig) { c.logger = l } }

// PrePull pulls images through the Docker Engine API, at most WithConcurrency at a time,
// each with the credentials kc gives for it in X-Registry-Auth (none when no saved registry
// matches). Every image gets a Result, in the order of images; one image failing never
// stops the others. The error joins the *PullError of every failed image that cannot be
// built instead (Image.Buildable), and is nil when all the others succeeded.
func PrePull(ctx context.Context, api EngineAPI, kc Keychain, images []Image, opts ...PullOption) ([]Result, error) {
	cfg := pullConfig{concurrency: DefaultConcurrency}
	for _, o := range opts {
		o(&cfg)
	}
	var mu sync.Mutex
	emit := func(ev Event) {
		if cfg.progress != nil {
			mu.Lock()
			defer mu.Unlock()
			cfg.progress(ev)
		}
	}
	results := make([]Result, len(images))
	sem := make(chan struct{}, cfg.concurrency)
	var wg sync.WaitGroup
	for i, img := range images {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] = Result{Image: img, Status: Failed, Err: &PullError{Ref: img.Ref, Services: img.Services, Err: ctx.Err()}}
				emit(Event{Ref: img.Ref, Kind: EventDone, Result: &results[i]})
				return
			}
			defer func() { <-sem }()
			emit(Event{Ref: img.Ref, Kind: EventStart})
			start := time.Now()
			r := pullOne(ctx, api, kc, img, emit)
			r.Duration = time.Since(start)
			results[i] = r
			if cfg.logger != nil {
				if r.Err != nil {
					cfg.logger.LogAttrs(ctx, slog.LevelWarn, "pre-pull failed", slog.String("image", img.Ref), slog.Any("error", r.Err))
				} else {
					cfg.logger.LogAttrs(ctx, slog.LevelDebug, "pre-pull", slog.String("image", img.Ref), slog.String("status", r.Status.String()), slog.Duration("took", r.Duration))
				}
			}
			emit(Event{Ref: img.Ref, Kind: EventDone, Result: &results[i]})
		}()
	}
	wg.Wait()
	var errs []error
	for _, r := range results {
		if r.Status == Failed && !r.Image.Buildable {
			errs = append(errs, r.Err)
		}
	}
	return results, errors.Join(errs...)
}

func pullOne(ctx context.Context, api EngineAPI, kc Keychain, img Image, emit func(Event)) Result {
	res := Result{Image: img}
	fail := func(err error) Result {
		res.Status, res.Err = Failed, &PullError{Ref: img.Ref, Services: img.Services, Err: err}
		return res
	}
	if (img.Policy == "missing" || img.Policy == "if_not_present") && img.Platform == "" {
		if _, err := api.ImageInspect(ctx, img.Ref); err == nil {
			res.Status = Present
			return res
		} else if !cerrdefs.IsNotFound(err) {
			return fail(classify(err, resolved{}, img.Host))
		}
	}
	rs, err := lookup(ctx, kc, img.Ref)
	if err != nil {
		return fail(err)
	}
	creds := rs.creds
	auth, err := encodeAuth(creds, img.Host)
	if err != nil {
		return fail(err)
	}
	rc, err := api.ImagePull(ctx, img.Ref, image.PullOptions{RegistryAuth: auth, Platform: img.Platform})
	if err != nil {
		return fail(classify(err, rs, img.Host))
	}
	defer rc.Close()
	digest, err := readStream(rc, img.Ref, emit)
	if err != nil {
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
		return fail(classify(err, rs, img.Host))
	}
	res.Status, res.Digest = Pulled, digest
	return res
}

func isNotFound(err error) bool { return errors.Is(err, registry.ErrNotFound) }

// encodeAuth builds X-Registry-Auth: base64url of the engine's JSON auth config (the
// format swarm.EncodeAuth documents).
func encodeAuth(c registry.Credentials, host string) (string, error) {
	if c.Anonymous() {
		return "", nil
	}
	ac := dockerregistry.AuthConfig{
		Username: c.Username, Password: c.Password.Reveal(),
		IdentityToken: c.IdentityToken.Reveal(), RegistryToken: c.RegistryToken.Reveal(),
		ServerAddress: serverKey(host),
	}
	b, err := json.Marshal(ac)
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

// readStream follows the pull's JSON message stream to its end: a pull is only done when
// the stream closes, and its failure arrives as an error object inside it (a
// *jsonmessage.JSONError, with the status code when the daemon set one).
func readStream(r io.Reader, ref string, emit func(Event)) (digest string, err error) {
	dec := json.NewDecoder(r)
	for {
		var m jsonmessage.JSONMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return digest, nil
			}
			return digest, fmt.Errorf("reading the daemon's pull stream: %w", err)
		}
		if m.Error != nil && (m.Error.Message != "" || m.Error.Code != 0) {
			return digest, m.Error
		}
		if m.ErrorMessage != "" { // a daemon that sends only the old "error" field
			return digest, &jsonmessage.JSONError{Message: m.ErrorMessage}
		}
		if d, ok := strings.CutPrefix(m.Status, "Digest: "); ok {
			digest = untrusted.Text(strings.TrimSpace(d))
		}
		ev := Event{Ref: ref, Kind: EventProgress, Layer: untrusted.Text(m.ID), Status: untrusted.Text(m.Status)}
		if m.Progress != nil {
			ev.Current, ev.Total = m.Progress.Current, m.Progress.Total
		}
		emit(ev)
	}
}

// maxDaemonMessageRunes bounds the daemon's message quoted in a pull error: long enough for
// a registry's error about a digest-pinned reference, short enough for one report line.
const maxDaemonMessageRunes = 512

// classify maps the daemon's refusal to a sentinel from its structure (engineerr: the
// stream's status code, the registry's error code, an HTTP status phrase, the daemon's HTTP
// status) and says what to do. The daemon's message is quoted with the secrets of the
// request blanked out, then bounded and escaped (internal/untrusted): it is remote text
// (a registry's error message, a reason phrase) on its way to a terminal or a page.
func classify(err error, rs resolved, host string) error {
	msg := strings.TrimPrefix(redact(err.Error(), rs.creds), "Error response from daemon: ")
	msg = untrusted.Limit(msg, maxDaemonMessageRunes)
	host = untrusted.Text(host)
	kind := engineerr.Classify(err)
	if kind == engineerr.Denied && (rs.matched == "" || rs.creds.Anonymous()) {
		kind = engineerr.Unauthorized // DENIED to an anonymous pull: the registry wants a login
	}
	switch kind {
	case engineerr.Unauthorized:
		switch {
		case rs.matched == "":
			return fmt.Errorf("%w: no saved registry matches %s and it refused an anonymous pull (add the registry with its credentials): the docker daemon says: %s", registry.ErrUnauthorized, host, msg)
		case rs.creds.Anonymous():
			return fmt.Errorf("%w: saved registry %q has no credentials and %s refused an anonymous pull (give the registry credentials): the docker daemon says: %s", registry.ErrUnauthorized, rs.matched, host, msg)
		}
		return fmt.Errorf("%w: %s refused the credentials of saved registry %q (check or rotate them): the docker daemon says: %s", registry.ErrUnauthorized, host, rs.matched, msg)
	case engineerr.Denied:
		return fmt.Errorf("%w: the credentials lack pull permission on %s: the docker daemon says: %s", registry.ErrForbidden, host, msg)
	case engineerr.NotFound:
		return fmt.Errorf("%w: no such image or tag on %s: the docker daemon says: %s", registry.ErrNotFound, host, msg)
	case engineerr.Invalid:
		return fmt.Errorf("%w: the docker daemon refused the reference: %s", registry.ErrInvalid, msg)
	case engineerr.TooManyRequests:
		return fmt.Errorf("%w: %s is rate limiting pulls (retry later, or pull with credentials): the docker daemon says: %s", registry.ErrUnavailable, host, msg)
	case engineerr.Unreachable:
		return fmt.Errorf("%w: cannot reach the docker daemon: %s", registry.ErrUnavailable, msg)
	}
	return fmt.Errorf("%w: the docker daemon says: %s", registry.ErrUnavailable, msg)
}

// redact blanks the credentials' secrets out of a daemon message.
func redact(msg string, c registry.Credentials) string {
	for _, s := range []string{c.Password.Reveal(), c.IdentityToken.Reveal(), c.RegistryToken.Reveal()} {
		if len(s) >= 3 {
			msg = strings.ReplaceAll(msg, s, registry.Redacted)
		}
	}
	return msg
}
