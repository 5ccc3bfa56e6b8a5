package kubesa

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regcred/regcred/registry"
)

// Defaults and limits.
const (
	// DefaultUsername goes with the token in basic auth: the Deckhouse payload registry
	// (seed 004) documents username "token" and the ServiceAccount token as the password.
	DefaultUsername = "token"
	// DefaultLifetime is the requested token lifetime (seed 004: 24 hours).
	DefaultLifetime = 24 * time.Hour
	// MinLifetime is the shortest lifetime the TokenRequest API accepts (600 s).
	MinLifetime = 10 * time.Minute
)

// Form is how the ServiceAccount token is presented to the registry.
type Form int

const (
	// Basic sends the token as the password of basic auth (username DefaultUsername or
	// WithUsername): what `docker login -u token -p $(kubectl create token SA)` stores and
	// what token-authenticating registries such as Deckhouse's payload registry expect.
	// The default.
	Basic Form = iota
	// Bearer sends the token as a registry (bearer) token, for registries that accept the
	// Kubernetes token directly on /v2/ (docker config "registrytoken").
	Bearer
)

// Option configures New.
type Option func(*options)

type options struct {
	audiences []string
	lifetime  time.Duration
	username  string
	form      Form
	name      string
}

// WithAudiences sets the token's audiences (default: none, the API server's own). Set the
// audience the registry validates.
func WithAudiences(aud ...string) Option {
	return func(o *options) {
		o.audiences = nil
		for _, a := range aud {
			if a != "" {
				o.audiences = append(o.audiences, a)
			}
		}
	}
}

// WithLifetime sets the requested lifetime (default 24 h, at least MinLifetime). The API
// server may shorten it (--service-account-max-token-expiration); the returned expiry wins.
func WithLifetime(d time.Duration) Option { return func(o *options) { o.lifetime = d } }

// WithUsername sets the basic-auth username (default DefaultUsername).
func WithUsername(u string) Option { return func(o *options) { o.username = u } }

// WithForm chooses Basic (default) or Bearer.
func WithForm(f Form) Option { return func(o *options) { o.form = f } }

// WithName sets the registry name used in error texts (never a secret).
func WithName(name string) Option { return func(o *options) { o.name = name } }

// Provider requests ServiceAccount tokens through the TokenRequest API
// (POST /api/v1/namespaces/NS/serviceaccounts/NAME/token). It does not cache: wrap it with
// providers/cache. Safe for concurrent use (as the client is).
type Provider struct {
	client    kubernetes.Interface
	namespace string
	sa        string
	o         options
}

var _ registry.Provider = (*Provider)(nil)

var dns1123RE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
var dns1123SubRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// ParseRef splits a record's "namespace/name" serviceAccount field. A malformed value is a
// *registry.FieldError for "serviceAccount".
func ParseRef(ref string) (namespace, name string, err error) {
	ns, n, ok := strings.Cut(ref, "/")
	if !ok || !dns1123RE.MatchString(ns) || len(ns) > 63 || !dns1123SubRE.MatchString(n) || len(n) > 253 {
		return "", "", &registry.FieldError{Field: "serviceAccount", Reason: "is not namespace/name (two lowercase DNS names)", Hint: "e.g. payload/my-pull-sa"}
	}
	return ns, n, nil
}

// New returns the provider for the ServiceAccount namespace/name, using client (the
// caller's: in-cluster config, a kubeconfig, or a fake). Bad inputs are
// *registry.FieldError naming the record field.
func New(client kubernetes.Interface, namespace, name string, opts ...Option) (*Provider, error) {
	o := options{lifetime: DefaultLifetime, username: DefaultUsername}
	for _, opt := range opts {
		opt(&o)
	}
	if _, _, err := ParseRef(namespace + "/" + name); err != nil {
		return nil, err
	}
	if o.lifetime < MinLifetime {
		return nil, &registry.FieldError{Field: "expirationSeconds", Reason: fmt.Sprintf("%v is shorter than the 600 s the TokenRequest API accepts", o.lifetime)}
	}
	if client == nil {
		return nil, fmt.Errorf("kubesa: %w: no Kubernetes client (pass one, e.g. providers.WithKubeClient)", registry.ErrInvalid)
	}
	if o.form == Basic && o.username == "" {
		o.username = DefaultUsername
	}
	return &Provider{client: client, namespace: namespace, sa: name, o: o}, nil
}

