package swarm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/containerd/errdefs"
	dockerswarm "github.com/docker/docker/api/types/swarm"

	"github.com/regcred/regcred/registry"
)

// hostile is what a hostile registry can make the daemon quote: a terminal escape that
// clears the screen, a window-title OSC, a bidi override and a newline that forges a line.
const hostile = "unauthorized: \x1b[2J\x1b]0;pwned\x07 \u202etxt.exe\nregcred: Login Succeeded"

func assertTerminalSafe(t *testing.T, what, s string) {
	t.Helper()
	for _, bad := range []string{"\x1b", "\x07", "\u202e", "\n"} {
		if strings.Contains(s, bad) {
			t.Errorf("%s carries %q raw: %q", what, bad, s)
		}
	}
	if !strings.Contains(s, `\x1b`) {
		t.Errorf("%s lost the escape instead of showing it escaped: %q", what, s)
	}
}

// The daemon's messages reach error texts, statuses and warnings bounded and escaped.
func TestDaemonTextIsBoundedAndEscaped(t *testing.T) {
	ctx := context.Background()
	insecure := WithTLS(registry.TLS{Mode: registry.TLSInsecure})

	f := &fakeEngine{loginErr: errdefs.ErrUnauthenticated.WithMessage(hostile + " hunter22")}
	_, err := Login(ctx, f, "r.example", creds, insecure)
	assertTerminalSafe(t, "Login error", err.Error())
	if strings.Contains(err.Error(), "hunter22") {
		t.Errorf("the password survived: %v", err)
	}

	f = &fakeEngine{loginStatus: hostile}
	res, err := Login(ctx, f, "r.example", creds, insecure)
	if err != nil {
		t.Fatal(err)
	}
	assertTerminalSafe(t, "Login status", res.Status)

	long := strings.Repeat("x", 100000) + "\x1b[2J"
	f = &fakeEngine{loginErr: errdefs.ErrUnknown.WithMessage(long)}
	_, err = Login(ctx, f, "r.example", creds, insecure)
	if n := utf8.RuneCountInString(err.Error()); n > maxVerdictRunes+200 {
		t.Errorf("a %d-byte daemon message gives a %d-rune error", len(long), n)
	}

	f = &fakeEngine{warnings: []string{hostile}, service: dockerswarm.Service{ID: "svc1", Spec: serviceSpec("r.example/web:1")}}
	_, ws, err := CreateService(ctx, f, serviceSpec("r.example/web:1"), "", insecure)
	if err != nil || len(ws) != 1 {
		t.Fatalf("CreateService: %v %q", err, ws)
	}
	assertTerminalSafe(t, "CreateService warning", ws[0])
	ws, err = UpdateServiceAuth(ctx, f, "web", mustEncode(t, creds, "r.example"), insecure)
	if err != nil || len(ws) != 1 {
		t.Fatalf("UpdateServiceAuth: %v %q", err, ws)
	}
	assertTerminalSafe(t, "UpdateServiceAuth warning", ws[0])

	// The docker CLI prints the daemon's message; it comes back escaped too.
	dir := t.TempDir()
	fake := filepath.Join(dir, "docker")
	script := "#!/bin/sh\ncat >/dev/null\nprintf 'Error response from daemon: unauthorized: \\033[2J\\033]0;pwned\\007 bad\\n' >&2\nexit 1\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	err = CLILogin(ctx, t.TempDir(), "r.example", creds, WithDockerBinary(fake), insecure)
	if err == nil {
		t.Fatal("CLILogin succeeded with a failing CLI")
	}
	assertTerminalSafe(t, "CLILogin error", err.Error())
}
