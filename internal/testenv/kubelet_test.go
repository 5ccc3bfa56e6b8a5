package testenv

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubeletLeavesNothing: a node that ran a pod leaves nothing on the host once its test
// has ended: no shim or container of its containerd, no cgroup of its cgroupRoot in any
// hierarchy, no mount at or below its directory (the kubelet's rshared bind of its root
// directory), not the directory itself, the sysctls the kubelet changed as they were, no
// fixed path the kubelet created, and no Node object.
func TestKubeletLeavesNothing(t *testing.T) {
	k := StartKubeForKubelet(t)
	// The host as no kubelet has it: read under the host lock, so another test binary's
	// kubelet (which holds the lock while it runs) has restored what it changed.
	hold, err := lockHost(10 * time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	sysctls := map[string]string{}
	for _, s := range kubeletSysctls {
		b, err := os.ReadFile("/proc/sys/" + s)
		if err != nil {
			t.Fatal(err)
		}
		sysctls[s] = string(b)
	}
	var absent []string
	for _, chain := range kubeletFixedPaths {
		for _, p := range chain {
			if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
				absent = append(absent, p)
			}
		}
	}
	hold()

	var node *Kubelet
	changed := false
	t.Run("node", func(t *testing.T) {
		node = StartKubelet(t, k)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		ns := k.Namespace(t, "kubelet")
		if _, err := k.PutServiceAccount(ctx, ns, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "runner"}}); err != nil {
			t.Fatal(err)
		}
		p := node.Pod("pause", SandboxImage)
		p.Spec.ServiceAccountName = "runner"
		p.Spec.Containers[0].ImagePullPolicy = corev1.PullNever // the node's own sandbox image
		if _, err := k.Client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := node.AwaitRunning(ctx, ns, p.Name); err != nil {
			t.Fatal(err)
		}
		for s, v := range sysctls {
			if b, _ := os.ReadFile("/proc/sys/" + s); string(b) != v {
				changed = true // the kubelet did change one: the restore below is tested
			}
		}
	})
	if node == nil || t.Failed() {
		return
	}
	if !changed {
		t.Errorf("the kubelet changed none of the sysctls %v: their restore is not tested", kubeletSysctls)
	}
	// Another test binary's kubelet may start as soon as this one's released the host.
	release, err := lockHost(10 * time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	for s, v := range sysctls {
		if b, _ := os.ReadFile("/proc/sys/" + s); string(b) != v {
			t.Errorf("sysctl %s is %q, was %q before the kubelet", s, strings.TrimSpace(string(b)), strings.TrimSpace(v))
		}
	}
	for _, p := range absent {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was created by the kubelet and left behind", p)
		}
	}
	for _, m := range cgroupMounts("cgroup", "cgroup2") {
		if _, err := os.Stat(filepath.Join(m, node.NodeName)); err == nil {
			t.Errorf("cgroup %s left behind", filepath.Join(m, node.NodeName))
		}
	}
	if b, err := os.ReadFile("/proc/self/mounts"); err == nil && strings.Contains(string(b), node.dir) {
		t.Errorf("mounts under %s left behind:\n%s", node.dir, b)
	}
	if _, err := os.Stat(node.dir); err == nil {
		t.Errorf("%s left behind", node.dir)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), node.Containerd.Address) {
			t.Errorf("process %s of the node's containerd left behind: %q", filepath.Base(filepath.Dir(p)), b)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := k.Client.CoreV1().Nodes().Get(ctx, node.NodeName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Node %s: %v, want it deleted", node.NodeName, err)
	}
}
