package conntest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry"
)

// Step is one checked item of a Report. Its texts are plain language for a user and never
// hold a secret.
type Step struct {
	Name     registry.StepName
	Verdict  registry.Verdict
	Duration time.Duration
	// Detail says what the step found ("127.0.0.1", "TLS 1.3, certificate for localhost",
	// "bearer token from https://auth.example.com/token").
	Detail string
	// Cause and Fix are set when the step failed or warns: what is wrong and what to do.
	Cause, Fix string
	// Err is the classified failure (*Error): errors.Is(Err, ErrTLSUnknownAuthority) and
	// friends, when Verdict is VerdictFailed. A step skipped because this process cannot run
	// it (the auth step of a token registry without its provider) keeps the reason for the
	// developer (errors.Is(Err, registry.ErrNoProvider)); its Cause and Fix are the user's.
	// Nil otherwise.
	Err error
}

// stepJSON is the wire form of a Step (the CLI's --json).
type stepJSON struct {
	Name              registry.StepName `json:"name"`
	Title             string            `json:"title"`
	Verdict           registry.Verdict  `json:"verdict"`
	DurationMS        float64           `json:"durationMs"`
	Detail            string            `json:"detail,omitempty"`
	Cause             string            `json:"cause,omitempty"`
	Fix               string            `json:"fix,omitempty"`
	Code              string            `json:"code,omitempty"`
	Error             string            `json:"error,omitempty"`
	RetryAfterSeconds float64           `json:"retryAfterSeconds,omitempty"`
}

// MarshalJSON encodes the step with its title, duration in milliseconds, and for a failure
// the error's code (ConnError.Code) and text.
func (s Step) MarshalJSON() ([]byte, error) {
	j := stepJSON{Name: s.Name, Title: s.Name.Title(), Verdict: s.Verdict, DurationMS: float64(s.Duration.Microseconds()) / 1000,
		Detail: s.Detail, Cause: s.Cause, Fix: s.Fix}
	if s.Err != nil {
		j.Error = s.Err.Error()
		if ce, ok := s.Err.(*Error); ok {
			j.Code = ce.Code()
			j.RetryAfterSeconds = ce.RetryAfter.Seconds()
		}
	}
	return json.Marshal(j)
}

// Report is the result of a connection test: the steps in order, each with its verdict.
type Report struct {
	Registry string // the record's name
	ID       string // the record's ID, if saved
	Server   string // host[/path] that was tested
	Steps    []Step
	Duration time.Duration
	// RoundTrips is how many HTTP requests the test made (the registry and its token
	// service): 2 for basic auth, 3 for bearer, one more for the image check.
	RoundTrips int
	// RateLimit is the pull allowance the registry reported on a manifest HEAD (Docker
	// Hub's ratelimit headers); nil when it sent none.
	RateLimit *RateLimit
}

// Step returns the step of that name (nil if the report has none).
func (r *Report) Step(name registry.StepName) *Step {
	for i := range r.Steps {
		if r.Steps[i].Name == name {
			return &r.Steps[i]
		}
	}
	return nil
}

// Failed returns the first failed step, or nil.
func (r *Report) Failed() *Step {
	for i := range r.Steps {
		if r.Steps[i].Verdict == registry.VerdictFailed {
			return &r.Steps[i]
		}
	}
	return nil
}

// OK reports whether no step failed (warnings pass). A test that tested nothing is OK
// too: show Outcome, not OK, to a user.
func (r *Report) OK() bool { return r.Failed() == nil }

// Outcome is what a test found, as a user reads it.
type Outcome string

const (
	// OutcomePassed: the registry answered and took the credentials (or allows anonymous
	// pulls); no step failed.
	OutcomePassed Outcome = "passed"
	// OutcomeFailed: a step failed; Failed says which, with its cause and fix.
	OutcomeFailed Outcome = "failed"
	// OutcomeNotTested: nothing failed, but the test could not try the credentials against
	// the registry (a wildcard server and no image, a token registry whose token source
	// this process cannot reach); the skipped step's Cause and Fix say what the user can do.
	OutcomeNotTested Outcome = "not tested"
)

// Tested reports whether the test found something: a step failed, or the credentials
// were tried against the registry (the auth step ran).
func (r *Report) Tested() bool {
	if r.Failed() != nil {
		return true
	}
	s := r.Step(registry.StepAuth)
	return s != nil && s.Verdict != registry.VerdictSkipped
}

