package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/registry"
)

// Labels and annotations regcred puts on the Secrets it manages.
const (
	// LabelManagedBy marks a Secret as regcred's; only Secrets with this label (and the
	// value WithManagedBy sets, "regcred" by default) are ever updated or pruned.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// DefaultManagedBy is LabelManagedBy's default value.
	DefaultManagedBy = "regcred"
	// LabelRegistryID names the registry a Secret was built from (its ID, as a label value).
	LabelRegistryID = "regcred.io/registry-id"
	// LegacyAnnotationHash is the annotation earlier versions wrote: an unsalted sha256 of
	// the .dockerconfigjson, which anyone allowed to describe the Secret could use to guess
	// a weak password offline. regcred no longer writes it; a Syncer removes it from the
	// Secrets it manages (one update each). Whether a Secret is current is decided by
	// comparing its data with the desired data, which the Syncer reads anyway.
	LegacyAnnotationHash = "regcred.io/hash"
	// AnnotationExpiresAt is when the Secret's credentials expire (RFC 3339, UTC); absent
	// for credentials that do not expire.
	AnnotationExpiresAt = "regcred.io/expires-at"
	// AnnotationRegistry is the registry's name, for people reading the Secret.
	AnnotationRegistry = "regcred.io/registry"
)

// DefaultSecretName is the Secret name of a registry unless WithSecretName says otherwise:
// "registry-secret-{id}" as in the product docs, the ID (else the name) lowercased with
// every character a Secret name cannot hold replaced by '-'.
func DefaultSecretName(r registry.Registry) string {
	id := r.ID
	if id == "" {
		id = r.Name
	}
	return "registry-secret-" + dnsLabel(id, 63-len("registry-secret-"))
}

var nonDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsLabel makes s a DNS label fragment of at most max characters.
func dnsLabel(s string, max int) string {
	s = nonDNS.ReplaceAllString(strings.ToLower(s), "-")
	if len(s) > max {
		sum := sha256.Sum256([]byte(s))
		s = s[:max-9] + "-" + hex.EncodeToString(sum[:4])
	}
	s = strings.Trim(s, "-")
	if s == "" {
		s = "unnamed"
	}
	return s
}

