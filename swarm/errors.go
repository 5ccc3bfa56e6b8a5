package swarm

import (
	"errors"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"

	"github.com/regcred/regcred/registry"
)

// EngineError is the Docker daemon's verdict on a request it refused: its own message, and
// the registry sentinel it maps to (ErrUnauthorized for a 401 from the registry, ErrForbidden,
// ErrNotFound, ErrConflict, ErrInvalid, else ErrUnavailable). It always arrives wrapped in a
// *registry.Error naming the operation and the server or service. Verdict never holds a
// secret: the credentials of the request are blanked out of it.
type EngineError struct {
	Verdict string // the daemon's message, e.g. "login attempt to http://…/v2/ failed with status: 401 Unauthorized"
	Err     error  // a registry sentinel
}

func (e *EngineError) Error() string {
	if e.Verdict == "" {
		return "the docker daemon refused: " + e.Err.Error()
	}
	return e.Err.Error() + ": the docker daemon says: " + e.Verdict
}

func (e *EngineError) Unwrap() error { return e.Err }

// engineError classifies an Engine API error; secrets are the values to blank out of the
// daemon's message.
func engineError(op, subject string, err error, secrets ...string) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "Error response from daemon: ")
	for _, s := range secrets {
		if len(s) >= 3 {
			msg = strings.ReplaceAll(msg, s, registry.Redacted)
		}
	}
	var sentinel error
	switch {
	case client.IsErrConnectionFailed(err):
		sentinel = registry.ErrUnavailable
		msg = "cannot reach the docker daemon (is it running, and is DOCKER_HOST right?): " + msg
	case cerrdefs.IsUnauthorized(err):
		sentinel = registry.ErrUnauthorized
	case cerrdefs.IsPermissionDenied(err):
		sentinel = registry.ErrForbidden
	case cerrdefs.IsNotFound(err):
		sentinel = registry.ErrNotFound
	case cerrdefs.IsConflict(err), strings.Contains(msg, "update out of sequence"):
		sentinel = registry.ErrConflict
	case cerrdefs.IsInvalidArgument(err):
		sentinel = registry.ErrInvalid
	case errors.Is(err, registry.ErrUnauthorized):
		sentinel = registry.ErrUnauthorized
	// Older daemons (20.10) answer a refused login with a 500 whose message carries the
	// registry's status; read it rather than calling a refusal an outage.
	case strings.Contains(msg, "401 Unauthorized"), strings.Contains(msg, "unauthorized: "),
		strings.Contains(msg, "no basic auth credentials"):
		sentinel = registry.ErrUnauthorized
	case strings.Contains(msg, "403 Forbidden"), strings.Contains(msg, "denied: "):
		sentinel = registry.ErrForbidden
	default:
		sentinel = registry.ErrUnavailable
	}
	return &registry.Error{Op: op, Registry: subject, Err: &EngineError{Verdict: msg, Err: sentinel}}
}
