package registry

import (
	"context"
	"slices"
	"time"
)

// Health is what a platform shows next to a registry in its table and alerts on: the last
// connection test, the token of a token kind, and which consumers use the registry. The
// library records it as it works (Catalog.Test, the Catalog's providers, the consumers that
// report their use) and a HealthStore keeps it beside the record, never bumping the
// record's version: a health write flushes no provider cache and makes no form's save
// conflict. It never holds a secret: its texts are error messages of this library, which
// redact, bounded in length.
type Health struct {
	// Test is the last connection test, or nil when none ran since the record was saved.
	Test *TestHealth `json:"test,omitempty"`
	// Token is the credential state of a token kind (ECR, ACR with a tenant, Google,
	// Kubernetes), or nil for static kinds and before the first fetch.
	Token *TokenHealth `json:"token,omitempty"`
	// Consumers lists what uses the registry, sorted by kind and name.
	Consumers []Consumer `json:"consumers,omitempty"`
	// CredentialsExpire is the end of life of the static credential (a PAT, a robot
	// account) as the record says (Registry.CredentialsExpire). Catalog.Health fills it
	// from the record; stores do not keep it.
	CredentialsExpire time.Time `json:"credentialsExpire,omitzero"`
}

// TestHealth is the outcome of the last connection test.
type TestHealth struct {
	Verdict Verdict   `json:"verdict"`         // the worst verdict of the steps run; skipped: nothing was tested
	Step    StepName  `json:"step,omitempty"`  // the failed (or warning) step; "" when all passed
	Cause   string    `json:"cause,omitempty"` // what is wrong, in the user's words
	At      time.Time `json:"at"`              // when the test finished
	Version int64     `json:"version"`         // the record version that was tested
}

// TokenHealth is the state of a token kind's credentials.
type TokenHealth struct {
	ExpiresAt time.Time `json:"expiresAt,omitzero"` // of the token now served; zero: never
	Refreshed time.Time `json:"refreshed,omitzero"` // the last successful fetch
	Error     string    `json:"error,omitempty"`    // the last failed fetch, cleared by a success
	ErrorAt   time.Time `json:"errorAt,omitzero"`
}

// Consumer is one user of a registry: a Kubernetes namespace, a Swarm service, a compose
// project, the platform's own Keychain.
type Consumer struct {
	Kind string    `json:"kind"` // ConsumerNamespace, ConsumerSwarmService, ConsumerComposeProject, or the platform's own
	Name string    `json:"name"`
	Seen time.Time `json:"seen"` // when the consumer last reported it
}

// The consumer kinds of the library's adapters.
const (
	ConsumerNamespace      = "namespace"
	ConsumerSwarmService   = "swarm-service"
	ConsumerComposeProject = "compose-project"
)

// Clone returns a deep copy.
func (h Health) Clone() Health {
	out := h
	if h.Test != nil {
		t := *h.Test
		out.Test = &t
	}
	if h.Token != nil {
		t := *h.Token
		out.Token = &t
	}
	out.Consumers = slices.Clone(h.Consumers)
	return out
}

// IsZero reports whether nothing is recorded.
func (h Health) IsZero() bool {
	return h.Test == nil && h.Token == nil && len(h.Consumers) == 0 && h.CredentialsExpire.IsZero()
}

// HealthStore is the optional part of a Store that keeps each record's Health beside it.
// A Store without it keeps working: the Catalog then keeps health in memory, per process.
//
// Health writes never change the record, its version or its Updated time, and emit no
// change on the Watcher feed. Deleting a record deletes its health; replacing a record
// (Put, Rewrite) keeps it. Implementations are safe for concurrent use and return copies.
type HealthStore interface {
	// Health returns the health of the record id: the zero Health when nothing was
	// recorded, an error wrapping ErrNotFound when there is no such record.
	Health(ctx context.Context, id string) (Health, error)
	// ListHealth returns the recorded health of every record that has any, by ID.
	ListHealth(ctx context.Context) (map[string]Health, error)
	// UpdateHealth applies update to the health of the record id atomically (against
	// every handle on the same data): update gets the current value and changes it in
	// place; it may run more than once and must not block. It fails with ErrNotFound when
	// there is no such record.
	UpdateHealth(ctx context.Context, id string, update func(*Health)) error
}
