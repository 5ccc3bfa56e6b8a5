package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/controller"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

func TestMain(m *testing.M) { testenv.KubeletMain(m) }

// node is one test's node and namespace on the shared control plane.
type node struct {
	t       *testing.T
	kube    *testenv.Kube
	kubelet *testenv.Kubelet
	ns      string
	label   map[string]string // the namespace's own label: the controller's selector
	seq     *atomic.Int64     // pods made on the node, shared by its subtests
}

// in returns the node for a subtest of its test: failures go to t.
func (n *node) in(t *testing.T) *node {
	c := *n
	c.t = t
	return &c
}

// startNode starts a kubelet for t and makes t's namespace, with the ServiceAccounts
// "plain" (never patched: the negative controls name it) and "builder" (the one the
// controller patches).
func startNode(t *testing.T, opts ...testenv.KubeletOption) *node {
	t.Helper()
	k := testenv.StartKubeForKubelet(t)
	n := &node{t: t, kube: k, kubelet: testenv.StartKubelet(t, k, opts...), seq: new(atomic.Int64)}
	key, value := k.Selector(t)
	n.label = map[string]string{key: value}
	n.ns = k.LabeledNamespaces(t, "e2e", 1, n.label)[0]
	for _, sa := range []string{"plain", "builder"} {
		if _, err := k.PutServiceAccount(context.Background(), n.ns, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}); err != nil {
			t.Fatalf("ServiceAccount %s: %v", sa, err)
		}
	}
	return n
}

// runController runs regcred's controller over cat for this node's namespace, patching the
// "builder" ServiceAccount, until the test ends; it returns the name of rec's pull Secret
// once "builder" lists it.
func (n *node) runController(cat *catalog.Catalog, rec registry.Registry) (secret string) {
	n.t.Helper()
	ctrl, err := controller.New(cat, n.kube.Client,
		controller.WithNamespaceSelector(labels.SelectorFromSet(n.label)),
		controller.WithServiceAccounts("builder"))
	if err != nil {
		n.t.Fatalf("controller.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ctrl.Run(ctx) }()
	n.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && ctx.Err() == nil {
			n.t.Errorf("controller.Run: %v", err)
		}
	})
	secret = kube.DefaultSecretName(rec)
	n.awaitServiceAccount("builder", func(refs []corev1.LocalObjectReference) bool {
		return slices.Contains(refs, corev1.LocalObjectReference{Name: secret})
	})
	return secret
}

// newCatalog returns a Catalog over a memory store, closed when the test ends.
func newCatalog(t *testing.T) *catalog.Catalog {
	cat := catalog.New(memory.New())
	t.Cleanup(func() { cat.Close() })
	return cat
}

// pod describes one pod of a test: its ServiceAccount and the Secrets it names itself.
type pod struct {
	image          string
	serviceAccount string
	pullSecrets    []string
}