// String describes the provider.
func (p *Provider) String() string {
	s := "kubernetes serviceaccount " + p.namespace + "/" + p.sa
	if len(p.o.audiences) > 0 {
		s += " (audience " + strings.Join(p.o.audiences, ",") + ")"
	}
	return s
}

// GoString describes the provider for %#v.
func (p *Provider) GoString() string { return "kubesa.Provider(" + p.String() + ")" }

// Credentials requests a token and returns it in the chosen form with the expiry from
// status.expirationTimestamp.
func (p *Provider) Credentials(ctx context.Context) (registry.Credentials, error) {
	secs := int64(p.o.lifetime / time.Second)
	req := &authv1.TokenRequest{Spec: authv1.TokenRequestSpec{Audiences: p.o.audiences, ExpirationSeconds: &secs}}
	out, err := p.client.CoreV1().ServiceAccounts(p.namespace).CreateToken(ctx, p.sa, req, metav1.CreateOptions{})
	if err != nil {
		return registry.Credentials{}, p.fail(p.classify(ctx, err))
	}
	if out == nil || out.Status.Token == "" {
		return registry.Credentials{}, p.fail(fmt.Errorf("serviceaccount %s/%s: the TokenRequest answer has no token: %w", p.namespace, p.sa, registry.ErrUnavailable))
	}
	exp := out.Status.ExpirationTimestamp.Time
	if exp.IsZero() {
		return registry.Credentials{}, p.fail(fmt.Errorf("serviceaccount %s/%s: the TokenRequest answer has no expirationTimestamp: %w", p.namespace, p.sa, registry.ErrUnavailable))
	}
	c := registry.Credentials{ExpiresAt: exp.UTC()}
	if p.o.form == Bearer {
		c.RegistryToken = registry.Secret(out.Status.Token)
	} else {
		c.Username, c.Password = p.o.username, registry.Secret(out.Status.Token)
	}
	return c, nil
}

func (p *Provider) fail(err error) error {
	return &registry.Error{Op: "refresh", Registry: p.o.name, Err: err}
}

// classify maps API errors. The API server's messages name objects, never tokens, but
// only the reason and the object are quoted.
func (p *Provider) classify(ctx context.Context, err error) error {
	ref := p.namespace + "/" + p.sa
	code := apierrors.ReasonForError(err)
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("serviceaccount %s: %w; it was deleted or never created: create it (kubectl create serviceaccount %s -n %s) or fix the record's serviceAccount",
			ref, registry.ErrNotFound, p.sa, p.namespace)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("serviceaccount %s: creating a token is forbidden: %w; grant the caller create on serviceaccounts/token in namespace %s",
			ref, registry.ErrForbidden, p.namespace)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("serviceaccount %s: the API server rejected regcred's own credentials: %w; check its kubeconfig or in-cluster token", ref, registry.ErrUnauthorized)
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		return fmt.Errorf("serviceaccount %s: the API server refused the TokenRequest (%s): %w; check audience and expirationSeconds", ref, code, registry.ErrInvalid)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || ctx.Err() != nil:
		cause := ctx.Err()
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		return fmt.Errorf("serviceaccount %s: the API server did not answer in time: %w: %w", ref, registry.ErrUnavailable, cause)
	case apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err):
		return fmt.Errorf("serviceaccount %s: the API server is unavailable (%s): %w; it will be retried", ref, code, registry.ErrUnavailable)
	}
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		return fmt.Errorf("serviceaccount %s: TokenRequest failed (%s, HTTP %d): %w", ref, code, se.Status().Code, registry.ErrUnavailable)
	}
	return fmt.Errorf("serviceaccount %s: cannot reach the API server or read its answer: %w", ref, registry.ErrUnavailable)
}
