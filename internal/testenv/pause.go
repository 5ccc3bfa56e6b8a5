package testenv

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// pausePackage is the program PauseImage packs: it waits for SIGTERM.
const pausePackage = "github.com/regcred/regcred/internal/testenv/internal/pause"

var pause struct {
	once sync.Once
	img  v1.Image
	err  error
}

// PauseImage returns a runnable image for this machine's platform whose entrypoint is a
// static program that waits for SIGTERM (internal/pause): the kubelet's sandbox image, and
// an image a test pushes to a registry so that a pod pulling it goes on to run. It is
// built once per test binary with the go command (CGO_ENABLED=0); a missing go command is
// Unavailable.
func PauseImage(t testing.TB) v1.Image {
	t.Helper()
	goBin := LookPath(t, "go", "golang-go")
	pause.once.Do(func() { pause.img, pause.err = buildPause(goBin) })
	if pause.err != nil {
		t.Fatalf("testenv: pause image: %v", pause.err)
	}
	return pause.img
}

func buildPause(goBin string) (v1.Image, error) {
	dir, err := os.MkdirTemp("", "regcred-pause-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "pause")
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pausePackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %v\n%s", pausePackage, err, out)
	}
	prog, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	if err := tw.WriteHeader(&tar.Header{Name: "pause", Mode: 0o755, Size: int64(len(prog)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(prog); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := layer.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config.Entrypoint = []string{"/pause"}
	return mutate.ConfigFile(img, cf)
}
