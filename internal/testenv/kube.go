package testenv

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// EnvKubeAPIServer names the kube-apiserver binary to use instead of the cached build.
const EnvKubeAPIServer = "REGCRED_KUBE_APISERVER"

// EnvKubeControllerManager names the kube-controller-manager binary to use instead of the
// cached build (.ci/kube-apiserver.sh kube-controller-manager prints its path).
const EnvKubeControllerManager = "REGCRED_KUBE_CONTROLLER_MANAGER"

// KubeVersion is the kube-apiserver version .ci/kube-apiserver.sh builds and caches.
const KubeVersion = "1.31.4"

// The users of the token file.
const (
	// KubeAdminUser is in system:masters: RBAC allows everything.
	KubeAdminUser = "regcred-admin"
	// KubeLimitedUser is authenticated but bound to no role: RBAC forbids it every write.
	KubeLimitedUser = "regcred-limited"
	// KubeIssuer is the service-account token issuer (--service-account-issuer), and the
	// default audience of tokens from the TokenRequest API.
	KubeIssuer = "https://kubernetes.default.svc.cluster.local"
)

// Kube is the test binary's Kubernetes control plane: Debian's etcd 3.4, a kube-apiserver
// and a kube-controller-manager (both built from k8s.io/kubernetes by .ci/kube-apiserver.sh),
// on loopback, under a temporary directory. The API server authenticates with a static
// token file (an admin in system:masters and a limited user without any role binding),
// authorizes with RBAC, signs ServiceAccount tokens with a key pair generated here
// (TokenRequest and TokenReview work), and serves TLS with a certificate from its own CA.
//
// It behaves like a cluster where namespaces are concerned: the NamespaceLifecycle
// admission plugin is on (writes into a terminating or missing namespace are refused), the
// ValidatingAdmissionPolicy plugin enforces the policies tests apply, and
// the controller-manager runs the serviceaccount, serviceaccount-token and namespace
// controllers, so a new namespace gets its "default" ServiceAccount (within a second) and a
// deleted one empties and goes away. Without a kube-controller-manager binary the control
// plane still starts (ControllerManager is false) and tests that need one call
// RequireControllerManager. Tests that want a ServiceAccount with content use
// PutServiceAccount, which tolerates the one the controller made. The ServiceAccount
// admission plugin stays disabled so pods need no token.
//
// One control plane serves every test of a test binary (it takes seconds to start); TestMain
// must hand control to KubeMain, which stops it. Tests share it: each creates its own
// namespaces (Namespace gives a unique one; Selector and LabeledNamespaces give a test its
// own label selector, so namespaces another test left terminating never match it) and never
// assumes an empty cluster.
type Kube struct {
	// Config is the admin's client config (QPS and Burst high: the harness does not
	// throttle). Copy it (rest.CopyConfig) before changing it.
	Config *rest.Config
	// Client is an admin clientset over Config.
	Client kubernetes.Interface
	// URL is the API server's address, https://127.0.0.1:PORT.
	URL string
	// CAPEM is the CA that signed the serving certificate.
	CAPEM []byte
	// AdminToken and LimitedToken are the bearer tokens of KubeAdminUser and KubeLimitedUser.
	AdminToken, LimitedToken string
	// ServiceAccountKey is the public key tokens are signed with (PEM).
	ServiceAccountKey []byte
	// ControllerManager reports whether a kube-controller-manager runs.
	ControllerManager bool

	dir       string
	etcd      *exec.Cmd
	apiserver *exec.Cmd
	kcm       *exec.Cmd
	etcdDone  chan error
	apiDone   chan error
	kcmDone   chan error
	etcdLog   *syncBuffer
	apiLog    *syncBuffer
	kcmLog    *syncBuffer

	nsMu  sync.Mutex
	nsSeq int
}

var kubeShared = &shared[*Kube]{name: "the Kubernetes control plane", stop: func(k *Kube) error { k.stop(); return nil }}

// KubeMain runs the tests of a package that uses StartKube and then stops the shared control
// plane. Call it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.KubeMain(m) }
func KubeMain(m *testing.M) { kubeShared.main(m) }

