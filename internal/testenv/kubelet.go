package testenv

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// EnvKubelet names the kubelet binary to use instead of the cached build
// (.ci/kube-apiserver.sh kubelet prints its path).
const EnvKubelet = "REGCRED_KUBELET"

// SandboxImage is the pause image every harness containerd holds locally (PauseImage,
// imported at start) and uses as its CRI sandbox image: nothing is pulled for a sandbox.
const SandboxImage = "regcred.test/pause:1"

// KubeletPath returns the kubelet binary: $REGCRED_KUBELET, else the cache beside
// kube-apiserver's. It returns "" when there is none.
func KubeletPath() string { return kubeBinary(EnvKubelet, "kubelet") }

var kubeletKubeShared = &shared[*Kube]{name: "the Kubernetes control plane for kubelets", stop: func(k *Kube) error { k.stop(); return nil }}

// KubeletMain is KubeMain for a package whose tests run kubelets (StartKubeForKubelet):
// it runs the tests and then stops their shared control plane.
func KubeletMain(m *testing.M) { kubeletKubeShared.main(m) }

// StartKubeForKubelet returns a control plane for tests with kubelets: StartKube's, with
// the ServiceAccount admission plugin on, as in a real cluster, so a pod gets its
// ServiceAccount's imagePullSecrets (and a pod naming a ServiceAccount that does not exist
// is refused). A kube-controller-manager is required (it makes the default ServiceAccounts
// the admission plugin needs). One serves the whole test binary when TestMain calls
// KubeletMain.
func StartKubeForKubelet(t testing.TB) *Kube {
	t.Helper()
	etcd, apiserver, kcm := controlPlaneBinaries(t, true)
	return kubeletKubeShared.get(t, func() (*Kube, error) { return startKube(etcd, apiserver, kcm, true) })
}

// Kubelet is one test's node: a containerd with the CRI plugin (Debian's containerd 1.6 and
// runc) and a kubelet v1.31 (built by .ci/kube-apiserver.sh) registered with the test's API
// server as NodeName. Pods run with hostNetwork (there is no CNI; the node stays NotReady
// for the network, which pods on the host network do not need). Everything is under a
// temporary directory and torn down when the test ends: the kubelet stopped, every CRI task
// killed before containerd stops, the node's cgroups, the kubelet's bind mounts and the
// fixed host paths it created removed, the sysctls it changed restored, the Node deleted.
type Kubelet struct {
	// NodeName is the Node the kubelet registered; pods name it in spec.nodeName.
	NodeName string
	// Containerd is the node's runtime.
	Containerd *Containerd
	// HostsDir is containerd's registry config_path: <host[:port]>/hosts.toml below it
	// configure mirrors and CAs, read at every pull (no restart needed).
	HostsDir string

	kube *Kube
	dir  string
	log  *syncBuffer
}

// KubeletOption configures StartKubelet.
type KubeletOption func(*kubeletConfig)

type kubeletConfig struct {
	providerConfig, providerBinDir string
}

// WithImageCredentialProvider runs the kubelet with --image-credential-provider-config
// config (a CredentialProviderConfig file) and --image-credential-provider-bin-dir binDir.
func WithImageCredentialProvider(config, binDir string) KubeletOption {
	return func(c *kubeletConfig) { c.providerConfig, c.providerBinDir = config, binDir }
}

