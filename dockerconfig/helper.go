package dockerconfig

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/regcred/regcred/registry"
)

// HelperPrefix is what a credential helper's program name starts with: helper "gcloud" is
// the program docker-credential-gcloud, found in $PATH.
const HelperPrefix = "docker-credential-"

// Get returns the credentials for server (any form Key accepts: "ghcr.io",
// "https://index.docker.io/v1/", "localhost:5000/v2/", an image's registry, ...).
//
// Docker's order: when a credential helper serves the server's host (CredHelpers, else
// CredsStore; see Helper), it is asked first, with the host's key on stdin (HubKey for
// Docker Hub), exactly as docker asks it. A helper's "<token>" username means an identity
// token. When the helper has no credentials, or no helper is configured, the inline
// entry that Lookup finds answers (docker would stop at the helper; regcred also reads
// the entry so a merged file keeps working). An entry with no credential counts as none.
//
// Nothing found: an error that wraps registry.ErrNotFound. A helper that fails (missing
// program, non-zero exit, bad output, ctx done) is an error naming the helper program;
// it does not fall through to the inline entry. The helper runs with ctx: cancelling it
// kills the program. Its stderr is kept for the error text and never printed.
func (c *Config) Get(ctx context.Context, server string) (registry.Credentials, error) {
	key := Key(server)
	if key == "" {
		return registry.Credentials{}, &registry.Error{Op: "get credentials",
			Err: &registry.FieldError{Field: "server", Reason: "is empty", Hint: "give a registry host such as ghcr.io"}}
	}
	if err := ctx.Err(); err != nil {
		return registry.Credentials{}, &registry.Error{Op: "get credentials", Registry: key, Err: err}
	}
	host := hostKey(key)
	notFound := registry.ErrNotFound
	if name := c.Helper(host); name != "" {
		creds, err := runHelper(ctx, name, host)
		if err == nil {
			return creds, nil
		}
		if !errors.Is(err, registry.ErrNotFound) {
			return registry.Credentials{}, err
		}
		notFound = fmt.Errorf("%w in credential helper %s%s nor in auths", registry.ErrNotFound, HelperPrefix, name)
	}
	if _, e, ok := c.Lookup(key); ok && !e.Empty() {
		return e.Credentials(), nil
	}
	return registry.Credentials{}, &registry.Error{Op: "get credentials", Registry: key, Err: notFound}
}

// Helper returns the name of the credential helper that serves server's host: the
// CredHelpers entry for Key(host) (or for a key that names the same host, the smallest
// if several), else CredsStore, else "". Paths play no part: helpers store per host.
func (c *Config) Helper(server string) string {
	host := hostKey(Key(server))
	if name, ok := c.CredHelpers[host]; ok {
		return name
	}
	found := ""
	for k := range c.CredHelpers {
		if hostKey(Key(k)) == host && (found == "" || k < found) {
			found = k
		}
	}
	if found != "" {
		return c.CredHelpers[found]
	}
	return c.CredsStore
}

// validHelperName keeps a config file from naming a path: the program must come from $PATH.
func validHelperName(name string) bool {
	if name == "" || name[0] == '.' || name[0] == '-' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// runHelper runs "docker-credential-NAME get" through docker-credential-helpers' client
// (the protocol's reference implementation), with a ctx-aware program so cancellation
// kills it and its stderr is captured instead of printed.
func runHelper(ctx context.Context, name, serverURL string) (registry.Credentials, error) {
	prog := HelperPrefix + name
	op := "credential helper " + prog
	if !validHelperName(name) {
		return registry.Credentials{}, &registry.Error{Op: "credential helper", Registry: serverURL,
			Err: &registry.FieldError{Field: "credHelpers", Reason: fmt.Sprintf("helper name %q is not a program name", name),
				Hint: "use the suffix of a docker-credential-* program in $PATH, e.g. \"gcloud\""}}
	}
	path, err := exec.LookPath(prog)
	if err != nil {
		return registry.Credentials{}, &registry.Error{Op: op, Registry: serverURL,
			Err: fmt.Errorf("not installed: %w", err)}
	}
	stderr := &headBuffer{}
	pf := func(args ...string) client.Program {
		cmd := exec.CommandContext(ctx, path, args...)
		cmd.Stderr = stderr
		cmd.WaitDelay = 2 * time.Second
		return &helperProgram{cmd: cmd}
	}
	got, err := client.Get(pf, serverURL)
	if err != nil {
		if credentials.IsErrCredentialsNotFound(err) {
			return registry.Credentials{}, &registry.Error{Op: op, Registry: serverURL, Err: registry.ErrNotFound}
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return registry.Credentials{}, &registry.Error{Op: op, Registry: serverURL, Err: ctxErr}
		}
		msg := err.Error()
		if s := stderr.String(); s != "" {
			msg += "; stderr: " + s
		}
		return registry.Credentials{}, &registry.Error{Op: op, Registry: serverURL, Err: errors.New(msg)}
	}
	var c registry.Credentials
	if got.Username == TokenUsername {
		c.IdentityToken = registry.Secret(got.Secret)
	} else {
		c.Username, c.Password = got.Username, registry.Secret(got.Secret)
	}
	if c.Anonymous() {
		return registry.Credentials{}, &registry.Error{Op: op, Registry: serverURL, Err: registry.ErrNotFound}
	}
	return c, nil
}

// helperProgram is a client.Program bound to a context.
type helperProgram struct{ cmd *exec.Cmd }

func (p *helperProgram) Output() ([]byte, error) { return p.cmd.Output() }
func (p *helperProgram) Input(in io.Reader)      { p.cmd.Stdin = in }

var _ client.Program = (*helperProgram)(nil)

// headBuffer keeps the first 512 bytes a helper writes to stderr, as one trimmed line.
type headBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const headLimit = 512

func (t *headBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := headLimit - len(t.buf); room > 0 {
		t.buf = append(t.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (t *headBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(strings.Fields(string(t.buf)), " ")
}
