package swarm

import (
	"errors"
	"strings"

	"github.com/regcred/regcred/internal/engineerr"
	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry"
)

// EngineError is the Docker daemon's verdict on a request it refused: its own message, and
// the registry sentinel it maps to (ErrUnauthorized for a 401 from the registry, ErrForbidden,
// ErrNotFound, ErrConflict, ErrInvalid, else ErrUnavailable). It always arrives wrapped in a
// *registry.Error naming the operation and the server or service. Verdict never holds a
// secret: the credentials of the request are blanked out of it. It is remote text, so it
// is bounded (maxVerdictRunes) and its control characters and terminal escapes are
// escaped (internal/untrusted) before it reaches an error text.
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

// maxVerdictRunes bounds the daemon's message quoted in an EngineError: long enough for a
// registry's error with a digest-pinned reference, short enough for one report line.
const maxVerdictRunes = 512

// engineError classifies an Engine API error from its structure (internal/engineerr: the
// registry's error code in the daemon's message, an HTTP status phrase, the daemon's own
// status); secrets are the values to blank out of the daemon's message.
func engineError(op, subject string, err error, secrets ...string) error {
	msg := strings.TrimPrefix(err.Error(), "Error response from daemon: ")
	msg = untrusted.Limit(blank(msg, secrets...), maxVerdictRunes)
	kind := engineerr.Classify(err)
	if kind == engineerr.Unreachable {
		msg = "cannot reach the docker daemon (is it running, and is DOCKER_HOST right?): " + msg
	}
	sentinel := sentinelOf(kind)
	if kind == engineerr.Unknown && errors.Is(err, registry.ErrUnauthorized) {
		sentinel = registry.ErrUnauthorized
	}
	return &registry.Error{Op: op, Registry: subject, Err: &EngineError{Verdict: msg, Err: sentinel}}
}

// sentinelOf maps what the daemon's answer means to the registry sentinel.
func sentinelOf(k engineerr.Kind) error {
	switch k {
	case engineerr.Unauthorized:
		return registry.ErrUnauthorized
	case engineerr.Denied:
		return registry.ErrForbidden
	case engineerr.NotFound:
		return registry.ErrNotFound
	case engineerr.Conflict:
		return registry.ErrConflict
	case engineerr.Invalid:
		return registry.ErrInvalid
	}
	return registry.ErrUnavailable
}

// blank replaces each secret (of 3 bytes or more) in msg with registry.Redacted.
func blank(msg string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) >= 3 {
			msg = strings.ReplaceAll(msg, s, registry.Redacted)
		}
	}
	return msg
}