// StartKubelet starts a containerd and a kubelet registered with k, and waits until the
// Node exists. A missing kubelet, containerd, ctr, runc or shim is Unavailable; a node that
// does not come up fails the test with the kubelet's and containerd's logs. A kubelet
// changes host-wide sysctls and paths, so one runs on the host at a time: StartKubelet
// waits (up to 10 minutes) while a node of another test, or of another test binary, runs.
func StartKubelet(t testing.TB, k *Kube, opts ...KubeletOption) *Kubelet {
	t.Helper()
	bin := KubeletPath()
	if bin == "" {
		Unavailable(t, "kubelet", "run .ci/kube-apiserver.sh kubelet, or set "+EnvKubelet)
	}
	LookPath(t, "runc", "runc")
	LookPath(t, "containerd-shim-runc-v2", "containerd")
	if !kubeletSupported() {
		Unavailable(t, "a Linux host with cgroup v1 for the kubelet", "run the kubelet tests on Linux")
	}
	var cfg kubeletConfig
	for _, o := range opts {
		o(&cfg)
	}
	pauseImg := PauseImage(t)

	dir, err := os.MkdirTemp("", "regcred-node-")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	node := &Kubelet{NodeName: "regcred-node-" + randomHex(4), HostsDir: filepath.Join(dir, "certs.d"), kube: k, dir: dir, log: &syncBuffer{}}
	for _, d := range []string{node.HostsDir, "cni", "opt", "runc", "logs", "volume-plugins", "root", "pki"} {
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}
	// Host state the kubelet changes, put back when the test ends (registered first, so
	// it runs last), one kubelet on the host at a time.
	release, err := lockHost(10 * time.Minute)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatalf("testenv: %v", err)
	}
	host := saveKubeletHost()
	t.Cleanup(func() {
		defer release()
		if err := host.restore(); err != nil {
			t.Errorf("testenv: restore the host after the kubelet: %v", err)
		}
		unmountAll(dir)
		os.RemoveAll(dir)
	})

	// The node's cgroup root, removed after containerd has stopped (cleanups run last
	// registered first).
	cgroupRoot := "/" + node.NodeName
	err = makeCgroupRoot(cgroupRoot)
	t.Cleanup(func() {
		if node.Containerd != nil {
			// A shim whose task was being created as the kubelet stopped outlives the
			// task list; it is ours by the socket it serves.
			killShims(node.Containerd.Address)
		}
		if err := removeCgroupRoot(cgroupRoot); err != nil {
			t.Errorf("testenv: remove the node's cgroups: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("testenv: cgroups for the kubelet: %v", err)
	}

	node.Containerd = StartContainerd(t, WithContainerdConfig([]byte(criConfig(dir, node.HostsDir))))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Kill every CRI task before containerd stops (shims outlive it); registered after
	// StartContainerd, so it runs before containerd's own cleanup.
	t.Cleanup(func() { node.killTasks() })
	if err := node.importPause(ctx, pauseImg); err != nil {
		t.Fatalf("testenv: %v\ncontainerd log:\n%s", err, node.Containerd.Logs())
	}

	kubeconfig, configFile, err := node.writeConfig(cgroupRoot)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	args := []string{
		"--config=" + configFile,
		"--kubeconfig=" + kubeconfig,
		"--root-dir=" + filepath.Join(dir, "root"),
		"--cert-dir=" + filepath.Join(dir, "pki"),
		"--hostname-override=" + node.NodeName,
		"--v=1",
	}
	if cfg.providerConfig != "" {
		args = append(args, "--image-credential-provider-config="+cfg.providerConfig,
			"--image-credential-provider-bin-dir="+cfg.providerBinDir)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = node.log, node.log
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: start kubelet: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		stopProcess(cmd.Process, exited, syscall.SIGTERM, 15*time.Second)
		if t.Failed() {
			t.Logf("kubelet log (%s):\n%s", node.NodeName, tail(node.log.String(), 20000))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = k.Client.CoreV1().Nodes().Delete(ctx, node.NodeName, metav1.DeleteOptions{})
	})

	// Ready when the Node is registered (or the kubelet exits).
	go func() {
		select {
		case err := <-exited:
			exited <- err
			cancel()
		case <-ctx.Done():
		}
	}()
	_, err = watchtools.UntilWithSync(ctx, node.listWatch("nodes", "", fields.OneTermEqualSelector("metadata.name", node.NodeName)),
		&corev1.Node{}, nil, func(ev watch.Event) (bool, error) { return ev.Type != watch.Deleted, nil })
	if err != nil {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("testenv: kubelet exited: %v\nlog:\n%s", err, tail(node.log.String(), 20000))
		default:
		}
		t.Fatalf("testenv: node %s did not register: %v\nkubelet log:\n%s", node.NodeName, err, tail(node.log.String(), 20000))
	}
	return node
}

// criConfig is containerd's config.toml for a kubelet: the CRI plugin with the native
// snapshotter (no overlay inside a container), runc with cgroupfs and its state in dir,
// restrict_oom_score_adj (without CAP_SYS_RESOURCE runc cannot give the sandbox its -998 and
// every sandbox fails with "can't get final child's PID from pipe: EOF"), an empty CNI
// directory, the local pause image as the sandbox image, and hostsDir as the registry
// config_path.
func criConfig(dir, hostsDir string) string {
	return fmt.Sprintf(`version = 2

[plugins."io.containerd.internal.v1.opt"]
  path = %[1]q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[2]q
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = %[3]q
  [plugins."io.containerd.grpc.v1.cri".cni]
    conf_dir = %[4]q
    bin_dir = %[4]q
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = %[5]q
`, filepath.Join(dir, "opt"), SandboxImage, filepath.Join(dir, "runc"), filepath.Join(dir, "cni"), hostsDir)
}

// importPause puts the pause image into the CRI plugin's namespace, unpacked for the
// native snapshotter.
func (n *Kubelet) importPause(ctx context.Context, img v1.Image) error {
	ref, err := name.ParseReference(SandboxImage)
	if err != nil {
		return err
	}
	archive := filepath.Join(n.dir, "pause.tar")
	if err := tarball.WriteToFile(archive, ref, img); err != nil {
		return fmt.Errorf("write the pause image: %w", err)
	}
	if out, err := n.Containerd.CtrNamespace(ctx, "k8s.io", "images", "import", "--snapshotter", "native", archive); err != nil {
		return fmt.Errorf("import the pause image: %w\n%s", err, out)
	}
	return os.Remove(archive)
}

// writeConfig writes the kubelet's kubeconfig (the admin token) and its
// KubeletConfiguration.
func (n *Kubelet) writeConfig(cgroupRoot string) (kubeconfig, config string, err error) {
	kubeconfig = filepath.Join(n.dir, "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, certificate-authority-data: %q}
users:
- name: admin
  user: {token: %q}
contexts:
- name: test
  context: {cluster: test, user: admin}
current-context: test
`, n.kube.URL, base64.StdEncoding.EncodeToString(n.kube.CAPEM), n.kube.AdminToken)
	if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
		return "", "", err
	}
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	healthz, err := freePort()
	if err != nil {
		return "", "", err
	}
	config = filepath.Join(n.dir, "kubelet.yaml")
	c := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: %q
cgroupDriver: cgroupfs
cgroupsPerQOS: true
cgroupRoot: %q
failSwapOn: false
makeIPTablesUtilChains: false
oomScoreAdj: 0
evictionHard: {}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
address: 127.0.0.1
port: %d
healthzBindAddress: 127.0.0.1
healthzPort: %d
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
podLogsDir: %q
volumePluginDir: %q
serializeImagePulls: false
`, "unix://"+n.Containerd.Address, cgroupRoot, port, healthz, filepath.Join(n.dir, "logs"), filepath.Join(n.dir, "volume-plugins"))
	if err := os.WriteFile(config, []byte(c), 0o600); err != nil {
		return "", "", err
	}
	return kubeconfig, config, nil
}

// killTasks kills and deletes every task of the CRI namespace, so no shim or container
// outlives the test.
func (n *Kubelet) killTasks() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := n.Containerd.CtrNamespace(ctx, "k8s.io", "tasks", "ls", "-q")
	if err != nil {
		return
	}
	for _, id := range strings.Fields(out) {
		n.Containerd.CtrNamespace(ctx, "k8s.io", "tasks", "rm", "-f", id)
	}
}

