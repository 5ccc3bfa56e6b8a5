package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/internal/testenv"
)

// TestFailoverAfterKillingTheLeader runs two replicas of the binary with the manifests'
// ServiceAccount token and --leader-elect, kills the leader with SIGKILL (it cannot
// release the Lease), and checks the follower acts within the lease duration + 2 s.
func TestFailoverAfterKillingTheLeader(t *testing.T) {
	k := testenv.StartKube(t)
	k.RequireControllerManager(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kubeconfig, regs := serviceAccountSetup(ctx, t, k)
	bin := filepath.Join(t.TempDir(), "regcred-controller")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	key, val := k.Selector(t)
	const lease, retry = 3 * time.Second, 500 * time.Millisecond
	type replica struct {
		cmd  *exec.Cmd
		addr string
		log  *syncWriter
		done chan struct{}
	}
	start := func(id string) *replica {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		r := &replica{addr: addr, log: &syncWriter{}, done: make(chan struct{})}
		r.cmd = exec.Command(bin, "--kubeconfig", kubeconfig, "--registries", regs,
			"--namespace-selector", key+"="+val, "--managed-by", "regcred-"+val,
			"--leader-elect", "--leader-elect-namespace", systemNS, "--leader-elect-identity", id,
			"--lease-duration", lease.String(), "--renew-deadline", "2s", "--retry-period", retry.String(),
			"--listen", addr)
		r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { r.cmd.Wait(); close(r.done) }()
		t.Cleanup(func() {
			r.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-r.done:
			case <-time.After(10 * time.Second):
				r.cmd.Process.Kill()
				<-r.done
			}
		})
		return r
	}
	state := func(r *replica) string {
		resp, err := http.Get("http://" + r.addr + "/readyz")
		if err != nil {
			return "down"
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(b))
	}
	a := start("replica-a")
	fixture.Eventually(t, 30*time.Second, "replica a leads", func() error {
		if s := state(a); !strings.Contains(s, "leading") {
			return fmt.Errorf("a: %s", s)
		}
		return nil
	})
	b := start("replica-b")
	fixture.Eventually(t, 30*time.Second, "replica b stands by", func() error {
		if s := state(b); !strings.Contains(s, "standing by") {
			return fmt.Errorf("b: %s", s)
		}
		return nil
	})
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.done
	killed := time.Now()
	fixture.Eventually(t, lease+10*time.Second, "replica b takes over", func() error {
		if s := state(b); !strings.Contains(s, "leading") {
			return fmt.Errorf("b: %s", s)
		}
		return nil
	})
	took := time.Since(killed)
	t.Logf("failover after SIGKILL of the leader: %v (lease %v, retry %v)", took.Round(10*time.Millisecond), lease, retry)
	if took > lease+2*time.Second {
		t.Errorf("failover took %v, want within the lease duration + 2s", took)
	}
	ns := k.LabeledNamespaces(t, "failover", 1, map[string]string{key: val})[0]
	fixture.Eventually(t, 10*time.Second, "the new leader syncs", func() error {
		sa, err := k.Client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, r := range sa.ImagePullSecrets {
			if r.Name == "registry-secret-acme" {
				return nil
			}
		}
		return fmt.Errorf("not patched: %v", sa.ImagePullSecrets)
	})
	if _, err := k.Client.CoreV1().Secrets(ns).Get(ctx, "registry-secret-acme", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
}