// run creates the pod on the node and returns the kubelet's verdict on its pull; a pod
// that pulled must then run (the image is the harness's pause program).
func (n *node) run(p pod) (testenv.Pull, *corev1.Pod) {
	n.t.Helper()
	spec := n.kubelet.Pod(fmt.Sprintf("p%d", n.seq.Add(1)), p.image)
	spec.Spec.ServiceAccountName = p.serviceAccount
	for _, s := range p.pullSecrets {
		spec.Spec.ImagePullSecrets = append(spec.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	created, err := n.kube.Client.CoreV1().Pods(n.ns).Create(ctx, spec, metav1.CreateOptions{})
	if err != nil {
		n.t.Fatalf("create pod %s: %v", spec.Name, err)
	}
	verdict, err := n.kubelet.AwaitPull(ctx, n.ns, spec.Name)
	if err != nil {
		n.t.Fatalf("%v\nkubelet log:\n%s", err, tail(n.kubelet.Logs()))
	}
	if verdict.Pulled {
		if _, err := n.kubelet.AwaitRunning(ctx, n.ns, spec.Name); err != nil {
			n.t.Fatalf("pod %s pulled %s but does not run: %v", spec.Name, p.image, err)
		}
	}
	return verdict, created
}

// mustPull asserts the kubelet pulled p's image.
func (n *node) mustPull(what string, p pod) *corev1.Pod {
	n.t.Helper()
	v, created := n.run(p)
	if !v.Pulled {
		n.t.Fatalf("%s: the kubelet did not pull %s: %s", what, p.image, v.Message)
	}
	return created
}

// mustFail asserts the kubelet's pull of p's image failed with a message containing want.
func (n *node) mustFail(what string, p pod, want string) {
	n.t.Helper()
	v, _ := n.run(p)
	if v.Pulled {
		n.t.Fatalf("%s: the kubelet pulled %s (%s); the control must fail", what, p.image, v.Message)
	}
	if !strings.Contains(v.Message, want) {
		n.t.Fatalf("%s: the pull failed, but not with %q: %s", what, want, v.Message)
	}
}

// byName lists and watches the object of resource named name in the node's namespace.
func (n *node) byName(resource, name string) *cache.ListWatch {
	return cache.NewFilteredListWatchFromClient(n.kube.Client.CoreV1().RESTClient(), resource, n.ns,
		func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
		})
}

// awaitServiceAccount waits until the ServiceAccount's imagePullSecrets satisfy ok.
func (n *node) awaitServiceAccount(sa string, ok func([]corev1.LocalObjectReference) bool) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lw := n.byName("serviceaccounts", sa)
	var last []corev1.LocalObjectReference
	_, err := watchtools.UntilWithSync(ctx, lw, &corev1.ServiceAccount{}, nil, func(ev watch.Event) (bool, error) {
		s, isSA := ev.Object.(*corev1.ServiceAccount)
		if !isSA || ev.Type == watch.Deleted {
			return false, nil
		}
		last = s.ImagePullSecrets
		return ok(s.ImagePullSecrets), nil
	})
	if err != nil {
		n.t.Fatalf("ServiceAccount %s/%s: imagePullSecrets %v: %v", n.ns, sa, last, err)
	}
}

// awaitSecret waits until the Secret's docker config satisfies ok (nil: the Secret is
// gone).
func (n *node) awaitSecret(secret string, ok func(auths map[string]dockerAuth) bool) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lw := n.byName("secrets", secret)
	_, err := watchtools.UntilWithSync(ctx, lw, &corev1.Secret{}, func(store cache.Store) (bool, error) {
		return len(store.List()) == 0 && ok(nil), nil
	}, func(ev watch.Event) (bool, error) {
		s, isSecret := ev.Object.(*corev1.Secret)
		if !isSecret {
			return false, nil
		}
		if ev.Type == watch.Deleted {
			return ok(nil), nil
		}
		var cfg struct {
			Auths map[string]dockerAuth `json:"auths"`
		}
		if err := json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &cfg); err != nil {
			return false, err
		}
		return cfg.Auths != nil && ok(cfg.Auths), nil
	})
	if err != nil {
		n.t.Fatalf("Secret %s/%s: %v", n.ns, secret, err)
	}
}

type dockerAuth struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// trustCA writes containerd's hosts.toml for host with caPEM as its CA (what a node's
// operator does for a private CA; TestNodeConfiguration has nodeconfig generate it).
func (n *node) trustCA(host string, caPEM []byte) { n.mirrorTo(host, host, caPEM) }

// push writes the harness's pause image (a program that runs until SIGTERM) to ref, as
// user with pass (both "" for none), trusting caPEM (nil: plain http).
func push(t *testing.T, ref, user, pass string, caPEM []byte) string {
	t.Helper()
	var nopts []name.Option
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	if caPEM == nil {
		nopts = append(nopts, name.Insecure)
	} else {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	r, err := name.ParseReference(ref, nopts...)
	if err != nil {
		t.Fatal(err)
	}
	auth := authn.Anonymous
	if user != "" {
		auth = authn.FromConfig(authn.AuthConfig{Username: user, Password: pass})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := remote.Write(r, testenv.PauseImage(t), remote.WithAuth(auth), remote.WithTransport(tr), remote.WithContext(ctx)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref
}

func tail(s string) string {
	const max = 6000
	if len(s) <= max {
		return s
	}
	return "..." + s[len(s)-max:]
}
