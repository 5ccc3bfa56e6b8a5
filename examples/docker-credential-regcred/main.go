package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/internal/boundedfile"
	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/keychain"
	"github.com/regcred/regcred/registryfile"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// getTimeout bounds one get, token endpoints included; docker waits on the helper.
const getTimeout = 30 * time.Second

// maxStdin bounds what the helper reads from stdin, the same cap as the kubelet credential
// provider's request: docker sends a server URL (get, erase) or one small JSON (store).
const maxStdin = 1 << 20

// maxServerURL bounds the server URL of a get: a host is at most 253 bytes; with a scheme,
// port and path 2 KiB is plenty. A longer input is refused without being echoed.
const maxServerURL = 2048

// errReadOnly is the answer to store and erase.
var errReadOnly = errors.New("docker-credential-regcred is read-only: credentials come from the registries file " +
	"($REGCRED_CONFIG or ~/.config/regcred/registries.yaml); change the saved registry there instead of running docker login/logout")

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one action and returns the exit status. Like the reference helpers, errors
// are written to stdout, where docker reads them.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "Usage: docker-credential-regcred <get|list|store|erase|version>")
		return 1
	}
	credentials.Name = "docker-credential-regcred"
	credentials.Package = "github.com/regcred/regcred/examples/docker-credential-regcred"
	credentials.Version = version
	action := args[0]
	var h credentials.Helper = &helper{ctx: ctx, path: registryfile.Path("")}
	if err := credentials.HandleCommand(h, action, boundedfile.NewReader(stdin, maxStdin), stdout); err != nil {
		if errors.Is(err, boundedfile.ErrTooLarge) {
			err = fmt.Errorf("docker-credential-regcred: stdin is too large (at most %s): docker sends one server URL", boundedfile.Size(maxStdin))
		}
		fmt.Fprintln(stdout, err)
		return 1
	}
	return 0
}

// helper answers from the registries file. It loads the file on first use: docker runs one
// process per question.
type helper struct {
	ctx    context.Context
	path   string
	kc     *keychain.Keychain
	regs   []registry.Registry
	loaded bool
	err    error
}

var _ credentials.Helper = (*helper)(nil)

func (h *helper) load() error {
	if h.loaded {
		return h.err
	}
	h.loaded = true
	h.regs, h.err = registryfile.Load(h.path)
	if h.err == nil {
		factory := withTokenCache(h.path, providers.Factory())
		h.kc, h.err = keychain.New(h.regs, keychain.WithProviderFactory(factory))
	}
	return h.err
}

// Add refuses: see errReadOnly.
func (h *helper) Add(*credentials.Credentials) error { return errReadOnly }

// Delete refuses: see errReadOnly.
func (h *helper) Delete(string) error { return errReadOnly }

// Get returns the username and secret for serverURL.
func (h *helper) Get(serverURL string) (string, string, error) {
	if len(serverURL) > maxServerURL || strings.ContainsFunc(serverURL, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", "", fmt.Errorf("the server URL on stdin is not a registry address (%d bytes); docker sends a host such as ghcr.io", len(serverURL))
	}
	if err := h.load(); err != nil {
		return "", "", err
	}
	ctx, cancel := context.WithTimeout(h.ctx, getTimeout)
	defer cancel()
	c, r, err := h.kc.Credentials(ctx, matchKey(serverURL))
	if err != nil {
		return "", "", err
	}
	if r.Name == "" && r.ID == "" || c.Anonymous() {
		return "", "", credentials.NewErrCredentialsNotFound()
	}
	switch {
	case c.IdentityToken != "":
		return dockerconfig.TokenUsername, c.IdentityToken.Reveal(), nil
	case c.Password != "":
		return c.Username, c.Password.Reveal(), nil
	}
	return "", "", fmt.Errorf("registry %q gives a bearer registry token, which the credential helper protocol cannot carry; use the regcred library or a docker config with \"registrytoken\"", r.Name)
}

// List returns server -> username for the saved registries with a concrete host.
func (h *helper) List() (map[string]string, error) {
	if err := h.load(); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range h.regs {
		s, err := r.ServerInfo()
		if err != nil || s.Wildcard || r.Kind == registry.KindPublic {
			continue
		}
		out[dockerconfig.Key(s.String())] = r.Fields["username"]
	}
	return out, nil
}

// matchKey turns what docker passes ("https://index.docker.io/v1/", "http://host:5000",
// "host:5000") into what the keychain matches: a bare host[/path].
func matchKey(serverURL string) string {
	k := dockerconfig.Key(serverURL)
	if k == dockerconfig.HubKey {
		return "docker.io"
	}
	return strings.TrimSuffix(k, "/")
}