// Outcome is the test's verdict for a user: passed, failed or not tested.
func (r *Report) Outcome() Outcome {
	switch {
	case r.Failed() != nil:
		return OutcomeFailed
	case !r.Tested():
		return OutcomeNotTested
	}
	return OutcomePassed
}

// Untested returns the step that explains why nothing was tested (the first skipped step
// with a Fix for the user, else the first step with a warning), or nil when the test
// tested something.
func (r *Report) Untested() *Step {
	if r.Tested() {
		return nil
	}
	for _, v := range []registry.Verdict{registry.VerdictSkipped, registry.VerdictWarning} {
		for i := range r.Steps {
			if s := &r.Steps[i]; s.Fix != "" && s.Verdict == v {
				return s
			}
		}
	}
	return nil
}

// Warnings returns the steps that passed with a warning.
func (r *Report) Warnings() []Step {
	var out []Step
	for _, s := range r.Steps {
		if s.Verdict == registry.VerdictWarning {
			out = append(out, s)
		}
	}
	return out
}

// Err returns nil when the test passed, else an *Error{Op: "test"} wrapping the first failed
// step's *ConnError, so errors.Is(report.Err(), ErrUnauthorized) works.
func (r *Report) Err() error {
	f := r.Failed()
	if f == nil {
		return nil
	}
	name := r.Registry
	if name == "" {
		name = r.Server
	}
	return &registry.Error{Op: "test", Registry: name, Err: f.Err}
}

// MarshalJSON encodes the report with "ok" and, on failure, the error text.
func (r *Report) MarshalJSON() ([]byte, error) {
	type plain struct {
		Registry   string     `json:"registry"`
		ID         string     `json:"id,omitempty"`
		Server     string     `json:"server"`
		OK         bool       `json:"ok"`
		Outcome    Outcome    `json:"outcome"`
		Error      string     `json:"error,omitempty"`
		DurationMS float64    `json:"durationMs"`
		RoundTrips int        `json:"roundTrips"`
		RateLimit  *RateLimit `json:"rateLimit,omitempty"`
		Steps      []Step     `json:"steps"`
	}
	p := plain{Registry: r.Registry, ID: r.ID, Server: r.Server, OK: r.OK(), Outcome: r.Outcome(), DurationMS: float64(r.Duration.Microseconds()) / 1000,
		RoundTrips: r.RoundTrips, RateLimit: r.RateLimit, Steps: r.Steps}
	if err := r.Err(); err != nil {
		p.Error = err.Error()
	}
	if p.Steps == nil {
		p.Steps = []Step{}
	}
	return json.Marshal(p)
}

// String renders the report as a checklist, one line per step, with the cause and fix
// under a failed or warning step. Every text is bounded and control characters and
// terminal escapes are escaped (internal/untrusted), so it is safe to print:
//
//	registry "team" (127.0.0.1:5000): FAILED
//	  [ok]      fields are valid
//	  [ok]      host name resolves: 127.0.0.1 (12µs)
//	  [FAILED]  credentials accepted (3ms)
//	            cause: the registry refused the username or password
//	            fix:   check the username and password (or token) saved for this registry
func (r *Report) String() string {
	var b strings.Builder
	status := "OK"
	switch {
	case !r.OK():
		status = "FAILED"
	case !r.Tested():
		status = "NOT TESTED"
	case len(r.Warnings()) > 0:
		status = "OK with warnings"
	}
	fmt.Fprintf(&b, "registry %q (%s): %s\n", untrusted.Text(r.Registry), untrusted.Text(r.Server), status)
	for _, s := range r.Steps {
		mark := map[registry.Verdict]string{registry.VerdictOK: "[ok]", registry.VerdictWarning: "[warning]", registry.VerdictFailed: "[FAILED]", registry.VerdictSkipped: "[skipped]"}[s.Verdict]
		fmt.Fprintf(&b, "  %-10s %s", mark, s.Name.Title())
		if s.Detail != "" {
			fmt.Fprintf(&b, ": %s", untrusted.Limit(s.Detail, maxStepTextRunes))
		}
		if s.Verdict != registry.VerdictSkipped {
			fmt.Fprintf(&b, " (%s)", s.Duration.Round(time.Microsecond))
		}
		b.WriteByte('\n')
		if s.Cause != "" {
			fmt.Fprintf(&b, "             cause: %s\n", untrusted.Limit(s.Cause, maxStepTextRunes))
		}
		if s.Fix != "" {
			fmt.Fprintf(&b, "             fix:   %s\n", untrusted.Limit(s.Fix, maxStepTextRunes))
		}
	}
	return b.String()
}
