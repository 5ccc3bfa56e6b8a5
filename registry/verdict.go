package registry

// Verdict is the outcome of one step of a connection test.
type Verdict string

const (
	// VerdictOK: the step passed.
	VerdictOK Verdict = "ok"
	// VerdictWarning: the step passed with something the user should know (TLS verification
	// skipped in insecure mode, plain HTTP, a certificate about to expire, a wildcard server).
	VerdictWarning Verdict = "warning"
	// VerdictFailed: the step failed; Step.Cause and Step.Fix say why and what to do.
	VerdictFailed Verdict = "failed"
	// VerdictSkipped: the step did not run (not requested, not applicable, or an earlier
	// step failed).
	VerdictSkipped Verdict = "skipped"
)

// StepName names a step of a connection test. The steps run in the order of the constants.
type StepName string

const (
	StepFields StepName = "fields" // the record passes its kind's schema
	StepDNS    StepName = "dns"    // the host name resolves
	StepTCP    StepName = "tcp"    // a TCP connection opens
	StepTLS    StepName = "tls"    // the TLS handshake passes under the record's TLS mode
	StepPing   StepName = "ping"   // GET /v2/ answers like a registry, with a valid challenge
	StepAuth   StepName = "auth"   // the provider's credentials pass the challenge
	StepImage  StepName = "image"  // optional: the image exists and may be pulled
	StepPush   StepName = "push"   // optional: the repository accepts pushes
)

// Steps lists the step names in the order a test runs them.
func Steps() []StepName {
	return []StepName{StepFields, StepDNS, StepTCP, StepTLS, StepPing, StepAuth, StepImage, StepPush}
}

// Title is a short human label for the step, as a checklist shows it.
func (s StepName) Title() string {
	switch s {
	case StepFields:
		return "fields are valid"
	case StepDNS:
		return "host name resolves"
	case StepTCP:
		return "TCP connection opens"
	case StepTLS:
		return "TLS handshake"
	case StepPing:
		return "registry API answers (GET /v2/)"
	case StepAuth:
		return "credentials accepted"
	case StepImage:
		return "image can be pulled"
	case StepPush:
		return "repository accepts pushes"
	}
	return string(s)
}