// Logs returns what the kubelet has logged so far.
func (n *Kubelet) Logs() string { return n.log.String() }

func (n *Kubelet) listWatch(resource, namespace string, sel fields.Selector) *cache.ListWatch {
	return cache.NewFilteredListWatchFromClient(n.kube.Client.CoreV1().RESTClient(), resource, namespace,
		func(o *metav1.ListOptions) { o.FieldSelector = sel.String() })
}

// Pod returns a pod for this node that runs image: spec.nodeName set (no scheduler),
// hostNetwork (no CNI), imagePullPolicy Always (every pod pulls, so each is a verdict on
// the credentials it has now), no ServiceAccount token mounted and no grace period. Change
// what the test needs (ServiceAccountName, ImagePullSecrets) before creating it.
func (n *Kubelet) Pod(podName, image string) *corev1.Pod {
	no, zero := false, int64(0)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: podName},
		Spec: corev1.PodSpec{
			NodeName:                      n.NodeName,
			HostNetwork:                   true,
			AutomountServiceAccountToken:  &no,
			TerminationGracePeriodSeconds: &zero,
			RestartPolicy:                 corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "app", Image: image, ImagePullPolicy: corev1.PullAlways,
			}},
		},
	}
}

// Pull is the kubelet's verdict on a pod's image pull, from its own Events.
type Pull struct {
	// Pulled is true after a Pulled event ("Successfully pulled image ..."), false after a
	// Failed one ("Failed to pull image ...").
	Pulled bool
	// Message is the event's message: the registry's 401, the x509 error, ...
	Message string
}