// KubeAPIServerPath returns the kube-apiserver binary: $REGCRED_KUBE_APISERVER, else the
// cache .ci/kube-apiserver.sh fills ($REGCRED_CACHE, else $XDG_CACHE_HOME/regcred, else
// ~/.cache/regcred). It returns "" when there is none.
func KubeAPIServerPath() string { return kubeBinary(EnvKubeAPIServer, "kube-apiserver") }

// KubeControllerManagerPath returns the kube-controller-manager binary:
// $REGCRED_KUBE_CONTROLLER_MANAGER, else the cache beside kube-apiserver's. It returns ""
// when there is none.
func KubeControllerManagerPath() string {
	return kubeBinary(EnvKubeControllerManager, "kube-controller-manager")
}

func kubeBinary(env, name string) string {
	if p := os.Getenv(env); p != "" {
		if isExecutable(p) {
			return p
		}
		return ""
	}
	cache := os.Getenv("REGCRED_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return ""
			}
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "regcred")
	}
	p := filepath.Join(cache, name+"-v"+KubeVersion)
	if isExecutable(p) {
		return p
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// StartKube returns the test binary's control plane, starting it on first use. A missing
// etcd or kube-apiserver is Unavailable (a skip on a laptop, a failure in CI); a control
// plane that does not come up fails the test with its log. When the package's TestMain
// calls KubeMain, one control plane serves the whole test binary; otherwise each call
// starts one for the calling test and stops it when the test ends (seconds each).
func StartKube(t testing.TB) *Kube {
	t.Helper()
	etcd, apiserver, kcm := controlPlaneBinaries(t, false)
	return kubeShared.get(t, func() (*Kube, error) { return startKube(etcd, apiserver, kcm, false) })
}

// controlPlaneBinaries finds etcd, kube-apiserver and kube-controller-manager; a missing
// one is Unavailable (kube-controller-manager only when needKCM: it is optional for
// StartKube, which then runs without one).
func controlPlaneBinaries(t testing.TB, needKCM bool) (etcd, apiserver, kcm string) {
	t.Helper()
	etcd = LookPath(t, "etcd", "etcd-server")
	if apiserver = KubeAPIServerPath(); apiserver == "" {
		Unavailable(t, "kube-apiserver", "run .ci/kube-apiserver.sh, or set "+EnvKubeAPIServer)
	}
	if kcm = KubeControllerManagerPath(); kcm == "" && needKCM {
		Unavailable(t, "kube-controller-manager", "run .ci/kube-apiserver.sh kube-controller-manager, or set "+EnvKubeControllerManager)
	}
	return etcd, apiserver, kcm
}

// RequireControllerManager reports a missing kube-controller-manager as Unavailable (a
// skip on a laptop, a failure in CI): the test needs default ServiceAccounts or namespace
// deletion that finishes.
func (k *Kube) RequireControllerManager(t testing.TB) {
	t.Helper()
	if !k.ControllerManager {
		Unavailable(t, "kube-controller-manager", "run .ci/kube-apiserver.sh kube-controller-manager, or set "+EnvKubeControllerManager)
	}
}

func startKube(etcdBin, apiBin, kcmBin string, serviceAccountAdmission bool) (_ *Kube, err error) {
	dir, err := os.MkdirTemp("", "regcred-kube-")
	if err != nil {
		return nil, err
	}
	k := &Kube{dir: dir, etcdLog: &syncBuffer{}, apiLog: &syncBuffer{}, kcmLog: &syncBuffer{}}
	defer func() {
		if err != nil {
			k.stop()
		}
	}()
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}

	// etcd on two free loopback ports.
	clientPort, err := freePort()
	if err != nil {
		return nil, err
	}
	peerPort, err := freePort()
	if err != nil {
		return nil, err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	k.etcd = exec.Command(etcdBin,
		"--name=regcred",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL,
		"--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=regcred="+peerURL,
		"--unsafe-no-fsync", // a throwaway store: speed over durability
		"--log-level=warn",
	)
	k.etcd.Stdout, k.etcd.Stderr = k.etcdLog, k.etcdLog
	dieWithParent(k.etcd)
	if err := k.etcd.Start(); err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	k.etcdDone = make(chan error, 1)
	go func() { k.etcdDone <- k.etcd.Wait() }()
	if err := waitHTTP(etcdURL+"/health", nil, "", k.etcdDone, 30*time.Second); err != nil {
		return nil, fmt.Errorf("etcd did not become healthy: %w\n--- etcd log ---\n%s", err, k.etcdLog.String())
	}

	// Serving certificate, service-account key pair, token file.
	caPEM, certFile, keyFile, err := kubeServingCert(dir)
	if err != nil {
		return nil, err
	}
	k.CAPEM = caPEM
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		return nil, err
	}
	saPub, saKey, err := kubeServiceAccountKeys(dir)
	if err != nil {
		return nil, err
	}
	k.ServiceAccountKey, _ = os.ReadFile(saPub)
	k.AdminToken, k.LimitedToken = randomHex(24), randomHex(24)
	tokens := filepath.Join(dir, "tokens.csv")
	tokenCSV := fmt.Sprintf("%s,%s,uid-admin,\"system:masters\"\n%s,%s,uid-limited\n",
		k.AdminToken, KubeAdminUser, k.LimitedToken, KubeLimitedUser)
	if err := os.WriteFile(tokens, []byte(tokenCSV), 0o600); err != nil {
		return nil, err
	}

	port, err := freePort()
	if err != nil {
		return nil, err
	}
	k.URL = "https://127.0.0.1:" + strconv.Itoa(port)
	admission, notAdmitted := "NamespaceLifecycle", "ServiceAccount,"
	if serviceAccountAdmission { // for kubelets: pods get their ServiceAccount's pull secrets
		admission, notAdmitted = "NamespaceLifecycle,ServiceAccount", ""
	}
	k.apiserver = exec.Command(apiBin,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(port),
		"--tls-cert-file="+certFile,
		"--tls-private-key-file="+keyFile,
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--token-auth-file="+tokens,
		"--anonymous-auth=false",
		"--authorization-mode=RBAC",
		"--service-account-key-file="+saPub,
		"--service-account-signing-key-file="+saKey,
		"--service-account-issuer="+KubeIssuer,
		"--api-audiences="+KubeIssuer,
		"--service-cluster-ip-range=10.96.0.0/16",
		// NamespaceLifecycle and ValidatingAdmissionPolicy are on (the defaults); plugins
		// that need controllers this harness does not run (or pods to carry tokens) are off.
		"--enable-admission-plugins="+admission,
		"--disable-admission-plugins="+notAdmitted+"DefaultStorageClass,"+
			"DefaultTolerationSeconds,StorageObjectInUseProtection,PersistentVolumeClaimResize,"+
			"RuntimeClass,CertificateApproval,CertificateSigning,CertificateSubjectRestriction,"+
			"DefaultIngressClass,ResourceQuota,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,"+
			"LimitRanger,Priority,TaintNodesByCondition,PodSecurity",
		"--enable-priority-and-fairness=false",
		"--max-requests-inflight=1000",
		"--max-mutating-requests-inflight=500",
		"--profiling=false",
		"--v=0",
	)
	k.apiserver.Stdout, k.apiserver.Stderr = k.apiLog, k.apiLog
	dieWithParent(k.apiserver)
	if err := k.apiserver.Start(); err != nil {
		return nil, fmt.Errorf("start kube-apiserver: %w", err)
	}
	k.apiDone = make(chan error, 1)
	go func() { k.apiDone <- k.apiserver.Wait() }()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	if err := waitHTTP(k.URL+"/readyz", pool, k.AdminToken, k.apiDone, 90*time.Second); err != nil {
		return nil, fmt.Errorf("kube-apiserver did not become ready: %w\n--- kube-apiserver log ---\n%s", err, tail(k.apiLog.String(), 8000))
	}

	k.Config = k.configFor(k.AdminToken)
	k.Client, err = kubernetes.NewForConfig(k.Config)
	if err != nil {
		return nil, err
	}
	if kcmBin != "" {
		if err := k.startControllerManager(kcmBin, caFile, saKey); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// startControllerManager runs kube-controller-manager's serviceaccount,
// serviceaccount-token and namespace controllers (and the one that type-checks
// ValidatingAdmissionPolicies into their status) as the admin, and waits until a new
// namespace gets its default ServiceAccount.
func (k *Kube) startControllerManager(bin, caFile, saKey string) error {
	kubeconfig := filepath.Join(k.dir, "kcm.kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, certificate-authority: %q}
users:
- name: admin
  user: {token: %q}
contexts:
- name: test
  context: {cluster: test, user: admin}
current-context: test
`, k.URL, caFile, k.AdminToken)
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		return err
	}
	k.kcm = exec.Command(bin,
		"--kubeconfig="+kubeconfig,
		"--controllers=serviceaccount,serviceaccount-token,namespace,garbagecollector,validatingadmissionpolicy-status-controller",
		"--leader-elect=false",
		"--secure-port=0",
		"--use-service-account-credentials=false",
		"--service-account-private-key-file="+saKey,
		"--root-ca-file="+caFile,
		"--concurrent-namespace-syncs=20",
		"--concurrent-serviceaccount-token-syncs=10",
		"--kube-api-qps=500",
		"--kube-api-burst=1000",
		"--v=0",
	)
	k.kcm.Stdout, k.kcm.Stderr = k.kcmLog, k.kcmLog
	dieWithParent(k.kcm)
	if err := k.kcm.Start(); err != nil {
		return fmt.Errorf("start kube-controller-manager: %w", err)
	}
	k.kcmDone = make(chan error, 1)
	go func() { k.kcmDone <- k.kcm.Wait() }()
	// Ready when a namespace gets its default ServiceAccount.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	probe := "testenv-kcm-probe"
	if err := createNamespace(ctx, k.Client, probe); err != nil {
		return fmt.Errorf("kube-controller-manager probe namespace: %w", err)
	}
	for {
		if _, err := k.Client.CoreV1().ServiceAccounts(probe).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			break
		}
		select {
		case err := <-k.kcmDone:
			k.kcmDone <- err
			return fmt.Errorf("kube-controller-manager exited: %v\n--- kube-controller-manager log ---\n%s", err, tail(k.kcmLog.String(), 8000))
		case <-ctx.Done():
			return fmt.Errorf("kube-controller-manager made no default ServiceAccount in 90s\n--- kube-controller-manager log ---\n%s", tail(k.kcmLog.String(), 8000))
		case <-time.After(100 * time.Millisecond):
		}
	}
	_ = k.Client.CoreV1().Namespaces().Delete(ctx, probe, metav1.DeleteOptions{})
	k.ControllerManager = true
	return nil
}

func (k *Kube) configFor(token string) *rest.Config {
	return &rest.Config{
		Host:            k.URL,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: k.CAPEM},
		QPS:             1e6,
		Burst:           1e6,
		UserAgent:       "regcred-tests",
	}
}

// AdminConfig returns a fresh copy of the admin's client config, to change (WrapTransport,
// QPS) without affecting other tests.
func (k *Kube) AdminConfig() *rest.Config { return k.configFor(k.AdminToken) }

// LimitedConfig returns the client config of KubeLimitedUser, whom RBAC forbids everything
// beyond discovery.
func (k *Kube) LimitedConfig() *rest.Config { return k.configFor(k.LimitedToken) }

// LimitedClient returns a clientset for KubeLimitedUser.
func (k *Kube) LimitedClient(t testing.TB) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(k.LimitedConfig())
	if err != nil {
		t.Fatalf("testenv: limited client: %v", err)
	}
	return c
}

// Namespace creates a namespace with a name unique within the test binary, starting with
// prefix (a DNS label). It is left in place when the test ends (names are never reused).
func (k *Kube) Namespace(t testing.TB, prefix string) string {
	t.Helper()
	names := k.Namespaces(t, prefix, 1)
	return names[0]
}

// Namespaces creates n namespaces named prefix-SEQ-i, unique within the test binary.
func (k *Kube) Namespaces(t testing.TB, prefix string, n int) []string {
	t.Helper()
	return k.LabeledNamespaces(t, prefix, n, nil)
}

// Selector returns a label (key and value) unique within the test binary, for a test's
// own namespaces (LabeledNamespaces) and the selector "key=value" of the code under test:
// namespaces of other tests, terminating or not, never match it.
func (k *Kube) Selector(t testing.TB) (key, value string) {
	t.Helper()
	k.nsMu.Lock()
	k.nsSeq++
	seq := k.nsSeq
	k.nsMu.Unlock()
	return "regcred-test.io/selector", fmt.Sprintf("s%d-%s", seq, randomHex(4))
}

// LabeledNamespaces creates n namespaces named prefix-SEQ-i carrying labels, created
// 32 at a time.
func (k *Kube) LabeledNamespaces(t testing.TB, prefix string, n int, labels map[string]string) []string {
	t.Helper()
	k.nsMu.Lock()
	k.nsSeq++
	seq := k.nsSeq
	k.nsMu.Unlock()
	names := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d-%d", prefix, seq, i)
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = createLabeledNamespace(context.Background(), k.Client, names[i], labels)
		}(i)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("testenv: create namespaces: %v", err)
	}
	return names
}

// PutServiceAccount creates sa in its namespace or, when it exists (the controller-manager
// makes "default" in every new namespace), sets its imagePullSecrets to sa's. Tests use it
// for ServiceAccounts with content, whatever the controller-manager did first.
func (k *Kube) PutServiceAccount(ctx context.Context, namespace string, sa *corev1.ServiceAccount) (*corev1.ServiceAccount, error) {
	sas := k.Client.CoreV1().ServiceAccounts(namespace)
	for {
		got, err := sas.Create(ctx, sa, metav1.CreateOptions{})
		if err == nil || !apierrors.IsAlreadyExists(err) {
			return got, err
		}
		cur, err := sas.Get(ctx, sa.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		cur.ImagePullSecrets = sa.ImagePullSecrets
		got, err = sas.Update(ctx, cur, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		return got, err
	}
}

// Logs returns the kube-apiserver's output so far, for a failing test's message.
func (k *Kube) Logs() string { return k.apiLog.String() }

// ControllerManagerLogs returns the kube-controller-manager's output so far.
func (k *Kube) ControllerManagerLogs() string { return k.kcmLog.String() }

func (k *Kube) stop() {
	for _, c := range []struct {
		cmd  *exec.Cmd
		done chan error
	}{{k.kcm, k.kcmDone}, {k.apiserver, k.apiDone}, {k.etcd, k.etcdDone}} {
		if c.cmd == nil || c.cmd.Process == nil || c.done == nil {
			continue
		}
		stopProcess(c.cmd.Process, c.done, syscall.SIGTERM, 10*time.Second)
	}
	if k.dir != "" {
		os.RemoveAll(k.dir)
	}
}

// waitHTTP polls url until it answers 200, the process exits or limit passes.
func waitHTTP(url string, roots *x509.CertPool, token string, exited <-chan error, limit time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("process exited: %v", err)
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			b := make([]byte, 512)
			n, _ := resp.Body.Read(b)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status + ": " + string(b[:n])
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %v (last: %s)", url, limit, last)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// kubeServingCert writes a CA and a serving certificate for 127.0.0.1/localhost (and the
// in-cluster names) into dir.
func kubeServingCert(dir string) (caPEM []byte, certFile, keyFile string, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", "", err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "regcred kube test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, "", "", err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, net.IPv4(10, 96, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, "", "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, "", "", err
	}
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	certFile, keyFile = filepath.Join(dir, "apiserver.crt"), filepath.Join(dir, "apiserver.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, "", "", err
	}
	return caPEM, certFile, keyFile, nil
}

// kubeServiceAccountKeys writes an RSA key pair for signing ServiceAccount tokens.
func kubeServiceAccountKeys(dir string) (pubFile, keyFile string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", err
	}
	pubFile, keyFile = filepath.Join(dir, "sa.pub"), filepath.Join(dir, "sa.key")
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return "", "", err
	}
	return pubFile, keyFile, nil
}

func createNamespace(ctx context.Context, c kubernetes.Interface, name string) error {
	return createLabeledNamespace(ctx, c, name, nil)
}

func createLabeledNamespace(ctx context.Context, c kubernetes.Interface, name string, labels map[string]string) error {
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	return err
}
