package nodeconfig_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/nodeconfig"
	"github.com/regcred/regcred/registry"
)

// generate runs Generate with root and fails the test on an error.
func generate(t *testing.T, regs []registry.Registry, rt nodeconfig.Runtime, root string, opts ...nodeconfig.Option) *nodeconfig.Plan {
	t.Helper()
	p, err := nodeconfig.Generate(regs, rt, append([]nodeconfig.Option{nodeconfig.WithRoot(root)}, opts...)...)
	if err != nil {
		t.Fatalf("Generate(%s): %v", rt, err)
	}
	return p
}

// apply generates and writes under root, and returns the plan.
func apply(t *testing.T, regs []registry.Registry, rt nodeconfig.Runtime, root string, opts ...nodeconfig.Option) *nodeconfig.Plan {
	t.Helper()
	p := generate(t, regs, rt, root, opts...)
	if _, err := nodeconfig.Apply(p, root); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return p
}

// file returns the plan's file at node path, or fails.
func file(t *testing.T, p *nodeconfig.Plan, path string) nodeconfig.File {
	t.Helper()
	for _, f := range p.Files {
		if f.Path == path {
			return f
		}
	}
	var paths []string
	for _, f := range p.Files {
		paths = append(paths, f.Path)
	}
	t.Fatalf("plan has no %s; it has %v", path, paths)
	return nodeconfig.File{}
}

// writeNode writes a node file under root, as an operator left it.
func writeNode(t *testing.T, root, path, data string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(root, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

func readNode(t *testing.T, root, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// servedManifest waits until the mirror's access log shows path served, and fails the
// test if it does not within 10 s. docker-registry writes a request's access-log line
// after the response has gone out, so a client can be done before the line is there: a
// read right after the pull once missed it.
func servedManifest(t *testing.T, mirror *testenv.RegistryServer, path string) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !mirror.Served(path) {
		select {
		case <-tick.C:
		case <-deadline:
			t.Errorf("the mirror's log shows no %s served within 10 s:\n%s", path, mirror.Logs())
			return
		}
	}
}
