package engineerr

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
)

// Kind is what a daemon's refusal means.
type Kind int

const (
	// Unknown: nothing in the answer says; callers treat it as unavailable.
	Unknown Kind = iota
	// Unauthorized: the registry wants (other) credentials (401, UNAUTHORIZED).
	Unauthorized
	// Denied: the registry refused access to the resource (403, DENIED); with no
	// credentials this usually means a login is needed.
	Denied
	// NotFound: no such image, tag, digest or repository (404, MANIFEST_UNKNOWN, ...).
	NotFound
	// Conflict: the object changed meanwhile (409).
	Conflict
	// Invalid: the request was malformed (400, NAME_INVALID, TAG_INVALID, ...).
	Invalid
	// TooManyRequests: rate limited (429, TOOMANYREQUESTS).
	TooManyRequests
	// Unreachable: the daemon itself could not be reached.
	Unreachable
)

var kindNames = [...]string{"unknown", "unauthorized", "denied", "not found", "conflict", "invalid", "too many requests", "unreachable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// registryCodes are the error codes of the OCI distribution spec (and distribution's own
// TOOMANYREQUESTS), in the form the registry client prints them: lower case, underscores as
// spaces.
var registryCodes = map[string]Kind{
	"unauthorized":          Unauthorized,
	"denied":                Denied,
	"manifest unknown":      NotFound,
	"name unknown":          NotFound,
	"blob unknown":          NotFound,
	"manifest blob unknown": NotFound,
	"name invalid":          Invalid,
	"tag invalid":           Invalid,
	"digest invalid":        Invalid,
	"manifest invalid":      Invalid,
	"manifest unverified":   Invalid,
	"size invalid":          Invalid,
	"blob upload invalid":   Invalid,
	"toomanyrequests":       TooManyRequests,
}

// phrases are fixed texts of the daemon that carry no code.
var phrases = []struct {
	text string
	kind Kind
}{
	{"no basic auth credentials", Unauthorized},
	{"update out of sequence", Conflict}, // swarm: the service's version moved on
}

// Classify returns what err, an error from the Docker Engine API client or a JSON message
// stream, means (see the package rules).
func Classify(err error) Kind {
	if err == nil {
		return Unknown
	}
	var je *jsonmessage.JSONError
	if errors.As(err, &je) && je.Code != 0 {
		if k := statusKind(je.Code); k != Unknown {
			return k
		}
	}
	if k := codeKind(err.Error()); k != Unknown {
		return k
	}
	if k := statusPhraseKind(err.Error()); k != Unknown {
		return k
	}
	switch {
	case client.IsErrConnectionFailed(err):
		return Unreachable
	case cerrdefs.IsUnauthorized(err):
		return Unauthorized
	case cerrdefs.IsPermissionDenied(err):
		return Denied
	case cerrdefs.IsNotFound(err):
		return NotFound
	case cerrdefs.IsConflict(err):
		return Conflict
	case cerrdefs.IsInvalidArgument(err):
		return Invalid
	case cerrdefs.IsResourceExhausted(err):
		return TooManyRequests
	}
	return phraseKind(err.Error())
}

// ClassifyText classifies a message that comes without an error value (the docker CLI's
// output): steps 2, 3 and 5 of Classify.
func ClassifyText(msg string) Kind {
	if k := codeKind(msg); k != Unknown {
		return k
	}
	if k := statusPhraseKind(msg); k != Unknown {
		return k
	}
	return phraseKind(msg)
}

func statusKind(code int) Kind {
	switch code {
	case http.StatusUnauthorized:
		return Unauthorized
	case http.StatusForbidden:
		return Denied
	case http.StatusNotFound:
		return NotFound
	case http.StatusConflict:
		return Conflict
	case http.StatusBadRequest:
		return Invalid
	case http.StatusTooManyRequests:
		return TooManyRequests
	}
	return Unknown
}

// codeKind finds the first registry error code that stands as a whole part of msg, parts
// being separated by ": " or line breaks (distribution's errcode.Errors prints one error a
// line). A host:port or a digest never splits a part: their colons have no space after.
func codeKind(msg string) Kind {
	for line := range strings.Lines(msg) {
		for part := range strings.SplitSeq(strings.TrimRight(line, "\r\n"), ": ") {
			if k, ok := registryCodes[strings.ToLower(strings.TrimSpace(part))]; ok {
				return k
			}
		}
	}
	return Unknown
}

// statusPhraseKind finds "NNN Reason Phrase" (the reason phrase exactly as net/http names
// the status) starting a word of msg: "status: 401 Unauthorized", never ":40103/v2".
func statusPhraseKind(msg string) Kind {
	for i := 0; i+3 < len(msg); i++ {
		if i > 0 && msg[i-1] != ' ' && msg[i-1] != '(' && msg[i-1] != '"' {
			continue
		}
		if !isDigit(msg[i]) || !isDigit(msg[i+1]) || !isDigit(msg[i+2]) || msg[i+3] != ' ' {
			continue
		}
		code, _ := strconv.Atoi(msg[i : i+3])
		text := http.StatusText(code)
		if text == "" || !strings.HasPrefix(msg[i+4:], text) {
			continue
		}
		if end := i + 4 + len(text); end < len(msg) && isLetter(msg[end]) {
			continue // a longer word, not the phrase
		}
		if k := statusKind(code); k != Unknown {
			return k
		}
	}
	return Unknown
}

func phraseKind(msg string) Kind {
	low := strings.ToLower(msg)
	for _, p := range phrases {
		if strings.Contains(low, p.text) {
			return p.kind
		}
	}
	return Unknown
}

func isDigit(b byte) bool  { return b >= '0' && b <= '9' }
func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }
