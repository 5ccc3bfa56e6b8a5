package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBuiltBinary runs the real binary (built once) through the input bounds and the
// on-disk token cache.
func TestBuiltBinary(t *testing.T) {
	bin := buildHelper(t)
	t.Run("stdin is bounded", func(t *testing.T) { testStdinIsBounded(t, bin) })
	t.Run("registries file is a FIFO", func(t *testing.T) { testRegistriesFileFIFO(t, bin) })
	t.Run("token cache", func(t *testing.T) { testTokenCache(t, bin) })
}

// buildHelper builds docker-credential-regcred and returns its path: these tests run the
// real binary, one process per call, as docker does.
func buildHelper(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "docker-credential-regcred")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// helperProc runs the binary with env and stdin, within 30 s (a FIFO hung it forever).
func helperProc(t *testing.T, bin string, env []string, stdin io.Reader, action string) (stdout string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, action)
	cmd.Env = env
	cmd.Stdin = stdin
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s did not end within 30 s", bin, action)
	}
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("%s %s: %v", bin, action, err)
	}
	return out.String(), code
}

// countingWriter counts what the helper took from its stdin pipe.
type endlessInput struct {
	mu sync.Mutex
	n  int64
}

func (e *endlessInput) Read(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n >= 100<<20 {
		return 0, io.EOF
	}
	for i := range p {
		p[i] = 'a'
		if i%1000 == 999 {
			p[i] = '\n' // lines, so bufio.Scanner keeps reading (the path that grew without bound)
		}
	}
	if rest := 100<<20 - e.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	e.n += int64(len(p))
	return len(p), nil
}

func (e *endlessInput) read() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

// 100 MB on stdin was read whole and echoed back in the error. It must be refused after
// the kubelet plugin's 1 MiB cap, without echo: the bytes the process took from the pipe
// show that it stopped reading.
func testStdinIsBounded(t *testing.T, bin string) {
	cfg := filepath.Join(t.TempDir(), "registries.yaml")
	os.WriteFile(cfg, []byte("- {name: hub, type: public}\n"), 0o600)
	env := []string{"REGCRED_CONFIG=" + cfg, "HOME=" + t.TempDir(), "XDG_CACHE_HOME=" + t.TempDir()}
	for _, action := range []string{"get", "store", "erase"} {
		t.Run(action, func(t *testing.T) {
			in := &endlessInput{}
			out, code := helperProc(t, bin, env, in, action)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if want := "docker-credential-regcred: stdin is too large (at most 1 MiB): docker sends one server URL\n"; out != want {
				t.Errorf("stdout %.300q, want %q", out, want)
			}
			// exec copies stdin through a pipe (64 KiB) in 32 KiB chunks: allow those.
			if n := in.read(); n > maxStdin+256<<10 {
				t.Errorf("the helper took %d bytes of stdin; the cap is %d", n, maxStdin)
			}
		})
	}
	t.Run("long server URL is not echoed", func(t *testing.T) {
		out, code := helperProc(t, bin, env, strings.NewReader(strings.Repeat("x", 5000)+"\n"), "get")
		if code != 1 || strings.Contains(out, "xxxx") || !strings.Contains(out, "not a registry address (5000 bytes)") {
			t.Errorf("exit %d stdout %.300q", code, out)
		}
	})
	t.Run("list does not read stdin", func(t *testing.T) {
		out, code := helperProc(t, bin, env, &endlessInput{}, "list")
		if code != 0 || strings.TrimSpace(out) != "{}" {
			t.Errorf("exit %d stdout %.300q", code, out)
		}
	})
}

// The registries file of the helper ($REGCRED_CONFIG) is refused at once when it is a FIFO.
func testRegistriesFileFIFO(t *testing.T, bin string) {
	fifo := filepath.Join(t.TempDir(), "registries.yaml")
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	env := []string{"REGCRED_CONFIG=" + fifo, "HOME=" + t.TempDir(), "XDG_CACHE_HOME=" + t.TempDir()}
	out, code := helperProc(t, bin, env, strings.NewReader("ghcr.io\n"), "get")
	if want := fifo + ": the registries file is a named pipe (FIFO), not a regular file"; code != 1 || !strings.Contains(out, want) {
		t.Errorf("exit %d stdout %q; want %q", code, out, want)
	}
}

// fakeECR answers ECR's GetAuthorizationToken in its wire format (AWS JSON 1.1, SigV4
// header scoped to the region and service) and counts the tokens it issues. The full
// signature check lives in providers/internal/fakecloud, which this package cannot import;
// here the request shape and the credential scope are checked.
type fakeECR struct {
	srv      *httptest.Server
	mu       sync.Mutex
	issued   int
	lifetime time.Duration
	fail     bool
}

func newFakeECR(t *testing.T) *fakeECR {
	f := &fakeECR{lifetime: 12 * time.Hour}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeECR) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, typ, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
	}
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken" ||
		r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		fail(http.StatusBadRequest, "UnknownOperationException", "not GetAuthorizationToken")
		return
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+testKeyID+"/") || !strings.Contains(auth, "/us-east-1/ecr/aws4_request") {
		fail(http.StatusBadRequest, "UnrecognizedClientException", "bad credential scope")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		fail(http.StatusInternalServerError, "ServerException", "down")
		return
	}
	f.issued++
	tok := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("AWS:ECRTOKEN%04d", f.issued)))
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(map[string]any{"authorizationData": []map[string]any{{
		"authorizationToken": tok,
		"expiresAt":          float64(time.Now().Add(f.lifetime).Unix()),
		"proxyEndpoint":      "https://" + ecrHost,
	}}})
}

func (f *fakeECR) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued
}

func (f *fakeECR) setFail(b bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = b
}