// ErrPodNotRunning is returned by AwaitRunning for a pod whose container will not run.
var ErrPodNotRunning = errors.New("testenv: the pod's container is not running")

// AwaitPull waits for the kubelet's verdict on the image pull of pod (in namespace): its
// first Pulled or "Failed to pull image" Event. ctx bounds the wait.
func (n *Kubelet) AwaitPull(ctx context.Context, namespace, pod string) (Pull, error) {
	var verdict Pull
	_, err := watchtools.UntilWithSync(ctx, n.listWatch("events", namespace, fields.OneTermEqualSelector("involvedObject.name", pod)),
		&corev1.Event{}, nil, func(ev watch.Event) (bool, error) {
			e, ok := ev.Object.(*corev1.Event)
			if !ok || ev.Type == watch.Deleted || e.Source.Component != "kubelet" || e.InvolvedObject.Kind != "Pod" {
				return false, nil
			}
			switch {
			case e.Reason == "Pulled":
				verdict = Pull{Pulled: true, Message: e.Message}
				return true, nil
			case e.Reason == "Failed" && strings.HasPrefix(e.Message, "Failed to pull image"):
				verdict = Pull{Message: e.Message}
				return true, nil
			}
			return false, nil
		})
	if err != nil {
		return Pull{}, fmt.Errorf("testenv: no pull verdict for pod %s/%s from the kubelet: %w", namespace, pod, err)
	}
	return verdict, nil
}

// AwaitRunning waits until the pod's container runs (its status says Running), or fails
// with ErrPodNotRunning when the container is waiting for a reason other than
// ContainerCreating or has terminated.
func (n *Kubelet) AwaitRunning(ctx context.Context, namespace, pod string) (*corev1.Pod, error) {
	var last *corev1.Pod
	_, err := watchtools.UntilWithSync(ctx, n.listWatch("pods", namespace, fields.OneTermEqualSelector("metadata.name", pod)),
		&corev1.Pod{}, nil, func(ev watch.Event) (bool, error) {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok || ev.Type == watch.Deleted {
				return false, nil
			}
			last = p
			for _, cs := range p.Status.ContainerStatuses {
				switch {
				case cs.State.Running != nil:
					return true, nil
				case cs.State.Terminated != nil:
					return false, fmt.Errorf("%w: container %s terminated: %s %s", ErrPodNotRunning, cs.Name, cs.State.Terminated.Reason, cs.State.Terminated.Message)
				case cs.State.Waiting != nil && cs.State.Waiting.Reason != "ContainerCreating":
					return false, fmt.Errorf("%w: container %s waiting: %s %s", ErrPodNotRunning, cs.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message)
				}
			}
			return false, nil
		})
	return last, err
}
