package nodeconfig_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regcred/regcred/nodeconfig"
	"github.com/regcred/regcred/registry"
)

// insecureLab is one skip-verify registry: every runtime writes a file for it.
func insecureLab() []registry.Registry {
	return []registry.Registry{{ID: "lab", Name: "Lab", Kind: registry.KindPublic, Server: "lab.internal:5000", TLS: registry.TLS{Mode: registry.TLSInsecure}}}
}

// outsideFile is a file outside every root, as an operator's secret would be.
func outsideFile(t *testing.T, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// untouched fails unless the file at p still holds data with mode 0600.
func untouched(t *testing.T, p, data string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil || string(b) != data {
		t.Errorf("the file outside the root changed: %q, %v", b, err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the file outside the root changed mode: %v, %v", fi.Mode().Perm(), err)
	}
}

// Issue 19: with --root, a symlink in the tree that leads out of it (absolute, or
// relative through "..", as the file or as any directory above it) is refused for reads
// and writes with ErrOutsideRoot; nothing outside is read, written or chmod-ed. A link
// that stays inside the root is followed.
func TestRootNeverLeavesTheTree(t *testing.T) {
	const secret = "password = \"outside-s3cret\"\n"
	cases := []struct {
		name string
		link func(t *testing.T, root, outside string) // makes the tree
		rt   nodeconfig.Runtime
	}{
		{"absolute file link", func(t *testing.T, root, outside string) {
			symlink(t, outside, filepath.Join(root, "etc/docker/daemon.json"))
		}, nodeconfig.Docker},
		{"relative file link through ..", func(t *testing.T, root, outside string) {
			rel, err := filepath.Rel(filepath.Join(root, "etc/docker"), outside)
			if err != nil {
				t.Fatal(err)
			}
			symlink(t, rel, filepath.Join(root, "etc/docker/daemon.json"))
		}, nodeconfig.Docker},
		{"absolute directory link", func(t *testing.T, root, outside string) {
			symlink(t, filepath.Dir(outside), filepath.Join(root, "etc/containers"))
		}, nodeconfig.CRIO},
		{"link of the written file's directory", func(t *testing.T, root, outside string) {
			symlink(t, filepath.Dir(outside), filepath.Join(root, "etc/rancher/k3s"))
		}, nodeconfig.K3s},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			outside := outsideFile(t, secret)
			tc.link(t, root, outside)
			p, err := nodeconfig.Generate(insecureLab(), tc.rt, nodeconfig.WithRoot(root))
			if err == nil {
				_, err = nodeconfig.Apply(p, root)
			}
			if !errors.Is(err, nodeconfig.ErrOutsideRoot) {
				t.Fatalf("got %v, want ErrOutsideRoot", err)
			}
			if !strings.Contains(err.Error(), "symlink") || !strings.Contains(err.Error(), "outside") {
				t.Errorf("the error does not say what is wrong: %v", err)
			}
			untouched(t, outside, secret)
			entries, _ := os.ReadDir(filepath.Dir(outside))
			if len(entries) != 1 {
				t.Errorf("files appeared outside the root: %v", entries)
			}
		})
	}

	t.Run("a link inside the root is followed", func(t *testing.T) {
		root := t.TempDir()
		writeNode(t, root, "/etc/docker/daemon.real.json", `{"debug": true}`, 0o644)
		symlink(t, "daemon.real.json", filepath.Join(root, "etc/docker/daemon.json"))
		apply(t, insecureLab(), nodeconfig.Docker, root)
		if fi, err := os.Lstat(filepath.Join(root, "etc/docker/daemon.json")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the link was replaced: %v", err)
		}
		if b := readNode(t, root, "/etc/docker/daemon.real.json"); !bytes.Contains(b, []byte("lab.internal:5000")) || !bytes.Contains(b, []byte("debug")) {
			t.Errorf("the link's target was not merged into:\n%s", b)
		}
	})
}

// Issue 19: Diff (node-config --dry-run) never prints a secret it read from an existing
// file: containerd's config.toml registry auth, a proxy URL's password in daemon.json.
func TestDiffRedactsSecretsReadFromNodeFiles(t *testing.T) {
	cases := []struct {
		rt         nodeconfig.Runtime
		path, data string
		secrets    []string
	}{
		{nodeconfig.Containerd, nodeconfig.ContainerdConfigFile, `version = 2
[plugins."io.containerd.grpc.v1.cri".registry.configs."r.internal".auth]
  username = "ci"
  password = "toml-s3cret"
  auth = "Y2k6dG9tbC1zM2NyZXQ="
  identitytoken = "toml-idtoken-s3cret"
`, []string{"toml-s3cret", "Y2k6dG9tbC1zM2NyZXQ=", "toml-idtoken-s3cret"}},
		{nodeconfig.Docker, nodeconfig.DockerDaemonJSON, `{"proxies": {"http-proxy": "http://proxyuser:json-s3cret@proxy.internal:3128"}, "registry-mirrors": ["https://mirroruser:mirror-s3cret@m.internal"]}`,
			[]string{"json-s3cret", "mirror-s3cret"}},
	}
	for _, tc := range cases {
		t.Run(string(tc.rt), func(t *testing.T) {
			root := t.TempDir()
			writeNode(t, root, tc.path, tc.data, 0o600)
			p := generate(t, insecureLab(), tc.rt, root)
			var buf bytes.Buffer
			if _, err := nodeconfig.Diff(&buf, p, root); err != nil {
				t.Fatal(err)
			}
			out := buf.String() + strings.Join(p.Warnings, "\n")
			for _, s := range tc.secrets {
				if strings.Contains(out, s) {
					t.Errorf("the dry run shows %q:\n%s", s, out)
				}
			}
			// Only the change shows: the node's other settings are context, not a rewrite.
			if !strings.Contains(out, "+") || !strings.Contains(out, "lab.internal:5000") || strings.Contains(out, "-[") || strings.Contains(out, "-  \"") {
				t.Errorf("the diff does not show just the change:\n%s", out)
			}
			// Apply still writes the real values: only the display is redacted.
			apply(t, insecureLab(), tc.rt, root)
			if b := readNode(t, root, tc.path); !bytes.Contains(b, []byte(tc.secrets[0])) {
				t.Errorf("Apply lost the node's own secret:\n%s", b)
			}
		})
	}
}

// Issue 19: on an empty root, the directories Apply creates are 0755 (as a node's /etc,
// /etc/rancher and /etc/rancher/k3s are), also above a 0600 file.
func TestApplyDirectoryModesOnEmptyRoot(t *testing.T) {
	for _, rt := range nodeconfig.Runtimes() {
		t.Run(string(rt), func(t *testing.T) {
			root := t.TempDir()
			p := apply(t, insecureLab(), rt, root)
			for _, f := range p.Files {
				for d := filepath.Dir(f.Path); d != "/"; d = filepath.Dir(d) {
					fi, err := os.Stat(filepath.Join(root, d))
					if err != nil {
						t.Fatal(err)
					}
					if fi.Mode().Perm() != 0o755 {
						t.Errorf("%s: mode %04o, want 0755", d, fi.Mode().Perm())
					}
				}
			}
		})
	}
}