var labelValueRE = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`)

// labelValue makes an ID a valid label value (63 characters of [A-Za-z0-9-_.]).
func labelValue(id string) string {
	if len(id) <= 63 && labelValueRE.MatchString(id) {
		return id
	}
	return dnsLabel(id, 63)
}

// NewSecret builds the pull Secret name in namespace from an encoded docker config:
// type kubernetes.io/dockerconfigjson, regcred's managed-by label and, when expiresAt is
// not zero, the expires-at annotation. registryID and registryName label and annotate it
// when not empty. Nothing derived from the credentials is written outside the data: no
// hash of the secret, salted or not.
func NewSecret(namespace, name string, dockerConfigJSON []byte, expiresAt time.Time, registryID, registryName string) *corev1.Secret {
	s := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   namespace,
			Labels:      map[string]string{LabelManagedBy: DefaultManagedBy},
			Annotations: map[string]string{},
		},
		Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: dockerConfigJSON},
	}
	if registryID != "" {
		s.Labels[LabelRegistryID] = labelValue(registryID)
	}
	if registryName != "" {
		s.Annotations[AnnotationRegistry] = registryName
	}
	if !expiresAt.IsZero() {
		s.Annotations[AnnotationExpiresAt] = expiresAt.UTC().Format(time.RFC3339)
	}
	return s
}

// Build resolves r's credentials (through WithProviderFactory's factory, default
// registry.StaticFactory) and returns its pull Secret for namespace. A registry without
// credentials (public, or a provider that answers anonymous) has no Secret: the error wraps
// registry.ErrNotFound. A redacted view (r.IsRedacted(), as the Catalog lists records) works
// with the Catalog's factory (Catalog.ProviderFactory resolves it by ID) and is refused by
// every other factory with an error wrapping registry.ErrRedacted.
func Build(ctx context.Context, namespace string, r registry.Registry, opts ...Option) (*corev1.Secret, error) {
	o := newOptions(opts)
	p, err := o.factory(r)
	if err != nil {
		return nil, &registry.Error{Op: "build secret", Registry: r.Name, Err: err}
	}
	d, err := o.desired(ctx, r, p)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, &registry.Error{Op: "build secret", Registry: r.Name, Err: fmt.Errorf("%w: the registry has no credentials (public): no pull secret needed", registry.ErrNotFound)}
	}
	return d.secret(namespace, o), nil
}

// BuildCombined returns one pull Secret named name holding the credentials of every registry
// in regs (public ones left out), for workloads that take a single imagePullSecret. Two
// registries with the same server are an error wrapping registry.ErrConflict; a redacted
// view among regs, one wrapping registry.ErrRedacted.
func BuildCombined(ctx context.Context, namespace, name string, regs []registry.Registry, opts ...Option) (*corev1.Secret, error) {
	o := newOptions(opts)
	cfg, exp, err := dockerconfig.FromRegistries(ctx, regs, o.factory, o.configOpts...)
	if err != nil {
		return nil, err
	}
	b, err := cfg.Marshal()
	if err != nil {
		return nil, err
	}
	s := NewSecret(namespace, name, b, exp, "", "")
	s.Labels[LabelManagedBy] = o.managedBy
	return s, nil
}

// refuseRedacted is the error for a redacted view given where real credentials are needed.
func refuseRedacted(op string, r registry.Registry) error {
	return &registry.Error{Op: op, Registry: r.Name, Err: fmt.Errorf("%w: pass the full record (the Catalog's full-record read), not a redacted view", registry.ErrRedacted)}
}

// desiredSecret is one registry's resolved pull secret content, shared by every namespace.
type desiredSecret struct {
	reg     registry.Registry
	name    string
	data    []byte
	expires time.Time
	refresh time.Time // when the provider's next call fetches anew (registry.RefreshAt)
}

func (d *desiredSecret) secret(namespace string, o *options) *corev1.Secret {
	s := NewSecret(namespace, d.name, d.data, d.expires, d.reg.ID, d.reg.Name)
	s.Labels[LabelManagedBy] = o.managedBy
	return s
}

// desired resolves r's credentials through p. It returns nil, nil for a registry without
// credentials.
func (o *options) desired(ctx context.Context, r registry.Registry, p registry.Provider) (*desiredSecret, error) {
	fixed := func(registry.Registry) (registry.Provider, error) { return p, nil }
	cfg, exp, err := dockerconfig.FromRegistries(ctx, []registry.Registry{r}, fixed, o.configOpts...)
	if err != nil {
		return nil, err
	}
	if len(cfg.Auths) == 0 {
		if srv, err := r.ServerInfo(); err == nil && srv.Wildcard {
			// Not public: the docker config cannot hold a pattern. Failing keeps its Secrets.
			return nil, &registry.Error{Op: "build secret", Registry: r.Name, Err: fmt.Errorf("%w: server %s is a wildcard; name the concrete hosts with WithDockerConfigOptions(dockerconfig.WithHost(...)) (CLI: --host REGISTRY=HOST)", registry.ErrInvalid, srv)}
		}
		return nil, nil
	}
	b, err := cfg.Marshal()
	if err != nil {
		return nil, &registry.Error{Op: "build secret", Registry: r.Name, Err: err}
	}
	return &desiredSecret{reg: r, name: o.secretName(r), data: b, expires: exp,
		refresh: registry.RefreshAt(p, registry.Credentials{ExpiresAt: exp})}, nil
}

// Owned reports whether s carries the managed-by label with value managedBy ("" means
// DefaultManagedBy).
func Owned(s *corev1.Secret, managedBy string) bool {
	if managedBy == "" {
		managedBy = DefaultManagedBy
	}
	return s != nil && s.Labels[LabelManagedBy] == managedBy
}

// ExpiresAt reads a Secret's expires-at annotation; zero when absent or malformed.
func ExpiresAt(s *corev1.Secret) time.Time {
	t, err := time.Parse(time.RFC3339, s.Annotations[AnnotationExpiresAt])
	if err != nil {
		return time.Time{}
	}
	return t
}
